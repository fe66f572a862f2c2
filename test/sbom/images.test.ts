/**
 * Container images as sources, built and moved with the real tools (umoci, skopeo, Debian's
 * docker-registry): the Debian rootfs as an OCI layout, pushed to a registry on 127.0.0.1 and as a
 * `docker save`-format archive (skopeo's docker-archive transport) must all give exactly the
 * packages dpkg-query reports; a hand-made three-layer image exercises whiteouts, opaque
 * directories and a file replacing a directory; a two-platform index exercises --platform.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { debianImageLayout, debianRootfs, layoutDescriptor, pushLayout, run } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runSigil } from '../helpers/cli-run.js';
import { tempDir } from '../helpers/sbom-fixtures.js';
import { cyclonedxValidator } from '../helpers/sbom-schemas.js';

const work = tempDir('sbom-img');
let registry: TestRegistry;
let truth: Set<string>;
let debLayout: string;

interface Cdx {
  metadata: { component?: { name: string; type: string; purl?: string; properties?: { name: string; value: string }[] } };
  components: { name: string; version?: string; purl?: string; type: string; properties?: { name: string; value: string }[] }[];
}

before(async () => {
  const rootfs = await debianRootfs();
  const out = execFileSync('dpkg-query', ['--admindir', join(rootfs, 'var/lib/dpkg'), '-W', '-f', '${Package} ${Version}\\n'], { encoding: 'utf8' });
  truth = new Set(out.trim().split('\n'));
  debLayout = (await debianImageLayout()).layout;
  registry = await startRegistry();
});

after(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function scan(source: string, extra: string[] = []): Promise<Cdx> {
  const r = await runSigil(['sbom', source, '--format', 'cyclonedx-json', ...extra], { SOURCE_DATE_EPOCH: '0' });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Cdx;
  assert.deepEqual(cyclonedxValidator()(doc), []);
  return doc;
}

function debs(doc: Cdx): Set<string> {
  return new Set(doc.components.filter((c) => c.purl?.startsWith('pkg:deb/')).map((c) => `${c.name} ${c.version}`));
}

test('debian OCI layout: deb packages equal dpkg-query', async () => {
  const doc = await scan(debLayout);
  assert.deepEqual(debs(doc), truth);
  assert.equal(doc.metadata.component?.type, 'container');
  assert.match(doc.metadata.component?.purl ?? '', /^pkg:oci\/layout@sha256:[0-9a-f]{64}\?arch=amd64&tag=bookworm$/);
});

test('debian image pushed to a registry on 127.0.0.1: same packages', async () => {
  const digest = await pushLayout({ layout: debLayout, tag: 'bookworm' }, `${registry.host}/test/debian:bookworm`);
  const doc = await scan(`registry:${registry.host}/test/debian:bookworm`);
  assert.deepEqual(debs(doc), truth);
  assert.equal(doc.metadata.component?.purl, `pkg:oci/debian@${digest}?arch=amd64&repository_url=${encodeURIComponent(`${registry.host}/test/debian`)}&tag=bookworm`);
  // Without the scheme, a reference that is not a path is pulled too.
  const byRef = await scan(`${registry.host}/test/debian@${digest}`);
  assert.deepEqual(debs(byRef), truth);
});

test('debian image as a docker save archive (plain and gzipped): same packages', async () => {
  const archive = join(work, 'debian-docker.tar');
  await run('skopeo', ['copy', '--quiet', '--insecure-policy', `oci:${debLayout}:bookworm`, `docker-archive:${archive}:test/debian:bookworm`]);
  const doc = await scan(archive);
  assert.deepEqual(debs(doc), truth);
  assert.equal(doc.metadata.component?.name, 'docker.io/test/debian:bookworm');
  execFileSync('gzip', ['-1', '-k', archive]);
  const gz = await scan(`docker-archive:${archive}.gz`);
  assert.deepEqual(debs(gz), truth);
});

/** A layer tarball from a directory tree; `entries` maps path → file content, or a {link} symlink. */
function layerTar(name: string, entries: Record<string, string | { link: string }>): string {
  const dir = join(work, `layer-${name}`);
  for (const [p, v] of Object.entries(entries)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    if (typeof v === 'string') writeFileSync(join(dir, p), v);
    else symlinkSync(v.link, join(dir, p));
  }
  const tar = join(work, `${name}.tar`);
  execFileSync('tar', ['--numeric-owner', '-cf', tar, '-C', dir, '.']);
  return tar;
}

const status = (...pkgs: [string, string][]) =>
  pkgs.map(([n, v]) => `Package: ${n}\nStatus: install ok installed\nVersion: ${v}\nArchitecture: amd64\nMaintainer: T <t@example.com>\n`).join('\n');
const pkgJson = (name: string, version: string) => JSON.stringify({ name, version, license: 'MIT' });

