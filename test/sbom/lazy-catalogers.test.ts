/**
 * Catalogers other than os-release and npm load when a file they select turns up. The lazy entry's
 * `select` must be the loaded cataloger's own, a cataloger that never loads must be one that would
 * have reported nothing (finish of no records is empty), and a directory walk must wait for a
 * cataloger that is still loading instead of dropping its file.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CATALOGERS } from '../../src/sbom/catalogers/index.js';
import { isLoaded, type Cataloger } from '../../src/sbom/catalogers/cataloger.js';
import { ViewBuilder } from '../../src/sbom/view.js';
import { catalogTarget } from '../../src/sbom/scan.js';
import { directoryTarget } from '../../src/sbom/sources/directory.js';
import { NO_PROGRESS } from '../../src/sbom/sources/source.js';
import { goToolBinary, tempDir } from '../helpers/sbom-fixtures.js';

const work = tempDir('sbom-lazy');
after(() => rmSync(work, { recursive: true, force: true }));

test('lazy catalogers: the loaded module has the entry name and select, and reports nothing without records', async () => {
  const names = new Set<string>();
  for (const ref of DEFAULT_CATALOGERS) {
    const cat: Cataloger = isLoaded(ref) ? ref : await ref.load();
    assert.equal(cat.name, ref.name);
    assert.equal(cat.select, ref.select, `${ref.name}: select must be the same function`);
    names.add(cat.name);
    const out = cat.finish(new Map(), { os: undefined, warn: () => assert.fail(`${ref.name} warned without records`), resolve: (p) => p });
    assert.deepEqual(out, { packages: [], edges: [] }, ref.name);
  }
  assert.equal(names.size, DEFAULT_CATALOGERS.length);
  assert.deepEqual(
    DEFAULT_CATALOGERS.filter(isLoaded).map((c) => c.name),
    ['os-release', 'npm'],
  );
});

test('lazy catalogers: a directory walk loads only what its files need, and waits for it', async () => {
  const dir = join(work, 'mixed');
  mkdirSync(join(dir, 'app'), { recursive: true });
  writeFileSync(join(dir, 'app', 'Cargo.lock'), 'version = 3\n\n[[package]]\nname = "serde"\nversion = "1.0.200"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n');
  copyFileSync(goToolBinary(), join(dir, 'app', 'gofmt'));
  const view = new ViewBuilder(DEFAULT_CATALOGERS, []);
  await directoryTarget(dir).walk(view, NO_PROGRESS);
  const loaded = DEFAULT_CATALOGERS.map((c, i) => (view.catalogerAt(i) ? c.name : undefined)).filter(Boolean);
  assert.deepEqual(loaded, ['os-release', 'npm', 'go-binary', 'cargo']);

  const r = await catalogTarget(directoryTarget(dir), { catalogers: DEFAULT_CATALOGERS });
  assert.deepEqual(r.warnings, []);
  assert.ok(r.packages.some((p) => p.kind === 'cargo' && p.name === 'serde' && p.version === '1.0.200'));
  assert.ok(r.packages.some((p) => p.kind === 'golang' && p.name === 'stdlib'));
});
