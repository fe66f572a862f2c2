/**
 * `npm run bench -- sbom`: sigil's SBOM generator against @cyclonedx/cdxgen (with its plugins,
 * installed outside package.json under .cache/peers, by this script when missing) on the same Node
 * project and the same Debian rootfs, in the same run. Both run as separate processes, timed wall
 * clock, peak RSS from /usr/bin/time. Package recall is measured against the package managers'
 * own answers (`npm ls --all`, `dpkg-query -W`). Then sigil's peak RSS on the Debian OCI image
 * and on a synthetic ~2 GiB image (goal: ≤ 512 MB for any image size).
 *
 * sigil runs as compiled JavaScript (tsc into .cache/bench-sigil), as the published package does;
 * running through tsx would add its transpile-on-load time to every sigil number.
 * Flags: --runs N (default 3), --skip-cdxgen, --skip-synthetic.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianImageLayout, debianRootfs } from '../test/helpers/images.js';
import { nodeProject } from '../test/helpers/sbom-fixtures.js';
import { REPO_ROOT } from '../test/helpers/paths.js';
import { syntheticImage } from './_sbom-synthetic.js';

const PEERS = join(REPO_ROOT, '.cache', 'peers');
const CDXGEN = join(PEERS, 'node_modules', '@cyclonedx', 'cdxgen', 'bin', 'cdxgen.js');
const BUILD = join(REPO_ROOT, '.cache', 'bench-sigil');
const SIGIL = join(BUILD, 'src', 'cli', 'sigil.js');
/**
 * The SBOM engine alone (open the source, catalog, write), without the CLI dispatcher and the sbom
 * command module: separates sigil's scanning cost from the CLI's own start-up cost.
 */
const SBOM_ONLY = join(BUILD, 'sbom-engine.mjs');

interface Measured {
  seconds: number;
  maxRssMb: number;
  out: string;
}

