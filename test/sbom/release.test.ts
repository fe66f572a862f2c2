/**
 * A release directory (as `sigil sbom ./release`, like kubernetes-sigs/bom for a Kubernetes
 * release): every tarball, binary, jar and OCI layout in it becomes one package of a single SPDX
 * document, with its sha256, DESCRIBES from the document and CONTAINS to what was found inside.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSigil } from '../helpers/cli-run.js';
import { buildGoBinary, tempDir } from '../helpers/sbom-fixtures.js';
import { run } from '../helpers/images.js';
import { cyclonedxValidator, spdxValidator } from '../helpers/sbom-schemas.js';

const work = tempDir('sbom-release');
const rel = join(work, 'release');

before(async () => {
  mkdirSync(rel, { recursive: true });
  copyFileSync(buildGoBinary(join(work, 'go')), join(rel, 'app-linux-amd64'));
  const root = join(work, 'rootfs');
  mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
  writeFileSync(join(root, 'var/lib/dpkg/status'), 'Package: tiny\nStatus: install ok installed\nVersion: 0.1\nArchitecture: amd64\n');
  execFileSync('tar', ['-czf', join(rel, 'rootfs.tar.gz'), '-C', root, '.']);
  const jarSrc = join(work, 'jar');
  mkdirSync(join(jarSrc, 'META-INF/maven/org.example/lib'), { recursive: true });
  writeFileSync(join(jarSrc, 'META-INF/maven/org.example/lib/pom.properties'), 'groupId=org.example\nartifactId=lib\nversion=1.0\n');
  execFileSync('jar', ['--create', '--file', join(rel, 'lib-1.0.jar'), '-C', jarSrc, '.']);
  const layer = join(work, 'layer.tar');
  const ls = join(work, 'layersrc');
  mkdirSync(join(ls, 'lib/apk/db'), { recursive: true });
  writeFileSync(join(ls, 'lib/apk/db/installed'), 'P:busybox\nV:1.36.1-r15\nA:x86_64\n\n');
  execFileSync('tar', ['-cf', layer, '-C', ls, '.']);
  await run('umoci', ['init', '--layout', join(rel, 'image')]);
  await run('umoci', ['new', '--image', `${join(rel, 'image')}:v1`]);
  await run('umoci', ['raw', 'add-layer', '--image', `${join(rel, 'image')}:v1`, layer]);
  writeFileSync(join(rel, 'SHA256SUMS'), 'not an artifact\n');
});
after(() => rmSync(work, { recursive: true, force: true }));

interface Spdx {
  packages: { SPDXID: string; name: string; versionInfo?: string; checksums?: { algorithm: string; checksumValue: string }[]; primaryPackagePurpose?: string }[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

test('release directory: one document, a package per artifact, CONTAINS what is inside', async () => {
  const r = await runSigil(['sbom', rel], { SOURCE_DATE_EPOCH: '0' });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Spdx;
  assert.deepEqual(spdxValidator()(doc), []);
  const described = doc.relationships.filter((x) => x.spdxElementId === 'SPDXRef-DOCUMENT' && x.relationshipType === 'DESCRIBES').map((x) => x.relatedSpdxElement);
  const byId = new Map(doc.packages.map((p) => [p.SPDXID, p]));
  assert.deepEqual(described.map((id) => byId.get(id)!.name).sort(), ['app-linux-amd64', 'image:v1', 'lib-1.0.jar', 'rootfs.tar.gz']);
  const sha = (f: string) => createHash('sha256').update(readFileSync(join(rel, f))).digest('hex');
  for (const f of ['app-linux-amd64', 'rootfs.tar.gz', 'lib-1.0.jar']) {
    const p = doc.packages.find((x) => x.name === f)!;
    assert.equal(p.checksums?.find((c) => c.algorithm === 'SHA256')?.checksumValue, sha(f), f);
  }
  const contains = (artifact: string) =>
    doc.relationships
      .filter((x) => x.relationshipType === 'CONTAINS' && byId.get(x.spdxElementId)?.name === artifact)
      .map((x) => byId.get(x.relatedSpdxElement)!.name)
      .sort();
  assert.deepEqual(contains('rootfs.tar.gz'), ['tiny']);
  assert.deepEqual(contains('image:v1'), ['busybox']);
  assert.deepEqual(contains('lib-1.0.jar'), ['lib']);
  assert.ok(contains('app-linux-amd64').includes('example.com/greet'));
  // CycloneDX of the same release: no single root, all four artifacts are components.
  const c = await runSigil(['sbom', `release:${rel}`, '--format', 'cyclonedx-json'], { SOURCE_DATE_EPOCH: '0' });
  const cdx = JSON.parse(c.stdout) as { metadata: { component?: unknown }; components: { name: string }[] };
  assert.deepEqual(cyclonedxValidator()(cdx), []);
  assert.equal(cdx.metadata.component, undefined);
  for (const n of ['app-linux-amd64', 'image:v1', 'lib-1.0.jar', 'rootfs.tar.gz']) assert.ok(cdx.components.some((x) => x.name === n), n);
});