test('layers: whiteouts, opaque directories and a file replacing a directory', async () => {
  const layout = join(work, 'layered');
  await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', `${layout}:t`]);
  const l1 = layerTar('l1', {
    'var/lib/dpkg/status': status(['pkg-a', '1.0'], ['pkg-b', '2.0']),
    'lib/apk/db/installed': 'P:apk-x\nV:1.0-r0\nA:x86_64\n\n',
    'opt/app/package.json': pkgJson('app', '1.0.0'),
    'opt/app/node_modules/left-pad/package.json': pkgJson('left-pad', '1.0.0'),
    'srv/package.json': pkgJson('srv', '1.0.0'),
    'srv/node_modules/gone/package.json': pkgJson('gone', '9.9.9'),
  });
  const l2 = layerTar('l2', {
    'var/lib/dpkg/status': status(['pkg-a', '1.0'], ['pkg-c', '3.0']),
    'lib/apk/.wh.db': '',
    'opt/app/node_modules/.wh..wh..opq': '',
    'opt/app/node_modules/right-pad/package.json': pkgJson('right-pad', '2.0.0'),
  });
  rmSync(join(work, 'layer-l3'), { recursive: true, force: true });
  const l3 = layerTar('l3', { srv: 'now a plain file', 'usr/lib/os-release': 'ID=debian\nVERSION_ID="12"\n', 'etc/os-release': { link: '../usr/lib/os-release' } });
  for (const l of [l1, l2, l3]) await run('umoci', ['raw', 'add-layer', '--image', `${layout}:t`, l]);
  const doc = await scan(layout);
  const got = doc.components.filter((c) => c.purl && c.type !== 'operating-system').map((c) => c.purl!.replace(/\?.*$/, '')).sort();
  assert.deepEqual(got, ['pkg:deb/debian/pkg-a@1.0', 'pkg:deb/debian/pkg-c@3.0', 'pkg:npm/app@1.0.0', 'pkg:npm/right-pad@2.0.0']);
  assert.ok(doc.components.some((c) => c.type === 'operating-system' && c.version === '12'));
  // Each package says which layer it came from.
  const layerOf = (name: string) => doc.components.find((c) => c.name === name)?.properties?.find((p) => p.name === 'sigil:layer')?.value;
  const manifest = JSON.parse(readFileSync(join(layout, 'blobs', ...layoutDescriptor(layout, 't').digest.split(':')), 'utf8')) as { layers: { digest: string }[] };
  assert.equal(layerOf('right-pad'), manifest.layers[1]!.digest);
  assert.equal(layerOf('app'), manifest.layers[0]!.digest);
  assert.equal(layerOf('pkg-c'), manifest.layers[1]!.digest);
});

test('multi-arch index: --platform picks one image, "all" gives one root per platform', async () => {
  const layout = join(work, 'multi');
  await run('umoci', ['init', '--layout', layout]);
  const platforms: { architecture: string; digest: string; size: number }[] = [];
  for (const arch of ['amd64', 'arm64']) {
    await run('umoci', ['new', '--image', `${layout}:${arch}`]);
    await run('umoci', ['raw', 'add-layer', '--image', `${layout}:${arch}`, layerTar(`m-${arch}`, { 'lib/apk/db/installed': `P:only-${arch}\nV:1.0-r0\nA:${arch}\n\n` })]);
    await run('umoci', ['config', '--image', `${layout}:${arch}`, `--architecture=${arch}`]);
    const d = layoutDescriptor(layout, arch);
    platforms.push({ architecture: arch, digest: d.digest, size: d.size });
  }
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: platforms.map((p) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: p.digest, size: p.size, platform: { architecture: p.architecture, os: 'linux' } })),
    }),
  );
  const hex = createHash('sha256').update(index).digest('hex');
  writeFileSync(join(layout, 'blobs', 'sha256', hex), index);
  const li = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: unknown[] };
  li.manifests.push({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${hex}`, size: index.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } });
  writeFileSync(join(layout, 'index.json'), JSON.stringify(li));
  const names = (doc: Cdx) => doc.components.filter((c) => c.purl?.startsWith('pkg:apk/')).map((c) => c.name).sort();
  assert.deepEqual(names(await scan(`oci-dir:${layout}:multi`, ['--platform', 'linux/arm64'])), ['only-arm64']);
  assert.deepEqual(names(await scan(`oci-dir:${layout}:multi`, ['--platform', 'linux/amd64'])), ['only-amd64']);
  const all = await scan(`oci-dir:${layout}:multi`, ['--platform', 'all']);
  assert.deepEqual(names(all), ['only-amd64', 'only-arm64']);
  assert.equal(all.metadata.component, undefined);
  assert.equal(all.components.filter((c) => c.type === 'container').length, 2);
  const bad = await runSigil(['sbom', `oci-dir:${layout}:multi`, '--platform', 'linux/s390x']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /NOT_FOUND: .* has no image for platform linux\/s390x \(it has: linux\/amd64, linux\/arm64\)/);
  // The same index through the registry.
  await pushLayout({ layout, tag: 'multi' }, `${registry.host}/test/multi:v1`, { all: true });
  assert.deepEqual(names(await scan(`registry:${registry.host}/test/multi:v1`, ['--platform', 'linux/arm64'])), ['only-arm64']);
});
