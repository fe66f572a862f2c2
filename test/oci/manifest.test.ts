import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SigilError } from '../../src/core/errors.js';
import { parseManifest, referrerDescriptor } from '../../src/oci/manifest.js';

const D1 = 'sha256:' + '11'.repeat(32);
const D2 = 'sha256:' + '22'.repeat(32);
const OCI_M = 'application/vnd.oci.image.manifest.v1+json';
const OCI_I = 'application/vnd.oci.image.index.v1+json';

const image = {
  schemaVersion: 2,
  mediaType: OCI_M,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D1, size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D2, size: 20 }],
};
const b = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));

test('manifest: the four manifest kinds parse; Content-Type parameters are ignored', () => {
  const m = parseManifest(b(image), `${OCI_M}; charset=utf-8`);
  assert.equal(m.kind, 'manifest');
  assert.equal(m.mediaType, OCI_M);
  const docker = parseManifest(b({ ...image, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' }), 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(docker.kind, 'manifest');
  const idx = { schemaVersion: 2, mediaType: OCI_I, manifests: [{ mediaType: OCI_M, digest: D1, size: 5, platform: { architecture: 'arm64', os: 'linux' } }] };
  const i = parseManifest(b(idx), OCI_I);
  assert.equal(i.kind, 'index');
  assert.equal(i.kind === 'index' && i.manifests[0]!.platform?.architecture, 'arm64');
  const list = parseManifest(b({ ...idx, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' }), undefined);
  assert.equal(list.kind, 'index');
  // OCI manifests may omit mediaType: the registry's Content-Type decides.
  const { mediaType: _omit, ...noType } = image;
  assert.equal(parseManifest(b(noType), OCI_M).mediaType, OCI_M);
});

test('manifest: artifact manifests with subject and artifactType, and their referrers descriptor', () => {
  const art = {
    ...image,
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    subject: { mediaType: OCI_M, digest: D2, size: 99 },
    annotations: { 'org.opencontainers.image.created': '2025-01-01T00:00:00Z' },
  };
  const bytes = b(art);
  const m = parseManifest(bytes, OCI_M);
  assert.equal(m.subject?.digest, D2);
  const d = referrerDescriptor(m, bytes, D1);
  assert.deepEqual(d, { mediaType: OCI_M, digest: D1, size: bytes.length, artifactType: art.artifactType, annotations: art.annotations });
  // Without artifactType the config media type stands in (distribution spec "Listing Referrers").
  const plain = parseManifest(b({ ...image, subject: { mediaType: OCI_M, digest: D2, size: 1 } }), OCI_M);
  assert.equal(referrerDescriptor(plain, bytes, D1).artifactType, 'application/vnd.oci.image.config.v1+json');
});

test('manifest: unknown media types are MEDIA_TYPE_UNSUPPORTED', () => {
  for (const [body, ct] of [
    [{ ...image, mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' }, undefined],
    [image, 'application/vnd.oci.artifact.manifest.v1+json'],
    [{ ...image, mediaType: 'text/plain' }, undefined],
  ] as [unknown, string | undefined][]) {
    assert.throws(() => parseManifest(b(body), ct), (e: SigilError) => e.code === 'MEDIA_TYPE_UNSUPPORTED' && !!e.hint);
  }
});

test('manifest: malformed manifests are MANIFEST_MALFORMED naming the field', () => {
  const cases: [unknown, string | undefined, RegExp][] = [
    [image, OCI_I, /body says mediaType .* Content-Type/],
    [{ ...image, schemaVersion: 1 }, OCI_M, /schemaVersion must be 2/],
    [{ ...image, layers: 'x' }, OCI_M, /layers array/],
    [{ ...image, config: { ...image.config, digest: 'sha256:xyz' } }, OCI_M, /config: digest/],
    [{ ...image, config: { ...image.config, size: -1 } }, OCI_M, /size must be a non-negative integer/],
    [{ ...image, config: { ...image.config, size: 1.5 } }, OCI_M, /size/],
    [{ ...image, layers: [{ digest: D1, size: 1 }] }, OCI_M, /layers\[0\]: mediaType/],
    [{ ...image, annotations: { a: 1 } }, OCI_M, /annotation 'a' must be a string/],
    [{ ...image, subject: 'x' }, OCI_M, /subject: must be an object/],
    [{ ...image, artifactType: 7 }, OCI_M, /artifactType must be a string/],
    [{ schemaVersion: 2, mediaType: OCI_I, manifests: [{}] }, OCI_I, /manifests\[0\]/],
    [{ schemaVersion: 2, mediaType: OCI_I, manifests: [], layers: [] }, OCI_I, /must not have config or layers/],
    [{ ...image, manifests: [] }, OCI_M, /must not have a manifests array/],
    [[1, 2], OCI_M, /JSON object/],
  ];
  for (const [body, ct, re] of cases) {
    assert.throws(() => parseManifest(b(body), ct), (e: SigilError) => e.code === 'MANIFEST_MALFORMED' && re.test(e.message), `expected ${re}`);
  }
  assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":2,'), OCI_M), (e: SigilError) => e.code === 'MANIFEST_MALFORMED');
});
