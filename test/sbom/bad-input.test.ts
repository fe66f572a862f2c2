/**
 * Bad input end to end through `sigil sbom`: corrupt and truncated archives and layers, tampered
 * image layouts, symlink loops, `../` entries, absurd sizes, unreadable files, oversized and
 * malformed metadata. Each must give a clear error (exit 2, or 1 for a digest mismatch) or a
 * warning naming the file, never a crash, and never a write besides the output file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSigil } from '../helpers/cli-run.js';
import { tempDir } from '../helpers/sbom-fixtures.js';
import { craftTar } from '../helpers/tar-craft.js';
import { layoutDescriptor, run } from '../helpers/images.js';
import { REPO_ROOT } from '../helpers/paths.js';

const work = tempDir('sbom-bad');
const status = 'Package: good\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n';
let layout: string;

before(async () => {
  // A small real image: one layer holding a dpkg status.
  const src = join(work, 'imgsrc');
  mkdirSync(join(src, 'var/lib/dpkg'), { recursive: true });
  writeFileSync(join(src, 'var/lib/dpkg/status'), status);
  execFileSync('tar', ['-cf', join(work, 'layer.tar'), '-C', src, '.']);
  layout = join(work, 'layout');
  await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', `${layout}:t`]);
  await run('umoci', ['raw', 'add-layer', '--image', `${layout}:t`, join(work, 'layer.tar')]);
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the CLI writing into a fresh directory and checks nothing but the output file appears there. */
async function sbomInto(source: string, extra: string[] = []): Promise<{ code: number; stderr: string; doc?: { packages: { name: string }[] } }> {
  const outDir = tempDir('sbom-out');
  try {
    const out = join(outDir, 'sbom.json');
    const r = await runSigil(['sbom', source, '--output-file', out, ...extra], { SOURCE_DATE_EPOCH: '0' });
    const files = readdirSync(outDir);
    if (r.code === 0) assert.deepEqual(files, ['sbom.json']);
    else assert.deepEqual(files, [], 'a failed run must not leave an output or temp file');
    return { code: r.code, stderr: r.stderr, ...(r.code === 0 ? { doc: JSON.parse(readFileSync(out, 'utf8')) as { packages: { name: string }[] } } : {}) };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

test('corrupt and truncated archives are errors naming the file', async () => {
  const tgz = join(work, 'rootfs.tar.gz');
  execFileSync('tar', ['-czf', tgz, '-C', join(work, 'imgsrc'), '.']);
  const cut = join(work, 'cut.tar.gz');
  writeFileSync(cut, readFileSync(tgz).subarray(0, 60));
  let r = await sbomInto(cut);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /ARCHIVE_MALFORMED: .*cut\.tar\.gz: gzip data is corrupt or truncated/);
  const flipped = join(work, 'flipped.tar.gz');
  const b = readFileSync(tgz);
  b[b.length - 6] = b[b.length - 6]! ^ 0xff; // damage the gzip trailer (CRC/length)
  writeFileSync(flipped, b);
  r = await sbomInto(flipped);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /flipped\.tar\.gz/);
  const zst = join(work, 'bad.tar.zst');
  writeFileSync(zst, Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from('garbage garbage garbage')]));
  r = await sbomInto(zst);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.tar\.zst: zstd/);
  const junk = join(work, 'junk.bin');
  writeFileSync(junk, 'just some text, not an archive');
  r = await sbomInto(junk);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /junk\.bin is not a tar\/tar\.gz\/tar\.zst archive/);
  const truncatedTar = join(work, 'trunc.tar');
  writeFileSync(truncatedTar, craftTar([{ name: 'var/lib/dpkg/status', body: status.repeat(50) }]).subarray(0, 1500));
  r = await sbomInto(truncatedTar);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /trunc\.tar: archive is truncated inside entry "var\/lib\/dpkg\/status"/);
});

