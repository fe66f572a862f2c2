/**
 * sign / attest / attach sbom against the real docker-registry (no referrers API: referrers go
 * through the tag schema and cosign tags are written too) and the spec-following registry (API:
 * no tags by default), verified back by sigil under both schemes and, fetched by hand, by
 * sigstore-js (@sigstore/verify). Faults: a registry failing mid-push leaves nothing visible.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { bundleFromJSON as sigstoreBundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot as ProtoTrustedRoot, PublicKeyDetails } from '@sigstore/protobuf-specs';
import { SigilError } from '../../src/core/errors.js';
import { generateKeyPair, publicKeyHint } from '../../src/crypto/keys.js';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import { RegistryClient, referrersTag } from '../../src/oci/client.js';
import { parseReference, withDigest } from '../../src/oci/reference.js';
import { attachSbom, attestTarget, resolveTargets, signTarget } from '../../src/oci/sign-image.js';
import { requireVerified, verifyImageAttestations, verifyImageSignatures } from '../../src/oci/verify-image.js';
import { discoverAttachments } from '../../src/oci/attachments.js';
import { attachmentTag } from '../../src/oci/tag-scheme.js';
import { MANIFEST_ACCEPT, SPDX_JSON } from '../../src/oci/media-types.js';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushMultiArchIndex, pushTinyImage } from '../helpers/images.js';
import { startReferrersRegistry, type ReferrersRegistry } from '../helpers/referrers-registry.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';

let reg: TestRegistry;
let api: ReferrersRegistry;
let proxy: FaultProxy;
let client: RegistryClient;
const kp = generateKeyPair('ecdsa-p256');
const signer = new LocalSigner(kp.privateKey);
const producer = { signer };
const trust = { root: TrustedRoot.publicGood() };
const keyPolicy = { key: kp.publicKey, tlogThreshold: 0 };

before(async () => {
  reg = await startRegistry();
  api = await startReferrersRegistry();
  proxy = await startFaultProxy(reg.host);
  client = new RegistryClient({ env: { HOME: '/nonexistent' }, retryBaseMs: 5, retries: 2 });
});

after(async () => {
  client?.close();
  await proxy?.stop();
  await api?.stop();
  await reg?.stop();
});

/** What a third party sees: the referrer bundle fetched with plain HTTP, verified by sigstore-js. */
async function sigstoreJsVerifiesReferrer(host: string, repo: string, referrerDigest: string, imageDigest: string): Promise<void> {
  const m = (await (await fetch(`http://${host}/v2/${repo}/manifests/${referrerDigest}`, { headers: { accept: MANIFEST_ACCEPT } })).json()) as { layers: { digest: string }[]; subject: { digest: string } };
  assert.equal(m.subject.digest, imageDigest);
  const bundleJson = (await (await fetch(`http://${host}/v2/${repo}/blobs/${m.layers[0]!.digest}`)).json()) as Record<string, unknown>;
  const root = ProtoTrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
  const material = toTrustMaterial(root, {
    [publicKeyHint(kp.publicKey)]: {
      rawBytes: kp.publicKey.export({ type: 'spki', format: 'der' }),
      keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
      validFor: { start: new Date(0) },
    },
  });
  const verifier = new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, tsaThreshold: 0 });
  const signer = verifier.verify(toSignedEntity(sigstoreBundleFromJSON(bundleJson)));
  assert.equal(signer.key.type, 'public');
}

