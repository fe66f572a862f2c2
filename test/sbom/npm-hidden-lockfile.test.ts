/**
 * npm's hidden lockfile (node_modules/.package-lock.json) read instead of node_modules when npm
 * itself would trust it: nothing in node_modules newer than it, the same package folders on disk
 * as in it. The fast path must give the walk's packages, versions, licenses and edges; a stale,
 * malformed or unsupported hidden lockfile must fall back to the walk (malformed ones with a
 * warning naming the file), and nothing named in it may make sigil look outside the project.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { goToolBinary, nodeProject, tempDir } from '../helpers/sbom-fixtures.js';
import { DEFAULT_CATALOGERS } from '../../src/sbom/catalogers/index.js';
import { catalogTarget, type CatalogResult } from '../../src/sbom/scan.js';
import { directoryTarget } from '../../src/sbom/sources/directory.js';
import type { ProgressSink } from '../../src/sbom/sources/source.js';
import { runSigil } from '../helpers/cli-run.js';

const work = tempDir('sbom-hidden-lock');
after(() => rmSync(work, { recursive: true, force: true }));

interface Scan {
  result: CatalogResult;
  /** Regular files the walk handed to the catalogers. */
  files: number;
}

async function scan(dir: string, fullWalk = false): Promise<Scan> {
  let files = 0;
  const progress: ProgressSink = { expect() {}, phase() {}, advance: (n) => void (files += n) };
  const result = await catalogTarget(directoryTarget(dir, { fullWalk }), { catalogers: DEFAULT_CATALOGERS, progress });
  return { result, files };
}

/** What must not depend on the path taken: packages (without author/description/homepage) and edges. */
function essence(r: CatalogResult): { packages: string[]; edges: string[] } {
  return {
    packages: r.packages
      .map((p) => JSON.stringify({ ...p, supplier: undefined, description: undefined, homepage: undefined }))
      .sort(),
    edges: r.edges.map((e) => `${e.from} ${e.type} ${e.to}`).sort(),
  };
}

const npmIds = (r: CatalogResult) =>
  new Set(r.packages.filter((p) => p.kind === 'npm' && !p.properties?.['sigil:npm-project-root']).map((p) => `${p.name}@${p.version}`));

// ---------------------------------------------------------------- the real project (≈ 460 packages)

let project: string;
let truth: Set<string>;

before(async () => {
  project = await nodeProject();
  const ls = JSON.parse(execFileSync('npm', ['ls', '--all', '--json'], { cwd: project, encoding: 'utf8', maxBuffer: 64 << 20 })) as NpmLsNode;
  truth = new Set();
  const walk = (n: NpmLsNode) => {
    for (const [name, child] of Object.entries(n.dependencies ?? {})) {
      if (!child.version) continue;
      truth.add(`${name}@${child.version}`);
      walk(child);
    }
  };
  walk(ls);
});

interface NpmLsNode {
  version?: string;
  dependencies?: Record<string, NpmLsNode>;
}

test('real project: the hidden lockfile gives npm ls --all without walking node_modules, and the same result as the walk', async () => {
  const fast = await scan(project);
  const full = await scan(project, true);
  assert.ok(full.files > 9000, `full walk saw ${full.files} files`);
  assert.ok(fast.files < 10, `fast path still walked ${fast.files} files`);
  assert.deepEqual(fast.result.warnings, []);
  const ids = npmIds(fast.result);
  assert.deepEqual({ missing: [...truth].filter((x) => !ids.has(x)), extra: [...ids].filter((x) => !truth.has(x)) }, { missing: [], extra: [] });
  assert.deepEqual(essence(fast.result), essence(full.result));
  // The legacy `licenses` array (exit@0.1.2) is not in npm's lockfile: read from its package.json.
  assert.equal(fast.result.packages.find((p) => p.name === 'exit')?.license?.expression, 'MIT');
});

