/**
 * Image verification over cosign's tag scheme, with signatures written by an independent minimal
 * writer (the reference writer of ../shared/peers/README.md §3: raw HTTP + node:crypto, no sigil
 * code), against the real docker-registry. Covers the faults the issue names: a signature for
 * another digest, a wrong key, tampering, annotations, and an image without signatures.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { SigilError } from '../../src/core/errors.js';
import { RegistryClient } from '../../src/oci/client.js';
import { parseReference } from '../../src/oci/reference.js';
import { requireVerified, verifyImageSignatures } from '../../src/oci/verify-image.js';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushTinyImage } from '../helpers/images.js';

let reg: TestRegistry;
let a: { ref: string; digest: string };
let b: { ref: string; digest: string };
let unsigned: { ref: string; digest: string };
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const client = new RegistryClient({ env: { HOME: '/nonexistent' } });
const trust = { root: TrustedRoot.publicGood() };

const sha = (buf: Buffer): string => 'sha256:' + createHash('sha256').update(buf).digest('hex');

/** The peers README reference writer: pushes sha256-<hex>.sig with one simple-signing layer. */
async function cosignSign(image: { ref: string; digest: string }, priv: KeyObject, opts: { payloadDigest?: string; optional?: Record<string, string> | null; tagDigest?: string } = {}): Promise<void> {
  const repo = image.ref.slice(reg.host.length + 1).split(':')[0]!;
  const R = `http://${reg.host}/v2/${repo}`;
  const putBlob = async (buf: Buffer): Promise<string> => {
    const d = sha(buf);
    const post = await fetch(`${R}/blobs/uploads/`, { method: 'POST' });
    const loc = post.headers.get('location')!;
    const put = await fetch(`${loc}${loc.includes('?') ? '&' : '?'}digest=${d}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(buf) });
    assert.equal(put.status, 201);
    return d;
  };
  const payload = Buffer.from(
    JSON.stringify({
      critical: { identity: { 'docker-reference': `${reg.host}/${repo}` }, image: { 'docker-manifest-digest': opts.payloadDigest ?? image.digest }, type: 'cosign container image signature' },
      optional: opts.optional ?? null,
    }),
  );
  const signature = sign('sha256', payload, priv).toString('base64');
  const payloadDigest = await putBlob(payload);
  const config = Buffer.from(JSON.stringify({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [payloadDigest] }, config: {} }));
  const configDigest = await putBlob(config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: configDigest },
    layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', size: payload.length, digest: payloadDigest, annotations: { 'dev.cosignproject.cosign/signature': signature } }],
  });
  const tag = (opts.tagDigest ?? image.digest).replace(':', '-') + '.sig';
  const res = await fetch(`${R}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
  assert.equal(res.status, 201);
}

before(async () => {
  reg = await startRegistry();
  [a, b, unsigned] = await Promise.all([
    pushTinyImage(reg.host, 'verify/a', 'v1', { content: 'a' }),
    pushTinyImage(reg.host, 'verify/b', 'v1', { content: 'b' }),
    pushTinyImage(reg.host, 'verify/unsigned', 'v1', { content: 'u' }),
  ]);
  await cosignSign(a, key.privateKey, { optional: { env: 'prod' } });
});

after(async () => {
  client.close();
  await reg?.stop();
});

const policy = (k: KeyObject) => ({ key: k, tlogThreshold: 0 });

test('tag scheme: a cosign .sig written by an independent writer verifies by tag and by digest', async () => {
  for (const ref of [a.ref, `${a.ref.split(':v1')[0]}@${a.digest}`]) {
    const v = await verifyImageSignatures(client, parseReference(ref), { policy: policy(key.publicKey), trust });
    assert.equal(v.digest, a.digest);
    assert.equal(v.verified.length, 1);
    assert.equal(v.verified[0]!.scheme, 'tag');
    assert.equal(v.verified[0]!.source, `${a.digest.replace(':', '-')}.sig[0]`);
    assert.deepEqual((v.verified[0]!.payload as { critical: { image: unknown } }).critical.image, { 'docker-manifest-digest': a.digest });
    requireVerified(v, 'signatures');
  }
});

test('tag scheme: required annotations (-a) must be in the signed optional object', async () => {
  const ok = await verifyImageSignatures(client, parseReference(a.ref), { policy: policy(key.publicKey), trust, annotations: { env: 'prod' } });
  assert.equal(ok.verified.length, 1);
  const no = await verifyImageSignatures(client, parseReference(a.ref), { policy: policy(key.publicKey), trust, annotations: { env: 'dev' } });
  assert.equal(no.verified.length, 0);
  assert.throws(() => requireVerified(no, 'signatures'), (e: SigilError) => e.code === 'POLICY_VIOLATION' && e.kind === 'verification' && /env/.test(e.message));
});

test('tag scheme: the wrong key is SIGNATURE_INVALID (exit 1)', async () => {
  const v = await verifyImageSignatures(client, parseReference(a.ref), { policy: policy(other.publicKey), trust });
  assert.equal(v.verified.length, 0);
  assert.equal(v.rejected.length, 1);
  assert.throws(() => requireVerified(v, 'signatures'), (e: SigilError) => e.code === 'SIGNATURE_INVALID' && e.kind === 'verification' && e.message.includes(a.digest));
});

test('tag scheme: a valid signature for another digest, copied under this image, is rejected', async () => {
  // Image b gets a .sig whose payload (validly signed) names image a.
  await cosignSign(b, key.privateKey, { payloadDigest: a.digest, tagDigest: b.digest });
  const v = await verifyImageSignatures(client, parseReference(b.ref), { policy: policy(key.publicKey), trust });
  assert.equal(v.verified.length, 0);
  assert.throws(() => requireVerified(v, 'signatures'), (e: SigilError) => e.code === 'SUBJECT_MISMATCH' && e.message.includes(`signature is for image ${a.digest}, not ${b.digest}`));
});

test('tag scheme: a key-signed signature without a log entry needs the tlog waiver', async () => {
  const v = await verifyImageSignatures(client, parseReference(a.ref), { policy: { key: key.publicKey }, trust });
  assert.equal(v.verified.length, 0);
  assert.throws(() => requireVerified(v, 'signatures'), (e: SigilError) => e.kind === 'verification');
});

test('an image without signatures: SIGNATURE_MISSING, "no signatures found for <digest>"', async () => {
  const v = await verifyImageSignatures(client, parseReference(unsigned.ref), { policy: policy(key.publicKey), trust });
  assert.deepEqual([v.verified.length, v.rejected.length], [0, 0]);
  assert.throws(() => requireVerified(v, 'signatures'), (e: SigilError) => e.code === 'SIGNATURE_MISSING' && e.message === `no signatures found for ${unsigned.digest}` && e.kind === 'verification');
});