test('sign: a tiny image on distribution 2.8 gets a bundle referrer (tag-schema index) and a cosign .sig; both verify', async () => {
  const img = await pushTinyImage(reg.host, 'sign/app', 'v1');
  let warned = '';
  const [t] = await resolveTargets(client, parseReference(img.ref), { onTag: (tag, d) => (warned = `${tag}->${d}`) });
  assert.equal(warned, `v1->${img.digest}`);
  const r = await signTarget(client, t!, { producer, annotations: { env: 'prod' } });
  assert.equal(r.referrer.via, 'tag-schema');
  assert.equal(r.tag?.tag, attachmentTag(img.digest, 'sig'));
  const v = await verifyImageSignatures(client, parseReference(img.ref), { policy: keyPolicy, trust, annotations: { env: 'prod' } });
  assert.deepEqual(v.verified.map((x) => x.scheme).sort(), ['referrer', 'tag']);
  assert.deepEqual(v.rejected, []);
  const statement = v.verified.find((x) => x.scheme === 'referrer')!.payload as { predicateType: string; subject: { annotations: unknown }[] };
  assert.equal(statement.predicateType, 'https://sigstore.dev/cosign/sign/v1');
  assert.deepEqual(statement.subject[0]!.annotations, { env: 'prod' });
  await sigstoreJsVerifiesReferrer(reg.host, 'sign/app', r.referrer.digest, img.digest);
  // Wrong annotation: both schemes refuse.
  const no = await verifyImageSignatures(client, parseReference(img.ref), { policy: keyPolicy, trust, annotations: { env: 'dev' } });
  assert.equal(no.verified.length, 0);
  assert.equal(no.rejected.length, 2);
  // Signing again appends: two layers in .sig, two referrers.
  await signTarget(client, t!, { producer });
  const found = await discoverAttachments(client, t!.reference, img.digest);
  assert.equal(found.referrers.length, 2);
  assert.equal(found.tags.find((x) => x.kind === 'signature')!.layers.length, 2);
});

test('sign --recursive: an index and each platform manifest are signed', async () => {
  const multi = await pushMultiArchIndex(reg.host, 'sign/multi', 'v1');
  const targets = await resolveTargets(client, parseReference(multi.ref), { recursive: true });
  assert.deepEqual(targets.map((t) => t.descriptor.digest), [multi.digest, ...multi.platforms.map((p) => p.digest)]);
  for (const t of targets) await signTarget(client, t, { producer, tagScheme: 'never' });
  for (const d of [multi.digest, ...multi.platforms.map((p) => p.digest)]) {
    const v = await verifyImageSignatures(client, { ...parseReference(multi.ref), digest: d }, { policy: keyPolicy, trust });
    assert.equal(v.verified.length, 1);
    assert.equal(v.verified[0]!.scheme, 'referrer');
  }
  await assert.rejects(resolveTargets(client, parseReference(`${multi.ref.split(':v1')[0]}@${multi.platforms[0]!.digest}`), { recursive: true }), (e: SigilError) => e.code === 'USAGE');
});

test('sign on a registry with the referrers API: no tags unless asked; sigstore-js verifies the referrer', async () => {
  const repo = { registry: api.host, repository: 'api/app' };
  // Push a tiny "image" by hand: config + layer + manifest.
  const cfg = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  await client.putBlob(repo, cfg);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: (await client.putBlob(repo, cfg)).digest, size: cfg.length }, layers: [] }));
  const put = await client.putManifest(repo, 'v1', manifest, 'application/vnd.oci.image.manifest.v1+json');
  const [t] = await resolveTargets(client, { ...repo, tag: 'v1' });
  const r = await signTarget(client, t!, { producer });
  assert.equal(r.referrer.via, 'api');
  assert.equal(r.tag, undefined);
  assert.ok(!(await client.listTags(repo)).some((x) => x.startsWith('sha256-')));
  const v = await verifyImageSignatures(client, { ...repo, digest: put.digest }, { policy: keyPolicy, trust });
  assert.equal(v.verified.length, 1);
  await sigstoreJsVerifiesReferrer(api.host, 'api/app', r.referrer.digest, put.digest);
  const always = await signTarget(client, t!, { producer, tagScheme: 'always' });
  assert.equal(always.tag?.tag, attachmentTag(put.digest, 'sig'));
});

