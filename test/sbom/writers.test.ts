/**
 * SPDX 2.3 and CycloneDX 1.6 writers: schema validity against the official schemas (checked to
 * accept the upstream examples and reject upstream invalid fixtures), determinism, and the
 * mapping of licenses, suppliers, checksums and relationships.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import type { SbomDocument } from '../../src/formats/sbom-model.js';
import { toSpdxJson, writeSpdxJson, spdxId } from '../../src/formats/spdx.js';
import { toCycloneDxJson, writeCycloneDxJson } from '../../src/formats/cyclonedx.js';
import { cyclonedxValidator, spdxValidator } from '../helpers/sbom-schemas.js';
import { corpusPath } from '../helpers/paths.js';

function sample(): SbomDocument {
  return {
    name: 'release v1.2.3',
    created: new Date('2024-01-02T03:04:05.678Z'),
    tool: { name: 'sigil', version: '0.1.0' },
    roots: ['archive-app.tar.gz-1', 'binary-app-2'],
    packages: [
      { id: 'archive-app.tar.gz-1', kind: 'archive', name: 'app.tar.gz', checksums: [{ algorithm: 'SHA256', value: 'ab'.repeat(32) }], locations: ['release/app.tar.gz'] },
      { id: 'binary-app-2', kind: 'binary', name: 'app', locations: ['release/app'] },
      {
        id: 'npm-left-pad-1.3.0-x',
        kind: 'npm',
        name: 'left-pad',
        version: '1.3.0',
        purl: 'pkg:npm/left-pad@1.3.0',
        license: 'WTFPL',
        supplier: { kind: 'Person', name: 'azer (the author)', email: 'a@example.com' },
        checksums: [
          { algorithm: 'SHA512', value: 'cd'.repeat(64) },
          { algorithm: 'SHA1', value: 'ef'.repeat(20) },
        ],
        homepage: 'https://github.com/stevemao/left-pad',
        locations: ['/node_modules/left-pad/package.json'],
        properties: { 'sigil:z': '1', 'sigil:a': '2' },
      },
      { id: 'deb-x-1', kind: 'deb', name: 'x', version: '1:2.0-1', purl: 'pkg:deb/debian/x@1:2.0-1?arch=amd64', license: 'GPL-2.0-or-later AND LicenseRef-public-domain', locations: ['/var/lib/dpkg/status'] },
      { id: 'deb-y-1', kind: 'deb', name: 'y', version: '1', license: 'LicenseRef-public-domain', locations: [] },
      { id: 'deb-z-1', kind: 'deb', name: 'z', version: '1', license: 'MIT OR Apache-2.0', locations: [] },
      { id: 'os-debian-12', kind: 'operating-system', name: 'debian', version: '12', locations: ['/etc/os-release'] },
    ],
    relationships: [
      { from: 'archive-app.tar.gz-1', type: 'CONTAINS', to: 'npm-left-pad-1.3.0-x' },
      { from: 'binary-app-2', type: 'CONTAINS', to: 'deb-x-1' },
      { from: 'deb-x-1', type: 'DEPENDS_ON', to: 'deb-y-1' },
      { from: 'deb-z-1', type: 'DEV_DEPENDENCY_OF', to: 'deb-x-1' },
    ],
    extractedLicenses: [{ id: 'LicenseRef-public-domain', name: 'public-domain', text: 'public-domain' }],
  };
}

test('schema validators accept the official examples and reject the invalid fixtures', () => {
  const spdxExample = JSON.parse(readFileSync(corpusPath('spdx', 'v2.3', 'SPDXJSONExample-v2.3.spdx.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(spdxValidator()(spdxExample), []);
  assert.notDeepEqual(spdxValidator()({ ...spdxExample, SPDXID: undefined, spdxVersion: 7 }), []);
  const dir = corpusPath('cyclonedx', 'test-resources', '1.6');
  let valid = 0;
  let invalid = 0;
  for (const f of readdirSync(dir)) {
    const errs = cyclonedxValidator()(JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')));
    if (f.startsWith('valid-')) {
      assert.deepEqual(errs, [], f);
      valid++;
    } else if (f.startsWith('invalid-')) {
      assert.notDeepEqual(errs, [], f);
      invalid++;
    }
  }
  assert.ok(valid >= 40 && invalid >= 20, `${valid} valid, ${invalid} invalid fixtures`);
});

test('SPDX 2.3: valid, ids sanitized, LicenseRefs declared, relationships sorted', () => {
  const doc = toSpdxJson(sample()) as {
    packages: Record<string, unknown>[];
    relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
    hasExtractedLicensingInfos: { licenseId: string }[];
    documentNamespace: string;
    creationInfo: { created: string };
  };
  assert.deepEqual(spdxValidator()(doc), []);
  assert.equal(doc.creationInfo.created, '2024-01-02T03:04:05Z');
  assert.equal(spdxId('a b/c@1'), 'SPDXRef-a-b-c-1');
  const lp = doc.packages.find((p) => p.name === 'left-pad')!;
  assert.equal(lp.supplier, 'Person: azer the author (a@example.com)');
  assert.deepEqual(lp.checksums, [
    { algorithm: 'SHA1', checksumValue: 'ef'.repeat(20) },
    { algorithm: 'SHA512', checksumValue: 'cd'.repeat(64) },
  ]);
  assert.equal(lp.comment, 'sigil:a=2; sigil:z=1');
  assert.deepEqual(doc.hasExtractedLicensingInfos.map((l) => l.licenseId), ['LicenseRef-public-domain']);
  const describes = doc.relationships.filter((r) => r.relationshipType === 'DESCRIBES').map((r) => r.relatedSpdxElement);
  assert.deepEqual(describes, ['SPDXRef-archive-app.tar.gz-1', 'SPDXRef-binary-app-2']);
  const keys = doc.relationships.map((r) => `${r.spdxElementId} ${r.relationshipType} ${r.relatedSpdxElement}`);
  assert.deepEqual(keys, [...keys].sort());
  assert.match(doc.documentNamespace, /^https:\/\/sigil\.dev\/spdx\/release-v1\.2\.3-[0-9a-f]{32}$/);
});

test('CycloneDX 1.6: valid; license id, expression and LicenseRef name; dependencies', () => {
  const doc = toCycloneDxJson(sample()) as {
    serialNumber: string;
    components: { name: string; licenses?: unknown[]; hashes?: { alg: string }[] }[];
    dependencies: { ref: string; dependsOn?: string[] }[];
    metadata: { component?: unknown };
  };
  assert.deepEqual(cyclonedxValidator()(doc), []);
  assert.match(doc.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const lic = (n: string) => doc.components.find((c) => c.name === n)!.licenses;
  assert.deepEqual(lic('left-pad'), [{ license: { id: 'WTFPL' } }]);
  assert.deepEqual(lic('x'), [{ expression: 'GPL-2.0-or-later AND LicenseRef-public-domain' }]);
  assert.deepEqual(lic('y'), [{ license: { name: 'public-domain' } }]);
  assert.deepEqual(lic('z'), [{ expression: 'MIT OR Apache-2.0' }]);
  assert.deepEqual(doc.components.find((c) => c.name === 'left-pad')!.hashes!.map((h) => h.alg), ['SHA-1', 'SHA-512']);
  // two roots → no metadata.component, both artifacts are components
  assert.equal(doc.metadata.component, undefined);
  assert.deepEqual(doc.dependencies.find((d) => d.ref === 'deb-x-1'), { ref: 'deb-x-1', dependsOn: ['deb-y-1', 'deb-z-1'] });
});

test('writers are deterministic: input order does not change a byte', () => {
  const a = sample();
  const b = sample();
  b.packages.reverse();
  b.relationships.reverse();
  assert.equal(writeSpdxJson(a), writeSpdxJson(b));
  assert.equal(writeCycloneDxJson(a), writeCycloneDxJson(b));
  const c = sample();
  c.packages[2]!.version = '1.3.1';
  assert.notEqual(writeSpdxJson(a), writeSpdxJson(c));
  assert.notEqual((toSpdxJson(a) as { documentNamespace: string }).documentNamespace, (toSpdxJson(c) as { documentNamespace: string }).documentNamespace);
});

test('CycloneDX with one root puts it in metadata.component', () => {
  const d = sample();
  d.roots = ['binary-app-2'];
  const doc = toCycloneDxJson(d) as { metadata: { component: { name: string } }; components: { name: string }[] };
  assert.equal(doc.metadata.component.name, 'app');
  assert.ok(!doc.components.some((c) => c.name === 'app'));
  assert.deepEqual(cyclonedxValidator()(doc), []);
});
