/**
 * Distro package databases besides a full Debian: an rpm database made by rpm/rpmbuild (compared
 * with `rpm -qa`), an Alpine apk database and a distroless dpkg status.d written as files.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSigil } from '../helpers/cli-run.js';
import { buildRpmRoot, rpmQuery, tempDir } from '../helpers/sbom-fixtures.js';
import { parseApkInstalled } from '../../src/sbom/catalogers/apk.js';
import { parseRpmHeader } from '../../src/sbom/catalogers/rpm-header.js';

const work = tempDir('sbom-os');
after(() => rmSync(work, { recursive: true, force: true }));

interface Cdx {
  components: { name: string; version?: string; purl?: string; type: string; licenses?: unknown[]; supplier?: { name: string } }[];
  dependencies: { ref: string; dependsOn?: string[] }[];
}

function files(dir: string, f: Record<string, string>): void {
  for (const [p, t] of Object.entries(f)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), t);
  }
}

async function scan(dir: string, catalogers?: string): Promise<{ doc: Cdx; stderr: string }> {
  const r = await runSigil(['sbom', dir, '--format', 'cyclonedx-json', ...(catalogers ? ['--catalogers', catalogers] : [])], { SOURCE_DATE_EPOCH: '0' });
  assert.equal(r.code, 0, r.stderr);
  return { doc: JSON.parse(r.stdout) as Cdx, stderr: r.stderr };
}

test('rpm: packages of an rpmdb.sqlite made by rpm equal rpm -qa', async () => {
  const root = buildRpmRoot(join(work, 'rpm'));
  const truth = rpmQuery(root);
  files(root, { 'etc/os-release': 'ID=fedora\nVERSION_ID=39\n' });
  const { doc } = await scan(root, 'rpm');
  const rpms = doc.components.filter((c) => c.purl?.startsWith('pkg:rpm/'));
  assert.deepEqual(new Set(rpms.map((c) => `${c.name} ${c.version}`)), truth);
  const hello = rpms.find((c) => c.name === 'sigil-hello')!;
  assert.equal(hello.purl, 'pkg:rpm/fedora/sigil-hello@1.2.3-4?arch=noarch&distro=fedora-39&epoch=2&upstream=sigil-hello-1.2.3-4.src.rpm');
  assert.deepEqual(hello.licenses, [{ expression: 'MIT AND (GPL-2.0-or-later OR LicenseRef-BSD)' }]);
  assert.equal(hello.supplier?.name, 'Sigil Test Vendor');
  // sigil-hello Requires sigil-base
  const dep = doc.dependencies.find((d) => d.ref.includes('sigil-hello'));
  assert.ok(dep?.dependsOn?.some((x) => x.includes('sigil-base')));
});

test('rpm: a corrupt header is a warning naming the database, not a crash', async () => {
  assert.throws(() => parseRpmHeader(Buffer.from([0, 0, 0, 2, 0, 0, 0, 8])), /truncated/);
  const h = Buffer.alloc(8 + 16 + 4);
  h.writeUInt32BE(1, 0);
  h.writeUInt32BE(4, 4);
  h.writeInt32BE(1000, 8);
  h.writeUInt32BE(6, 12);
  h.writeInt32BE(0, 16);
  h.writeUInt32BE(1, 20);
  h.write('abcd', 24);
  assert.throws(() => parseRpmHeader(h), /unterminated/);
  const dir = join(work, 'badrpm');
  files(dir, { 'var/lib/rpm/rpmdb.sqlite': 'SQLite format 3\0 but not really a database file, just garbage text padding it out past one hundred bytes.....' });
  const { doc, stderr } = await scan(dir, 'rpm');
  assert.equal(doc.components.length, 0);
  assert.match(stderr, /var\/lib\/rpm\/rpmdb\.sqlite: rpm: cannot read the rpm database/);
});

test('apk: installed database with distro qualifier, licenses and so: dependencies', async () => {
  const db = [
    'C:Q1abc=',
    'P:musl',
    'V:1.2.4_git20230717-r4',
    'A:x86_64',
    'L:MIT',
    'o:musl',
    'm:Timo Teräs <timo.teras@iki.fi>',
    'U:https://musl.libc.org/',
    'T:the musl c library (libc) implementation',
    'p:so:libc.musl-x86_64.so.1=1',
    '',
    'P:busybox',
    'V:1.36.1-r15',
    'A:x86_64',
    'L:GPL-2.0-only',
    'D:so:libc.musl-x86_64.so.1',
    'p:cmd:sh=1.36.1-r15',
    '',
    'P:zlib',
    'V:1.3.1-r0',
    'A:x86_64',
    'L:Zlib MIT',
    'o:zlib',
    'D:so:libc.musl-x86_64.so.1 !conflicting-pkg',
    '',
  ].join('\n');
  assert.equal(parseApkInstalled(db).length, 3);
  const dir = join(work, 'alpine');
  files(dir, { 'lib/apk/db/installed': db, 'etc/os-release': 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n' });
  const { doc } = await scan(dir);
  const apks = doc.components.filter((c) => c.purl?.startsWith('pkg:apk/'));
  assert.deepEqual(apks.map((c) => c.purl).sort(), [
    'pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1',
    'pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1',
    'pkg:apk/alpine/zlib@1.3.1-r0?arch=x86_64&distro=alpine-3.19.1',
  ]);
  assert.deepEqual(apks.find((c) => c.name === 'zlib')?.licenses, [{ expression: 'Zlib AND MIT' }]);
  assert.ok(doc.dependencies.find((d) => d.ref.includes('busybox'))?.dependsOn?.some((x) => x.includes('musl')));
  assert.ok(doc.components.some((c) => c.type === 'operating-system' && c.name === 'alpine' && c.version === '3.19.1'));
});

test('dpkg: distroless status.d (one stanza per file, no Status field)', async () => {
  const dir = join(work, 'distroless');
  files(dir, {
    'var/lib/dpkg/status.d/base-files': 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\nMaintainer: Santiago Vila <sanvila@debian.org>\n',
    'var/lib/dpkg/status.d/base-files.md5sums': 'd41d8cd98f00b204e9800998ecf8427e  etc/issue\n',
    'var/lib/dpkg/status.d/tzdata': 'Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\nMaintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\n',
    'usr/share/doc/tzdata/copyright': 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: public-domain\n',
    'etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
  });
  const { doc } = await scan(dir, 'dpkg');
  const debs = doc.components.filter((c) => c.purl?.startsWith('pkg:deb/'));
  assert.deepEqual(debs.map((c) => `${c.name} ${c.version}`).sort(), ['base-files 12.4+deb12u5', 'tzdata 2024a-0+deb12u1']);
  assert.deepEqual(debs.find((c) => c.name === 'tzdata')?.licenses, [{ license: { name: 'public-domain' } }]);
});