test('image layouts: truncated layer, tampered config, missing blob', async () => {
  const manifest = JSON.parse(readFileSync(join(layout, 'blobs', ...layoutDescriptor(layout, 't').digest.split(':')), 'utf8')) as {
    layers: { digest: string }[];
    config: { digest: string };
  };
  const ok = await sbomInto(layout);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(ok.doc!.packages.some((p) => p.name === 'good'));

  const cut = join(work, 'cut-layout');
  cpSync(layout, cut, { recursive: true });
  truncateSync(join(cut, 'blobs', ...manifest.layers[0]!.digest.split(':')), 100);
  let r = await sbomInto(cut);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /ARCHIVE_MALFORMED: .*layer blob sha256:[0-9a-f]{64} has 100 bytes, the manifest says \d+/);

  const tampered = join(work, 'tampered-layout');
  cpSync(layout, tampered, { recursive: true });
  const cfg = join(tampered, 'blobs', ...manifest.config.digest.split(':'));
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('"os":"linux"', '"os":"plan9"'));
  r = await sbomInto(tampered);
  assert.equal(r.code, 1, 'a digest mismatch is a verification failure');
  assert.match(r.stderr, /DIGEST_MISMATCH: .*blob sha256:[0-9a-f]{64} hashes to sha256:/);

  const missing = join(work, 'missing-layout');
  cpSync(layout, missing, { recursive: true });
  rmSync(join(missing, 'blobs', ...manifest.layers[0]!.digest.split(':')));
  r = await sbomInto(missing);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /layer blob sha256:[0-9a-f]{64} is missing/);
});

test('tar entries with ../ are ignored with a warning; nothing is written outside', async () => {
  const evil = join(work, 'evil.tar');
  writeFileSync(
    evil,
    craftTar([
      { name: '../../../../tmp/sigil-evil/var/lib/dpkg/status', body: 'Package: evil\nVersion: 6.6.6\n' },
      { name: 'a/../../var/lib/dpkg/status', body: 'Package: evil2\nVersion: 6.6.6\n' },
      { name: 'var/lib/dpkg/status', body: status },
      { name: 'link', type: '1', linkname: '../../etc/shadow' },
    ]),
  );
  const r = await sbomInto(evil);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.doc!.packages.map((p) => p.name).filter((n) => n !== 'evil.tar'), ['good']);
  assert.match(r.stderr, /warning: \/\.\.\/\.\.\/\.\.\/\.\.\/tmp\/sigil-evil\/var\/lib\/dpkg\/status: entry path climbs above the root/);
  assert.match(r.stderr, /warning: \/link: hard link target "\.\.\/\.\.\/etc\/shadow" climbs above the root/);
  assert.equal(existsSync('/tmp/sigil-evil'), false);
});

test('absurd sizes: a header claiming 8 GiB in a tiny file, a base-256 exabyte', async () => {
  const big = join(work, 'big.tar');
  writeFileSync(big, craftTar([{ name: 'var/lib/dpkg/status', sizeField: Buffer.from('77777777777\0') }], { noEnd: true }));
  let r = await sbomInto(big);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /big\.tar: archive is truncated inside entry "var\/lib\/dpkg\/status"/);
  const huge = Buffer.alloc(12);
  huge[0] = 0x80;
  huge[3] = 0x10;
  const exa = join(work, 'exa.tar');
  writeFileSync(exa, craftTar([{ name: 'x', sizeField: huge }]));
  r = await sbomInto(exa);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exa\.tar: absurd entry size/);
});

test('symlink loops: the walk does not follow links, resolution stops with a warning', async () => {
  const dir = join(work, 'loops');
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'var/lib/dpkg'), { recursive: true });
  writeFileSync(join(dir, 'var/lib/dpkg/status'), status);
  symlinkSync('os-release.d', join(dir, 'etc/os-release'));
  symlinkSync('os-release', join(dir, 'etc/os-release.d'));
  symlinkSync('..', join(dir, 'etc/up'));
  symlinkSync('/', join(dir, 'etc/root'));
  mkdirSync(join(dir, 'usr/share/doc/good'), { recursive: true });
  symlinkSync('copyright', join(dir, 'usr/share/doc/good/copyright'));
  const r = await sbomInto(dir);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.doc!.packages.some((p) => p.name === 'good'));
  assert.match(r.stderr, /warning: \/(etc\/os-release|usr\/share\/doc\/good\/copyright): symlink loop/);
});

