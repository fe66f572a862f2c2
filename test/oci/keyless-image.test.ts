/**
 * Keyless image signing against a running `sigil up` stack (dev OIDC issuer → CA with CT log →
 * Rekor v2 transparency log → TSA) and the real docker-registry: several images signed with one
 * short-lived certificate, verified by identity under both schemes, the referrer bundle also by
 * sigstore-js with its default thresholds; the cosign-format annotations alone (certificate,
 * chain, RFC 3161 timestamp) verify through the legacy conversion.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { bundleFromJSON as sigstoreBundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot as ProtoTrustedRoot } from '@sigstore/protobuf-specs';
import { SigilError } from '../../src/core/errors.js';
import { parseSigningConfig } from '../../src/formats/signing-config.js';
import { beginKeyless, servicesFromSigningConfig, type KeylessSession } from '../../src/sign/keyless.js';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { verify } from '../../src/verify/verify.js';
import { RegistryClient } from '../../src/oci/client.js';
import { parseReference } from '../../src/oci/reference.js';
import { resolveTargets, signTarget, type ImageProducer } from '../../src/oci/sign-image.js';
import { requireVerified, verifyImageSignatures } from '../../src/oci/verify-image.js';
import { discoverAttachments } from '../../src/oci/attachments.js';
import { legacyLayerToBundle } from '../../src/oci/legacy-bundle.js';
import { ANNOTATION_CERTIFICATE, ANNOTATION_CHAIN, ANNOTATION_RFC3161, ANNOTATION_SIGIL_BUNDLE, MANIFEST_ACCEPT } from '../../src/oci/media-types.js';
import { startTestStack } from '../helpers/keyless.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushTinyImage } from '../helpers/images.js';

type TestStack = Awaited<ReturnType<typeof startTestStack>>;
let stack: TestStack;
let reg: TestRegistry;
let client: RegistryClient;
let trustJson: unknown;
let root: TrustedRoot;
let session: KeylessSession;
let producer: ImageProducer;
let images: { ref: string; digest: string }[];
const SAN = 'dev@sigil.local';

before(async () => {
  [stack, reg] = await Promise.all([startTestStack(), startRegistry()]);
  trustJson = JSON.parse(readFileSync(stack.trustedRootPath, 'utf8'));
  root = TrustedRoot.fromJSON(trustJson);
  client = new RegistryClient({ env: { HOME: '/nonexistent' } });
  const services = servicesFromSigningConfig(parseSigningConfig(readFileSync(stack.signingConfigPath)));
  session = await beginKeyless({ token: await stack.oidc.mint(), caUrl: services.caUrl, tlog: services.tlogs[0]!, tsaUrls: services.tsaUrls });
  producer = { signer: session.signer, certificate: session.certificate, chain: session.chain.slice(1), ...(session.tlog ? { tlog: session.tlog } : {}), tsaUrls: session.tsaUrls };
  images = await Promise.all([1, 2, 3].map((i) => pushTinyImage(reg.host, `keyless/app${i}`, 'v1', { content: `keyless ${i}` })));
});

after(async () => {
  client?.close();
  await reg?.stop();
  await stack?.stop();
});

const identity = () => ({ identity: { subjectAlternativeName: { exact: SAN }, issuer: { exact: stack.urls.oidc } } });

test('three images signed with one certificate; each verifies by identity under both schemes', async () => {
  const certs = new Set<string>();
  for (const img of images) {
    const [t] = await resolveTargets(client, parseReference(img.ref));
    const r = await signTarget(client, t!, { producer, tagScheme: 'always' });
    assert.equal(r.referrer.via, 'tag-schema');
    const v = await verifyImageSignatures(client, parseReference(img.ref), { policy: identity(), trust: { root } });
    assert.deepEqual(v.verified.map((x) => x.scheme).sort(), ['referrer', 'tag'], JSON.stringify(v.rejected.map((x) => x.error.message)));
    for (const x of v.verified) {
      assert.equal(x.result.signer.kind, 'certificate');
      if (x.result.signer.kind === 'certificate') certs.add(x.result.signer.serialNumber);
      assert.ok(x.result.timestamps.some((ts) => ts.source === 'timestamp-authority'));
      assert.equal(x.result.tlogEntries.length, 1);
    }
  }
  assert.equal(certs.size, 1, 'one certificate for the whole run');
  const wrong = await verifyImageSignatures(client, parseReference(images[0]!.ref), { policy: { identity: { subjectAlternativeName: { exact: 'mallory@sigil.local' }, issuer: { exact: stack.urls.oidc } } }, trust: { root } });
  assert.throws(() => requireVerified(wrong, 'signatures'), (e: SigilError) => e.code === 'IDENTITY_MISMATCH' && e.kind === 'verification');
});

test('the referrer bundle, fetched by hand, verifies with @sigstore/verify (1 SCT, 1 tlog entry, 1 timestamp)', async () => {
  const img = images[0]!;
  const found = await discoverAttachments(client, parseReference(img.ref), img.digest);
  const referrer = found.referrers[0]!.descriptor.digest;
  const m = (await (await fetch(`http://${reg.host}/v2/keyless/app1/manifests/${referrer}`, { headers: { accept: MANIFEST_ACCEPT } })).json()) as { layers: { digest: string }[] };
  const bundle = (await (await fetch(`http://${reg.host}/v2/keyless/app1/blobs/${m.layers[0]!.digest}`)).json()) as Record<string, unknown>;
  const verifier = new Verifier(toTrustMaterial(ProtoTrustedRoot.fromJSON(trustJson)));
  const signer = verifier.verify(toSignedEntity(sigstoreBundleFromJSON(bundle)), { subjectAlternativeName: SAN, extensions: { issuer: stack.urls.oidc } });
  assert.equal(signer.identity?.subjectAlternativeName, SAN);
  const payload = JSON.parse(Buffer.from((bundle.dsseEnvelope as { payload: string }).payload, 'base64').toString()) as { subject: { digest: { sha256: string } }[] };
  assert.equal(`sha256:${payload.subject[0]!.digest.sha256}`, img.digest);
});

test('cosign-format keyless annotations (certificate, chain, RFC 3161) verify through the legacy conversion', async () => {
  const img = images[1]!;
  const found = await discoverAttachments(client, parseReference(img.ref), img.digest);
  const sig = found.tags.find((t) => t.kind === 'signature')!;
  const layer = sig.layers[0]!;
  assert.ok(layer.annotations?.[ANNOTATION_CERTIFICATE]?.startsWith('-----BEGIN CERTIFICATE-----'));
  assert.ok(layer.annotations?.[ANNOTATION_CHAIN]?.includes('-----BEGIN CERTIFICATE-----'));
  assert.ok(layer.annotations?.[ANNOTATION_RFC3161]);
  const { [ANNOTATION_SIGIL_BUNDLE]: _drop, ...cosignOnly } = layer.annotations!;
  const payload = await client.getBlob(parseReference(img.ref), layer.digest);
  const legacy = legacyLayerToBundle({ mediaType: layer.mediaType, annotations: cosignOnly }, payload, 'sig');
  // A Rekor v2 entry cannot be expressed in cosign's annotation: without the embedded bundle the
  // log entry is gone, so only a waived tlog requirement accepts it (timestamp from the TSA).
  await assert.rejects(verify(legacy, { bytes: payload }, identity(), { root }), (e: SigilError) => e.kind === 'verification');
  const r = await verify(legacy, { bytes: payload }, { ...identity(), tlogThreshold: 0 }, { root });
  assert.equal(r.signer.kind, 'certificate');
  assert.ok(r.timestamps.some((t) => t.source === 'timestamp-authority'));
});
