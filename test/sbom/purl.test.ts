/**
 * sigil writes most purls directly and hands the rest to packageurl-js; both must give the same
 * string for any input. The corpus: every package of the real Node project and of the Debian
 * rootfs fixture, plus inputs that need normalization or encoding (upper case, `_` in PyPI names,
 * `@`, `%`, spaces, `~` in qualifiers, empty parts, subpaths, Go versions, maven without group).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeProject } from '../helpers/sbom-fixtures.js';
import { debianRootfs } from '../helpers/images.js';
import { purl, purlViaLibrary } from '../../src/sbom/purl.js';

type Input = [string, string | undefined, string, string | undefined, Record<string, string | undefined>?, string?];

function same(inputs: Input[]): void {
  for (const [type, ns, name, version, q, sub] of inputs) {
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(q ?? {})) if (v) clean[k] = v;
    assert.equal(purl(type, ns, name, version, q, sub), purlViaLibrary(type, ns, name, version, clean, sub), JSON.stringify([type, ns, name, version, q, sub]));
  }
}

test('purl: direct form equals packageurl-js on crafted inputs that need normalization or encoding', () => {
  const q = { arch: 'amd64', distro: 'debian-12' };
  same([
    ['npm', undefined, 'express', '4.22.1'],
    ['npm', '@babel', 'core', '7.29.0'],
    ['npm', '@Babel', 'Core', '7.29.0'],
    ['npm', undefined, 'JSONStream', '1.3.5'],
    ['npm', undefined, 'a+b', '1.0.0'],
    ['npm', undefined, 'a%b', '1.0.0'],
    ['npm', undefined, 'x', '1.0.0+build.5'],
    ['npm', undefined, 'x', '1.0.0 beta'],
    ['npm', undefined, 'x', ''],
    ['npm', undefined, 'x', undefined],
    ['npm', '', 'x', '1'],
    ['npm', '@s/t', 'x', '1'],
    ['npm', '/@s//', 'x', '1'],
    ['npm', undefined, '', '1'],
    ['npm', undefined, ' x ', '1'],
    ['npm', undefined, 'ünicode', '1'],
    ['deb', 'debian', 'libc6', '2.36-9+deb12u10', q],
    ['deb', 'debian', 'vim', '2:9.0.1378-2', q],
    ['deb', 'debian', 'pkg', '1.0~rc1-1', q],
    ['deb', 'Debian', 'LibFoo', '1.0', q],
    ['deb', 'debian', 'x', '1', { arch: 'amd64', distro: 'debian 12' }],
    ['deb', 'debian', 'x', '1', { arch: 'a~b' }],
    ['deb', 'debian', 'x', '1', { Arch: 'amd64' }],
    ['deb', 'debian', 'x', '1', { arch: '', distro: undefined }],
    ['deb', 'debian', 'x', '1', { '1arch': 'amd64' }],
    ['deb', 'debian', 'x', '1', { 'a b': 'c' }],
    ['deb', 'debian', 'x', '1', { arch: 'a&b=c' }],
    ['rpm', 'fedora', 'Foo', '1.0-1.fc39', { arch: 'x86_64', distro: 'fedora-39' }],
    ['rpm', 'Fedora', 'foo', '1.0', { epoch: '2' }],
    ['apk', 'alpine', 'musl', '1.2.4-r2', { arch: 'x86_64', distro: 'alpine-3.19.1' }],
    ['cargo', undefined, 'Serde_json', '1.0.0'],
    ['pypi', undefined, 'Django', '5.0'],
    ['pypi', undefined, 'typing_extensions', '4.0'],
    ['pypi', undefined, 'zope.interface', '6.0'],
    ['maven', 'org.apache.commons', 'commons-lang3', '3.14.0'],
    ['maven', undefined, 'commons-lang3', '3.14.0'],
    ['golang', 'github.com/sirupsen', 'logrus', 'v1.9.3'],
    ['golang', 'example.com', 'x', 'v1'],
    ['golang', undefined, 'stdlib', 'go1.19.8'],
    ['oci', undefined, 'Debian', 'sha256:abc', { repository_url: 'example.com/debian' }],
    ['oci', 'library', 'debian', 'sha256:abc'],
    ['npm', undefined, 'x', '1', undefined, 'lib/index.js'],
    ['generic', undefined, 'thing', '1'],
  ]);
});

test('purl: direct form equals packageurl-js for every package of the Node project and the Debian rootfs', async () => {
  const project = await nodeProject();
  const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { name?: string; version?: string }> };
  const inputs: Input[] = [];
  for (const [path, e] of Object.entries(lock.packages)) {
    const full = e.name ?? path.slice(path.lastIndexOf('node_modules/') + 13);
    if (!full) continue;
    const i = full.startsWith('@') ? full.indexOf('/') : -1;
    inputs.push(['npm', i > 0 ? full.slice(0, i) : undefined, i > 0 ? full.slice(i + 1) : full, e.version]);
  }
  const rootfs = await debianRootfs();
  const status = readFileSync(join(rootfs, 'var/lib/dpkg/status'), 'utf8');
  for (const para of status.split('\n\n')) {
    const name = /^Package: (.+)$/m.exec(para)?.[1];
    const version = /^Version: (.+)$/m.exec(para)?.[1];
    const arch = /^Architecture: (.+)$/m.exec(para)?.[1];
    if (name) inputs.push(['deb', 'debian', name, version, { arch, distro: 'debian-12' }]);
  }
  assert.ok(inputs.length > 500, `${inputs.length} inputs`);
  same(inputs);
});
