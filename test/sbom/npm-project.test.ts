/**
 * Ground truth: a Node project installed from the npm registry with a lockfile (≥ 300 packages).
 * The npm packages of the SBOM must equal `npm ls --all --json` (name@version set), and every
 * parent → child edge of npm's tree must be a DEPENDS_ON edge in the SBOM. Without node_modules
 * the lockfile alone must give the same set.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { nodeProject, tempDir } from '../helpers/sbom-fixtures.js';
import { runSigil } from '../helpers/cli-run.js';
import { cyclonedxValidator, spdxValidator } from '../helpers/sbom-schemas.js';

interface NpmLsNode {
  version?: string;
  dependencies?: Record<string, NpmLsNode>;
}

let project: string;
let truth: Set<string>;
let truthEdges: Set<string>;
const work = tempDir('sbom-npm');

before(async () => {
  project = await nodeProject();
  const ls = JSON.parse(execFileSync('npm', ['ls', '--all', '--json'], { cwd: project, encoding: 'utf8', maxBuffer: 64 << 20 })) as NpmLsNode;
  truth = new Set();
  truthEdges = new Set();
  const walk = (parent: string | undefined, n: NpmLsNode) => {
    for (const [name, child] of Object.entries(n.dependencies ?? {})) {
      if (!child.version) continue;
      const id = `${name}@${child.version}`;
      truth.add(id);
      if (parent) truthEdges.add(`${parent} -> ${id}`);
      walk(id, child);
    }
  };
  walk(undefined, ls);
  assert.ok(truth.size >= 300, `fixture has only ${truth.size} packages`);
});

after(() => rmSync(work, { recursive: true, force: true }));

interface Spdx {
  packages: { SPDXID: string; name: string; versionInfo?: string; externalRefs?: { referenceLocator: string }[]; comment?: string; checksums?: unknown[] }[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

function npmSet(doc: Spdx): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of doc.packages) {
    if (!p.externalRefs?.some((r) => r.referenceLocator.startsWith('pkg:npm/'))) continue;
    if (p.comment?.includes('sigil:npm-project-root=true')) continue;
    m.set(p.SPDXID, `${p.name}@${p.versionInfo}`);
  }
  return m;
}

test('node project: npm packages equal npm ls --all (100% recall and precision), edges cover npm tree', async () => {
  const out = join(work, 'np.spdx.json');
  const r = await runSigil(['sbom', project, '--output-file', out], { SOURCE_DATE_EPOCH: '0' });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(out, 'utf8')) as Spdx;
  assert.deepEqual(spdxValidator()(doc), []);
  const ids = npmSet(doc);
  const found = new Set(ids.values());
  assert.deepEqual({ missing: [...truth].filter((x) => !found.has(x)), extra: [...found].filter((x) => !truth.has(x)) }, { missing: [], extra: [] });
  const edges = new Set(
    doc.relationships.filter((x) => x.relationshipType === 'DEPENDS_ON' && ids.has(x.spdxElementId) && ids.has(x.relatedSpdxElement)).map((x) => `${ids.get(x.spdxElementId)} -> ${ids.get(x.relatedSpdxElement)}`),
  );
  const missingEdges = [...truthEdges].filter((e) => !edges.has(e));
  assert.deepEqual(missingEdges, []);
  // integrity from the lockfile → SHA-512 checksums
  assert.ok(doc.packages.filter((p) => p.checksums).length >= truth.size * 0.95);
  const root = doc.packages.find((p) => p.comment?.includes('sigil:npm-project-root=true'));
  assert.equal(root?.name, 'sigil-sbom-fixture');
});

test('node project: the lockfile alone gives the same packages', async () => {
  const dir = tempDir('sbom-npm-lock');
  try {
    copyFileSync(join(project, 'package.json'), join(dir, 'package.json'));
    copyFileSync(join(project, 'package-lock.json'), join(dir, 'package-lock.json'));
    const r = await runSigil(['sbom', dir, '--format', 'cyclonedx-json'], { SOURCE_DATE_EPOCH: '0' });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { components: { name: string; version?: string; purl?: string; properties?: { name: string; value: string }[] }[] };
    assert.deepEqual(cyclonedxValidator()(doc), []);
    const found = new Set(
      doc.components
        .filter((c) => c.purl?.startsWith('pkg:npm/') && !c.properties?.some((p) => p.name === 'sigil:npm-project-root'))
        .map((c) => `${c.name}@${c.version}`),
    );
    // The lockfile may name optional packages for other platforms that npm did not install.
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { optional?: boolean; version?: string }> };
    const notInstalled = new Set(
      Object.entries(lock.packages)
        .filter(([p, e]) => p && e.optional && !truth.has(`${p.slice(p.lastIndexOf('node_modules/') + 13)}@${e.version}`))
        .map(([p, e]) => `${p.slice(p.lastIndexOf('node_modules/') + 13)}@${e.version}`),
    );
    assert.deepEqual([...truth].filter((x) => !found.has(x)), []);
    assert.deepEqual([...found].filter((x) => !truth.has(x) && !notInstalled.has(x)), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