test('unreadable files (scan as an unprivileged user) are warnings naming the file', () => {
  const dir = join(work, 'unreadable');
  mkdirSync(join(dir, 'var/lib/dpkg'), { recursive: true });
  mkdirSync(join(dir, 'secret'), { recursive: true });
  writeFileSync(join(dir, 'var/lib/dpkg/status'), status);
  writeFileSync(join(dir, 'secret/package-lock.json'), '{}');
  chmodSync(join(dir, 'var/lib/dpkg/status'), 0o000);
  chmodSync(join(dir, 'secret'), 0o000);
  for (const p of [work, dir, join(dir, 'var'), join(dir, 'var/lib'), join(dir, 'var/lib/dpkg')]) chmodSync(p, 0o755);
  const out = join(work, 'unreadable-out');
  mkdirSync(out, { mode: 0o777 });
  chmodSync(out, 0o777);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/sigil.ts'), 'sbom', dir, '--output-file', join(out, 'sbom.json')], {
    uid: 65534,
    gid: 65534,
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: out, SOURCE_DATE_EPOCH: '0', TMPDIR: out },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: \/var\/lib\/dpkg\/status: cannot read: EACCES/);
  assert.match(r.stderr, /warning: \/secret: cannot list directory: EACCES/);
  assert.ok(existsSync(join(out, 'sbom.json')));
});

test('oversized and malformed metadata files are skipped with warnings', async () => {
  const dir = join(work, 'meta');
  mkdirSync(join(dir, 'var/lib/dpkg/status.d'), { recursive: true });
  writeFileSync(join(dir, 'var/lib/dpkg/status.d/huge'), Buffer.alloc((16 << 20) + 1, 0x41));
  mkdirSync(join(dir, 'app/node_modules/broken'), { recursive: true });
  writeFileSync(join(dir, 'app/node_modules/broken/package.json'), '{not json');
  writeFileSync(join(dir, 'app/bomb.jar'), 'PK\x03\x04 this is not really a zip');
  writeFileSync(join(dir, 'Cargo.lock'), '[[package]]\nname = "x\n');
  const r = await sbomInto(dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: \/var\/lib\/dpkg\/status\.d\/huge: dpkg: file of 16777217 bytes is larger than the 16777216-byte limit; skipped/);
  assert.match(r.stderr, /warning: \/app\/node_modules\/broken\/package\.json: npm: not valid JSON; skipped/);
  assert.match(r.stderr, /warning: \/app\/bomb\.jar: java: \/app\/bomb\.jar: not a readable zip/);
  assert.match(r.stderr, /warning: \/Cargo\.lock: cargo: TOML line 2/);
});

test('usage errors: unknown format, missing source, unwritable output', async () => {
  let r = await runSigil(['sbom', work, '--format', 'spdx-tag-value']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown --format "spdx-tag-value"/);
  r = await runSigil(['sbom', join(work, 'does-not-exist')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /INPUT_UNREADABLE: cannot read .*does-not-exist: ENOENT/);
  r = await runSigil(['sbom', join(work, 'imgsrc'), '--output-file', join(work, 'no-such-dir', 'x.json')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot write .*no-such-dir\/x\.json: ENOENT/);
  r = await runSigil(['sbom', join(work, 'imgsrc'), '--timestamp', 'yesterday']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid timestamp "yesterday"/);
  r = await runSigil(['sbom', join(work, 'imgsrc'), '--catalogers', 'dpkg,cobol']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown cataloger\(s\): cobol/);
});