test('real project copy: a package folder newer than the hidden lockfile, or one removed, falls back to the walk', async () => {
  const copy = join(work, 'copy');
  // Hard links: the copy's folders are its own (their mtimes can change), its files are the cache's.
  execFileSync('cp', ['-al', project, copy]);
  try {
    assert.ok((await scan(copy)).files < 10, 'an exact copy (mtimes kept) is still current');
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(copy, 'node_modules', 'express'), later, later);
    const stale = await scan(copy);
    assert.ok(stale.files > 9000, 'a newer package folder must make the hidden lockfile stale');
    assert.deepEqual(npmIds(stale.result), truth);

    // Restore the folder's time, then remove a listed package but keep node_modules' old mtime.
    const old = new Date('2020-01-01T00:00:00Z');
    utimesSync(join(copy, 'node_modules', 'express'), old, old);
    assert.ok((await scan(copy)).files < 10);
    rmSync(join(copy, 'node_modules', 'exit'), { recursive: true });
    utimesSync(join(copy, 'node_modules'), old, old);
    const missing = await scan(copy);
    assert.ok(missing.files > 9000, 'a listed folder that is gone must make the hidden lockfile stale');
    assert.ok(!npmIds(missing.result).has('exit@0.1.2'));
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- small projects made here

const T_PACKAGES = new Date('2024-01-01T00:00:00Z');
const T_LOCK = new Date('2024-01-01T00:00:05Z');

interface Pkg {
  path: string;
  name?: string;
  version: string;
  license?: string;
  dependencies?: Record<string, string>;
  lock?: Record<string, unknown>;
}

const PKGS: Pkg[] = [
  { path: 'node_modules/a', version: '1.0.0', license: 'MIT', dependencies: { c: '^2' } },
  { path: 'node_modules/a/node_modules/c', version: '2.0.0', license: 'ISC' },
  { path: 'node_modules/c', version: '3.0.0', license: 'Apache-2.0' },
  { path: 'node_modules/@s/b', version: '0.1.0', license: 'BSD-3-Clause', dependencies: { a: '1', c: '3' } },
];

/** A project as npm installs it: package folders first, the hidden lockfile last (newer). */
function smallProject(name: string, hidden: unknown = hiddenLock(PKGS)): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'small', version: '1.0.0', dependencies: { a: '1', '@s/b': '0.1' } }));
  for (const p of PKGS) {
    mkdirSync(join(dir, p.path), { recursive: true });
    writeFileSync(join(dir, p.path, 'package.json'), JSON.stringify({ name: p.path.slice(p.path.lastIndexOf('node_modules/') + 13), version: p.version, license: p.license, dependencies: p.dependencies }));
  }
  writeFileSync(join(dir, 'node_modules', '.package-lock.json'), typeof hidden === 'string' ? hidden : JSON.stringify(hidden));
  setTimes(dir);
  return dir;
}

function setTimes(dir: string): void {
  for (const d of ['node_modules', 'node_modules/@s', 'node_modules/a/node_modules', ...PKGS.map((p) => p.path)]) {
    try {
      utimesSync(join(dir, d), T_PACKAGES, T_PACKAGES);
    } catch {
      /* removed by the test */
    }
  }
  utimesSync(join(dir, 'node_modules', '.package-lock.json'), T_LOCK, T_LOCK);
}