test('attest: DSSE referrer and cosign .att, found by predicate type; verify-attestation with another type finds none', async () => {
  const img = await pushTinyImage(reg.host, 'attest/app', 'v1');
  const [t] = await resolveTargets(client, parseReference(img.ref));
  const predicate = { buildDefinition: { buildType: 'https://example.com/build' }, runDetails: { builder: { id: 'https://example.com/ci' } } };
  const r = await attestTarget(client, t!, { producer, predicateType: 'https://slsa.dev/provenance/v1', predicate });
  assert.ok(r.tag);
  const v = await verifyImageAttestations(client, parseReference(img.ref), { policy: keyPolicy, trust, predicateType: 'https://slsa.dev/provenance/v1' });
  assert.deepEqual(v.verified.map((x) => x.scheme).sort(), ['referrer', 'tag']);
  assert.deepEqual((v.verified[0]!.payload as { predicate: unknown }).predicate, predicate);
  const other = await verifyImageAttestations(client, parseReference(img.ref), { policy: keyPolicy, trust, predicateType: 'https://spdx.dev/Document' });
  assert.throws(() => requireVerified(other, 'attestations'), (e: SigilError) => e.code === 'SIGNATURE_MISSING' && e.message === `no attestations found for ${img.digest}`);
  // Attestations are not signatures.
  const sigs = await verifyImageSignatures(client, parseReference(img.ref), { policy: keyPolicy, trust });
  assert.throws(() => requireVerified(sigs, 'signatures'), (e: SigilError) => e.code === 'SIGNATURE_MISSING');
});

test('attach sbom: referrer with the SBOM media type, .sbom tag, and an attestation when signed', async () => {
  const img = await pushTinyImage(reg.host, 'sbom/app', 'v1');
  const [t] = await resolveTargets(client, parseReference(img.ref));
  const sbom = Buffer.from(JSON.stringify({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name: 'app', packages: [] }));
  const r = await attachSbom(client, t!, { sbom, mediaType: SPDX_JSON, predicateType: 'https://spdx.dev/Document', producer });
  assert.ok(r.tag && r.attestation);
  const found = await discoverAttachments(client, t!.reference, img.digest);
  const kinds = found.referrers.map((x) => x.kind).sort();
  assert.deepEqual(kinds, ['attestation', 'sbom']);
  assert.deepEqual(found.tags.map((x) => x.kind).sort(), ['attestation', 'sbom']);
  const sbomRef = found.referrers.find((x) => x.kind === 'sbom')!;
  const m = await client.getManifest(withDigest(t!.reference, sbomRef.descriptor.digest));
  assert.equal(m.manifest.kind === 'manifest' && m.manifest.artifactType, SPDX_JSON);
  if (m.manifest.kind === 'manifest') assert.deepEqual(await client.getBlob(t!.reference, m.manifest.layers[0]!.digest), sbom);
  const v = await verifyImageAttestations(client, parseReference(img.ref), { policy: keyPolicy, trust, predicateType: 'https://spdx.dev/Document' });
  assert.equal(v.verified.length, 2);
});

test('nothing is pushed partially: a registry failing the referrer manifest or the blob upload leaves no attachment', async () => {
  const img = await pushTinyImage(reg.host, 'partial/app', 'v1');
  const viaProxy = parseReference(`${proxy.host}/partial/app:v1`);
  const [t] = await resolveTargets(client, viaProxy);
  proxy.setFault({ match: (m, p) => m === 'PUT' && p.includes('/manifests/'), kind: 'status', status: 500, times: 100 });
  await assert.rejects(signTarget(client, t!, { producer, tagScheme: 'always' }), (e: SigilError) => e.code === 'NETWORK');
  proxy.setFault({ match: (m, p) => m === 'POST' && p.includes('/blobs/uploads/'), kind: 'status', status: 503, times: 100 });
  await assert.rejects(attestTarget(client, t!, { producer, predicateType: 'https://example.com/p', predicate: {} }), (e: SigilError) => e.code === 'NETWORK');
  proxy.setFault(undefined);
  const found = await discoverAttachments(client, { registry: reg.host, repository: 'partial/app' }, img.digest);
  assert.deepEqual([found.referrers.length, found.tags.length], [0, 0]);
  await assert.rejects(client.getManifest({ registry: reg.host, repository: 'partial/app', tag: referrersTag(img.digest) }), (e: SigilError) => e.code === 'NOT_FOUND');
  // A transient failure is retried and the signature lands whole.
  proxy.setFault({ match: (m, p) => m === 'PUT' && p.includes('/manifests/'), kind: 'status', status: 500, times: 1 });
  await signTarget(client, t!, { producer });
  proxy.setFault(undefined);
  const v = await verifyImageSignatures(client, parseReference(img.ref), { policy: keyPolicy, trust });
  assert.equal(v.verified.length, 2);
});
