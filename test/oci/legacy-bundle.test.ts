/**
 * cosign tag-scheme layers ↔ bundles. Signatures are made by sign-blob / attest-blob and recorded
 * in sigil's transparency log over its Rekor v1 API (which returns a signed entry timestamp, the
 * only proof cosign's `dev.sigstore.cosign/bundle` annotation can carry); the layer annotations
 * are then read back without sigil's embedded bundle, exactly as cosign writes them, and verified.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigilError } from '../../src/core/errors.js';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import { SqliteLogStore } from '../../src/services/storage/sqlite-log-store.js';
import { TransparencyLog } from '../../src/services/log/log.js';
import { serveLog } from '../../src/services/log/server.js';
import type { RunningServer } from '../../src/services/http.js';
import { LogClient } from '../../src/sign/log-client.js';
import { signBlob } from '../../src/sign/sign-blob.js';
import { attestBlob } from '../../src/sign/attest-blob.js';
import { envelopeToJSON } from '../../src/formats/dsse.js';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { verify } from '../../src/verify/verify.js';
import { layerAnnotationsFromBundle, legacyLayerToBundle } from '../../src/oci/legacy-bundle.js';
import { buildSimpleSigningPayload } from '../../src/oci/simple-signing.js';
import { ANNOTATION_BUNDLE, ANNOTATION_SIGIL_BUNDLE, ANNOTATION_SIGNATURE, COSIGN_SIMPLE_SIGNING, DSSE_ENVELOPE } from '../../src/oci/media-types.js';
import { addUnrelatedEntry, logOnlyTrustedRoot } from '../helpers/log-fixture.js';

let dir: string;
let log: TransparencyLog;
let server: RunningServer;
let root: TrustedRoot;
const logKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = new LocalSigner(key.privateKey);
const IMAGE = 'sha256:' + 'ab'.repeat(32);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-legacy-'));
  log = await TransparencyLog.open({ store: SqliteLogStore.open(join(dir, 'log.db')), signer: new LocalSigner(logKey.privateKey), origin: 'sigil.test' });
  server = await serveLog(log, 0);
  root = TrustedRoot.fromJSON(logOnlyTrustedRoot(logKey.publicKey, log.logId));
  await addUnrelatedEntry(server.url);
});

after(async () => {
  await server?.close();
  await log?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cosignOnly = (ann: Record<string, string>): Record<string, string> => {
  const { [ANNOTATION_SIGIL_BUNDLE]: _drop, ...rest } = ann;
  return rest;
};

test('.sig layer as cosign writes it (signature + Rekor SET annotation) verifies, with the SET as proof of logging', async () => {
  const payload = buildSimpleSigningPayload('127.0.0.1:5000/a/b', IMAGE);
  const signed = await signBlob(payload, { signer, tlog: new LogClient({ url: server.url, api: 'v1' }) });
  const ann = layerAnnotationsFromBundle(signed.bundle, 'sig');
  assert.ok(ann[ANNOTATION_BUNDLE], 'Rekor v1 returned a signed entry timestamp');
  const legacy = legacyLayerToBundle({ mediaType: COSIGN_SIMPLE_SIGNING, annotations: cosignOnly(ann) }, payload, 'layer');
  assert.equal(legacy.version, '0.1');
  const r = await verify(legacy, { bytes: payload }, { key: key.publicKey }, { root });
  assert.deepEqual(r.tlogEntries[0]!.inclusion, ['promise']);
  // With sigil's embedded bundle the inclusion proof is used instead.
  const full = legacyLayerToBundle({ mediaType: COSIGN_SIMPLE_SIGNING, annotations: ann }, payload, 'layer');
  assert.equal(full.version, '0.3');
  assert.ok((await verify(full, { bytes: payload }, { key: key.publicKey }, { root })).tlogEntries[0]!.inclusion.includes('proof'));

  // Tampering: the SET no longer matches, the body names another signature, the payload changed.
  const rekor = JSON.parse(ann[ANNOTATION_BUNDLE]!) as { SignedEntryTimestamp: string; Payload: { integratedTime: number; body: string } };
  const badSet = { ...rekor, Payload: { ...rekor.Payload, integratedTime: rekor.Payload.integratedTime + 1 } };
  const tampered = legacyLayerToBundle({ mediaType: COSIGN_SIMPLE_SIGNING, annotations: { ...cosignOnly(ann), [ANNOTATION_BUNDLE]: JSON.stringify(badSet) } }, payload, 'layer');
  await assert.rejects(verify(tampered, { bytes: payload }, { key: key.publicKey }, { root }), (e: SigilError) => e.code === 'TLOG_SET_INVALID');
  const otherPayload = buildSimpleSigningPayload('127.0.0.1:5000/a/b', 'sha256:' + 'cd'.repeat(32));
  const forged = legacyLayerToBundle({ mediaType: COSIGN_SIMPLE_SIGNING, annotations: { ...cosignOnly(ann), [ANNOTATION_SIGNATURE]: sign('sha256', otherPayload, key.privateKey).toString('base64') } }, otherPayload, 'layer');
  await assert.rejects(verify(forged, { bytes: otherPayload }, { key: key.publicKey }, { root }), (e: SigilError) => e.kind === 'verification');
  await assert.rejects(verify(legacy, { bytes: otherPayload }, { key: key.publicKey }, { root }), (e: SigilError) => e.kind === 'verification');
});

test('.att layer as cosign writes it (DSSE envelope, empty signature annotation) verifies against the image digest', async () => {
  const a = await attestBlob([{ name: 'img', digest: { sha256: IMAGE.slice(7) } }], { signer, predicateType: 'https://slsa.dev/provenance/v1', predicate: { x: 1 }, tlog: new LogClient({ url: server.url, api: 'v1' }) });
  const ann = layerAnnotationsFromBundle(a.bundle, 'att');
  assert.equal(ann[ANNOTATION_SIGNATURE], '');
  const data = Buffer.from(JSON.stringify(envelopeToJSON(a.envelope)));
  const legacy = legacyLayerToBundle({ mediaType: DSSE_ENVELOPE, annotations: cosignOnly(ann) }, data, 'att');
  const digest = { digest: { alg: 'sha256' as const, value: Buffer.from(IMAGE.slice(7), 'hex') } };
  const r = await verify(legacy, digest, { key: key.publicKey, predicateType: 'https://slsa.dev/provenance/v1' }, { root });
  assert.equal(r.statement?.predicateType, 'https://slsa.dev/provenance/v1');
  await assert.rejects(verify(legacy, { digest: { alg: 'sha256', value: Buffer.alloc(32, 1) } }, { key: key.publicKey }, { root }), (e: SigilError) => e.kind === 'verification');
});

test('malformed annotations are BUNDLE_MALFORMED (or an encoding error), never a crash', async () => {
  const payload = buildSimpleSigningPayload('r/a', IMAGE);
  const signed = await signBlob(payload, { signer });
  const ann = cosignOnly(layerAnnotationsFromBundle(signed.bundle, 'sig'));
  const cases: [Record<string, string>, RegExp][] = [
    [{ ...ann, [ANNOTATION_SIGNATURE]: '' }, /signature is missing/],
    [{ ...ann, [ANNOTATION_SIGNATURE]: '***' }, /base64/],
    [{ ...ann, [ANNOTATION_BUNDLE]: '{' }, /JSON/],
    [{ ...ann, [ANNOTATION_BUNDLE]: '{"SignedEntryTimestamp":"AA=="}' }, /SignedEntryTimestamp and Payload/],
    [{ ...ann, [ANNOTATION_BUNDLE]: JSON.stringify({ SignedEntryTimestamp: 'AA==', Payload: { body: 'e30=', logID: 'zz', integratedTime: 1, logIndex: 1 } }) }, /kind\/apiVersion|hex/],
    [{ ...ann, [ANNOTATION_BUNDLE]: JSON.stringify({ SignedEntryTimestamp: 'AA==', Payload: { body: 'e30=', logID: 'aa', integratedTime: -1, logIndex: 1 } }) }, /integratedTime/],
    [{ ...ann, 'dev.sigstore.cosign/certificate': 'not pem' }, /PEM CERTIFICATE/],
    [{ ...ann, [ANNOTATION_SIGIL_BUNDLE]: JSON.stringify(signed.json).replace(/"digest":"[^"]+"/, `"digest":"${Buffer.alloc(32).toString('base64')}"`) }, /not a message signature over this layer/],
  ];
  for (const [a, re] of cases) {
    assert.throws(() => legacyLayerToBundle({ mediaType: COSIGN_SIMPLE_SIGNING, annotations: a }, payload, 'layer'), (e: SigilError) => ['BUNDLE_MALFORMED', 'ENCODING_INVALID', 'JSON_MALFORMED'].includes(e.code) && re.test(e.message), `expected ${re}`);
  }
  const other = await signBlob(Buffer.from('other'), { signer });
  assert.throws(
    () => legacyLayerToBundle({ mediaType: COSIGN_SIMPLE_SIGNING, annotations: { ...ann, [ANNOTATION_SIGIL_BUNDLE]: JSON.stringify(other.json) } }, payload, 'layer'),
    (e: SigilError) => e.code === 'BUNDLE_MALFORMED',
  );
});