function hiddenLock(pkgs: Pkg[]): Record<string, unknown> {
  const packages: Record<string, unknown> = {};
  for (const p of pkgs) packages[p.path] = { version: p.version, license: p.license, ...(p.dependencies ? { dependencies: p.dependencies } : {}), ...p.lock };
  return { name: 'small', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

const SMALL_IDS = ['@s/b@0.1.0', 'a@1.0.0', 'c@2.0.0', 'c@3.0.0'];

test('small project: current hidden lockfile → fast path, same packages and edges as the walk (nested and scoped)', async () => {
  const dir = smallProject('current');
  const fast = await scan(dir);
  const full = await scan(dir, true);
  assert.equal(fast.files, 2, 'only package.json and the hidden lockfile');
  assert.equal(full.files, 6);
  assert.deepEqual([...npmIds(fast.result)].sort(), SMALL_IDS);
  assert.deepEqual(essence(fast.result), essence(full.result));
  // Node's lookup from a's folder finds its own nested c@2, b finds the top-level c@3.
  const edge = (from: string, to: string) => fast.result.edges.some((e) => e.from === `npm/#${from}` && e.to === `npm/#${to}`);
  assert.ok(edge('node_modules/a', 'node_modules/a/node_modules/c'));
  assert.ok(edge('node_modules/@s/b', 'node_modules/c'));
  assert.ok(edge('node_modules/@s/b', 'node_modules/a'));
});

test('small project in a subfolder of the scanned directory: its node_modules is skipped too', async () => {
  const parent = join(work, 'monorepo');
  mkdirSync(parent);
  const dir = smallProject(join('monorepo', 'app'));
  assert.equal(dir, join(parent, 'app'));
  const fast = await scan(parent);
  const full = await scan(parent, true);
  assert.equal(fast.files, 2);
  assert.deepEqual([...npmIds(fast.result)].sort(), SMALL_IDS);
  assert.deepEqual(essence(fast.result), essence(full.result));
  assert.ok(fast.result.packages.some((p) => p.locations.includes('/app/node_modules/@s/b/package.json')));
});

test('small project: stale hidden lockfile (newer folder, missing folder, extra package) → the walk, right answer', async () => {
  const newer = smallProject('newer');
  utimesSync(join(newer, 'node_modules/a/node_modules/c'), T_LOCK, new Date(T_LOCK.getTime() + 1000));
  const r1 = await scan(newer);
  assert.equal(r1.files, 6);
  assert.deepEqual([...npmIds(r1.result)].sort(), SMALL_IDS);

  // Within npm's 10 ms allowance the folder still counts as not newer.
  const jitter = smallProject('jitter');
  utimesSync(join(jitter, 'node_modules/c'), T_LOCK, new Date(T_LOCK.getTime() + 5));
  assert.equal((await scan(jitter)).files, 2);

  const gone = smallProject('gone');
  rmSync(join(gone, 'node_modules/c'), { recursive: true });
  setTimes(gone);
  const r2 = await scan(gone);
  assert.equal(r2.files, 5);
  assert.deepEqual([...npmIds(r2.result)].sort(), ['@s/b@0.1.0', 'a@1.0.0', 'c@2.0.0']);

  // Installed after the lockfile was written, with every folder time set back: not listed → walk.
  const extra = smallProject('extra');
  mkdirSync(join(extra, 'node_modules/@s/x'));
  writeFileSync(join(extra, 'node_modules/@s/x/package.json'), JSON.stringify({ name: '@s/x', version: '9.9.9' }));
  utimesSync(join(extra, 'node_modules/@s/x'), T_PACKAGES, T_PACKAGES);
  setTimes(extra);
  const r3 = await scan(extra);
  assert.equal(r3.files, 7);
  assert.deepEqual([...npmIds(r3.result)].sort(), ['@s/b@0.1.0', '@s/x@9.9.9', 'a@1.0.0', 'c@2.0.0', 'c@3.0.0']);
  for (const r of [r1, r2, r3]) assert.deepEqual(r.result.warnings, []);
});

test('small project: malformed hidden lockfiles → a warning naming the file and the walk, never a crash', async () => {
  const good = hiddenLock(PKGS);
  const withPackages = (packages: unknown) => ({ ...good, packages });
  const cases: [string, unknown, RegExp][] = [
    ['truncated', JSON.stringify(good).slice(0, 200), /not valid JSON/],
    ['not-an-object', '[1,2,3]', /not a JSON object/],
    ['v1', { ...good, lockfileVersion: 1 }, /lockfileVersion 1/],
    ['no-version-field', { ...good, lockfileVersion: undefined }, /lockfileVersion missing/],
    ['packages-array', withPackages([]), /"packages" is not an object/],
    ['entry-string', withPackages({ ...(good.packages as object), 'node_modules/z': 'x' }), /is not an object/],
    ['version-number', withPackages({ ...(good.packages as object), 'node_modules/c': { version: 3 } }), /has no version/],
    ['deps-array', withPackages({ ...(good.packages as object), 'node_modules/c': { version: '3.0.0', dependencies: ['a'] } }), /dependencies must be objects/],
    ['license-object', withPackages({ ...(good.packages as object), 'node_modules/c': { version: '3.0.0', license: { type: 'MIT' } } }), /must be strings/],
    ['dev-string', withPackages({ ...(good.packages as object), 'node_modules/c': { version: '3.0.0', dev: 'yes' } }), /flags must be booleans/],
    ['dotdot', withPackages({ ...(good.packages as object), 'node_modules/../../../etc': { version: '1.0.0' } }), /not a path inside the project/],
    ['absolute', withPackages({ ...(good.packages as object), '/etc/passwd': { version: '1.0.0' } }), /not a path inside the project/],
  ];
  for (const [name, hidden, message] of cases) {
    const dir = smallProject(`bad-${name}`, hidden);
    const r = await scan(dir);
    assert.equal(r.files, 6, `${name}: node_modules must be walked`);
    assert.deepEqual([...npmIds(r.result)].sort(), SMALL_IDS, name);
    const w = r.result.warnings.filter((x) => x.path === '/node_modules/.package-lock.json');
    assert.equal(w.length, 1, `${name}: ${JSON.stringify(r.result.warnings)}`);
    assert.match(w[0]!.message, message, name);
  }
});

test('small project: links and folders outside node_modules are not covered by the fast path (walk, no warning)', async () => {
  const good = hiddenLock(PKGS);
  const linked = smallProject('linked', { ...good, packages: { ...(good.packages as object), 'node_modules/w': { resolved: 'packages/w', link: true }, 'packages/w': { version: '1.0.0' } } });
  const r = await scan(linked);
  assert.equal(r.files, 6);
  assert.deepEqual(r.result.warnings, []);
  assert.deepEqual([...npmIds(r.result)].sort(), SMALL_IDS);
});

test('small project: packages that ship executables (os/cpu, install scripts) are still walked for the binary catalogers', async () => {
  const pkgs: Pkg[] = [...PKGS, { path: 'node_modules/@esb/linux-x64', version: '0.20.0', license: 'MIT', lock: { os: ['linux'], cpu: ['x64'] } }];
  const dir = join(work, 'native');
  const hidden = hiddenLock(pkgs);
  smallProject('native', hidden);
  mkdirSync(join(dir, 'node_modules/@esb/linux-x64/bin'), { recursive: true });
  writeFileSync(join(dir, 'node_modules/@esb/linux-x64/package.json'), JSON.stringify({ name: '@esb/linux-x64', version: '0.20.0', license: 'MIT' }));
  copyFileSync(goToolBinary(), join(dir, 'node_modules/@esb/linux-x64/bin/esb'));
  for (const d of ['node_modules/@esb', 'node_modules/@esb/linux-x64']) utimesSync(join(dir, d), T_PACKAGES, T_PACKAGES);
  setTimes(dir);
  const fast = await scan(dir);
  const full = await scan(dir, true);
  assert.equal(fast.files, 4, 'package.json, the hidden lockfile, and the native package (package.json, bin/esb)');
  const go = (s: Scan) => s.result.packages.filter((p) => p.kind !== 'npm').map((p) => `${p.kind} ${p.name}@${p.version}`).sort();
  assert.ok(go(fast).some((x) => x.startsWith('golang ')), JSON.stringify(go(fast)));
  assert.deepEqual(go(fast), go(full));
  assert.deepEqual(essence(fast.result), essence(full.result));
});

test('sigil sbom: the default takes the hidden lockfile (no package descriptions), --full-walk reads every package.json', async () => {
  const dir = smallProject('cli');
  writeFileSync(join(dir, 'node_modules/c/package.json'), JSON.stringify({ name: 'c', version: '3.0.0', license: 'Apache-2.0', description: 'the letter c' }));
  setTimes(dir);
  const run = async (...flags: string[]) => {
    const r = await runSigil(['sbom', dir, '--format', 'cyclonedx-json', ...flags], { SOURCE_DATE_EPOCH: '0' });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { components: { name: string; version?: string; description?: string }[] };
  };
  const fast = await run();
  const full = await run('--full-walk');
  const c3 = (d: typeof fast) => d.components.find((c) => c.name === 'c' && c.version === '3.0.0');
  assert.equal(c3(full)?.description, 'the letter c');
  assert.equal(c3(fast)?.description, undefined);
  assert.deepEqual(
    fast.components.map((c) => `${c.name}@${c.version}`),
    full.components.map((c) => `${c.name}@${c.version}`),
  );
});