/** Runs a command under /usr/bin/time; returns wall seconds and peak RSS. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = REPO_ROOT): Measured {
  const r = spawnSync('/usr/bin/time', ['-f', 'H5TIME %e %M', cmd, ...args], {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  const m = /H5TIME ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  return { seconds: Number(m[1]), maxRssMb: Number(m[2]) / 1024, out: r.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function ensureCdxgen(): void {
  if (existsSync(CDXGEN)) return;
  console.log(`installing @cyclonedx/cdxgen into ${PEERS} (outside package.json) …`);
  mkdirSync(PEERS, { recursive: true });
  execFileSync('npm', ['install', '--prefix', PEERS, '--no-audit', '--no-fund', '--loglevel=error', '@cyclonedx/cdxgen'], { stdio: 'inherit' });
}

function buildSigil(): void {
  console.log('compiling sigil (tsc) into .cache/bench-sigil …');
  // Type errors in files other than the SBOM's do not stop emission; only a missing CLI does.
  spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', BUILD, '--sourceMap', 'false'], { cwd: REPO_ROOT, stdio: 'ignore' });
  if (!existsSync(SIGIL)) throw new Error('tsc did not produce the sigil CLI');
  writeFileSync(
    SBOM_ONLY,
    [
      "import { openSource } from './src/sbom/sources/open.js';",
      "import { catalogTarget, buildDocument } from './src/sbom/scan.js';",
      "import { DEFAULT_CATALOGERS } from './src/sbom/catalogers/index.js';",
      "import { serializeSbom } from './src/sbom/writers/output.js';",
      'const [, , , source, , format] = process.argv;',
      "const opened = await openSource(source, { platform: 'linux/amd64' });",
      'const results = [];',
      'for (const t of opened.targets) results.push(await catalogTarget(t, { catalogers: DEFAULT_CATALOGERS }));',
      'opened.close();',
      'process.stdout.write(await serializeSbom(buildDocument(results, { name: source, created: new Date(0) }), format));',
      '',
    ].join('\n'),
  );
}

interface PurlComponent {
  purl?: string;
}

/** name@version of components by purl type (cdxgen and sigil CycloneDX alike). */
function purlSet(doc: { components?: PurlComponent[] }, type: string): Set<string> {
  const out = new Set<string>();
  for (const c of doc.components ?? []) {
    const m = c.purl ? /^pkg:([^/]+)\/(.+?)@([^?#]+)/.exec(c.purl) : null;
    if (!m || m[1] !== type) continue;
    const path = decodeURIComponent(m[2]!);
    const name = type === 'deb' ? path.split('/').pop()! : path;
    out.add(`${name}@${decodeURIComponent(m[3]!)}`);
  }
  return out;
}

function recall(found: Set<string>, truth: Set<string>): number {
  let hit = 0;
  for (const t of truth) if (found.has(t)) hit++;
  return hit / truth.size;
}

function precision(found: Set<string>, truth: Set<string>): number {
  let hit = 0;
  for (const f of found) if (truth.has(f)) hit++;
  return found.size ? hit / found.size : 0;
}

function npmTruth(dir: string): Set<string> {
  const ls = JSON.parse(execFileSync('npm', ['ls', '--all', '--json'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 })) as { dependencies?: Record<string, unknown> };
  const out = new Set<string>();
  const walk = (deps: Record<string, unknown> | undefined) => {
    for (const [name, v] of Object.entries(deps ?? {})) {
      const n = v as { version?: string; dependencies?: Record<string, unknown> };
      if (n.version) out.add(`${name}@${n.version}`);
      walk(n.dependencies);
    }
  };
  walk(ls.dependencies);
  return out;
}

function debTruth(rootfs: string): Set<string> {
  const out = execFileSync('dpkg-query', ['--admindir', join(rootfs, 'var/lib/dpkg'), '-W', '-f', '${Package}@${Version}\\n'], { encoding: 'utf8' });
  return new Set(out.trim().split('\n'));
}

const fmt = (n: number, d = 2) => n.toFixed(d);

export default async function main(args: string[]): Promise<void> {
  const runs = Number(args[args.indexOf('--runs') + 1]) || 3;
  const skipCdx = args.includes('--skip-cdxgen');
  const skipSynthetic = args.includes('--skip-synthetic');
  const work = mkdtempSync(join(tmpdir(), 'sigil-bench-sbom-'));
  try {
    if (!skipCdx) ensureCdxgen();
    buildSigil();
    const proj = await nodeProject();
    const rootfs = await debianRootfs();
    const truth = { npm: npmTruth(proj), deb: debTruth(rootfs) };
    // npm ls lists dependencies, not the project itself; both tools report the project as a package too.
    const rootName = (JSON.parse(readFileSync(join(proj, 'package.json'), 'utf8')) as { name: string; version: string });
    const npmRoot = `${rootName.name}@${rootName.version}`;
    console.log(`fixtures: node project ${proj} (${truth.npm.size} packages by npm ls), Debian rootfs ${rootfs} (${truth.deb.size} by dpkg-query)\n`);
    const rows: string[] = [];
    const cases = [
      { name: 'node project', src: proj, type: 'npm', cdx: ['-t', 'js', '--no-recurse'], truth: truth.npm },
      { name: 'debian rootfs', src: rootfs, type: 'deb', cdx: ['-t', 'rootfs', '--no-install-deps'], truth: truth.deb },
    ];
    for (const c of cases) {
      const sig: Measured[] = [];
      const only: Measured[] = [];
      for (let i = 0; i < runs; i++) {
        sig.push(timed(process.execPath, [SIGIL, 'sbom', c.src, '--format', 'cyclonedx-json'], { SOURCE_DATE_EPOCH: '0' }));
        only.push(timed(process.execPath, [SBOM_ONLY, 'sbom', c.src, '--format', 'cyclonedx-json'], { SOURCE_DATE_EPOCH: '0' }));
      }
      const sigDoc = JSON.parse(sig[0]!.out) as { components?: PurlComponent[] };
      const sigSet = purlSet(sigDoc, c.type);
      sigSet.delete(npmRoot);
      const sigT = median(sig.map((m) => m.seconds));
      const onlyT = median(only.map((m) => m.seconds));
      const rss = (ms: Measured[]) => fmt(Math.max(...ms.map((m) => m.maxRssMb)), 0);
      let line = `${c.name.padEnd(14)} sigil CLI ${fmt(sigT)} s (median of ${runs}; the shipped CLI: node start-up, the sbom command, scan, write), ${rss(sig)} MB RSS, recall ${fmt(recall(sigSet, c.truth) * 100, 1)} %, precision ${fmt(precision(sigSet, c.truth) * 100, 1)} %`;
      line += `\n${''.padEnd(14)} sigil SBOM engine alone ${fmt(onlyT)} s, ${rss(only)} MB RSS`;
      if (!skipCdx) {
        const out = join(work, `${c.type}-cdxgen.json`);
        const cdx = timed(process.execPath, [CDXGEN, ...c.cdx, '-o', out, c.src], { CDXGEN_NO_BANNER: 'true', FETCH_LICENSE: 'false', CDXGEN_TELEMETRY: 'false' }, work);
        const cdxSet = purlSet(JSON.parse(readFileSync(out, 'utf8')) as { components?: PurlComponent[] }, c.type);
        cdxSet.delete(npmRoot);
        line += `\n${''.padEnd(14)} cdxgen ${fmt(cdx.seconds)} s, ${fmt(cdx.maxRssMb, 0)} MB RSS, recall ${fmt(recall(cdxSet, c.truth) * 100, 1)} %, precision ${fmt(precision(cdxSet, c.truth) * 100, 1)} %`;
        line += `\n${''.padEnd(14)} ratio cdxgen/sigil: ${fmt(cdx.seconds / sigT, 1)}× (CLI), ${fmt(cdx.seconds / onlyT, 1)}× (engine alone); goal ≥ 10×`;
      }
      rows.push(line);
      console.log(line);
    }
    // Peak memory on images: the Debian image and a synthetic ~2 GiB one.
    const images: { name: string; src: string; bytes: number }[] = [];
    const deb = await debianImageLayout();
    images.push({ name: 'debian OCI image', src: deb.layout, bytes: 0 });
    if (!skipSynthetic) {
      console.log('\npreparing the synthetic ~2 GiB image (cached after the first run) …');
      const syn = syntheticImage(rootfs);
      images.push({ name: 'synthetic image', src: syn.layout, bytes: syn.bytes });
    }
    for (const img of images) {
      const m = timed(process.execPath, [SIGIL, 'sbom', img.src, '--format', 'spdx-json', '--output-file', join(work, 'img.json'), '--output', 'json'], { SOURCE_DATE_EPOCH: '0' });
      const summary = JSON.parse(m.out) as { packages: number; byKind: Record<string, number>; warnings: unknown[] };
      const line = `${img.name.padEnd(17)} ${fmt(m.seconds)} s, peak RSS ${fmt(m.maxRssMb, 0)} MB (goal ≤ 512), ${summary.packages} packages ${JSON.stringify(summary.byKind)}${img.bytes ? `, ${fmt(img.bytes / 2 ** 30)} GiB stored` : ''}`;
      rows.push(line);
      console.log(line);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
