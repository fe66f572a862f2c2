/**
 * intoto entries (Rekor v1 only).
 *   v0.0.2: spec.content.envelope {payloadType, payload?, signatures [{sig, publicKey}]} where sig
 *           and payload are base64 of the *base64 text* (Rekor double-encodes them) and publicKey
 *           is base64(PEM); spec.content.payloadHash {algorithm, value hex}.
 *   v0.0.1: the canonical body keeps only spec.publicKey (base64 PEM) and spec.content.{hash,
 *           payloadHash}: the signature is not recorded, so the entry binds payload and key.
 */
import { bodyReader as r, checkBytes, checkPemVerifier, mismatch, readHexHash, type BodyContext } from './tlog-body-fields.js';

/**
 * Rekor stores payload and signature as base64 of their base64 text. Comparing against the
 * canonical double encoding of the bundle's bytes (two native encodes) is exact and cheaper than
 * two strict decodes of a payload that can be tens of KB.
 */
function checkDoubleBase64(ctx: BodyContext, v: unknown, path: string, want: Buffer, what: string): void {
  const got = r.string(v, path);
  const expected = Buffer.from(want.toString('base64'), 'latin1').toString('base64');
  if (got !== expected) mismatch(ctx, `${what} does not match the bundle`);
}

export function verifyIntotoBody(version: string, spec: Record<string, unknown>, ctx: BodyContext): void {
  const content = ctx.entity.content;
  if (content.kind !== 'dsse') return mismatch(ctx, 'an intoto entry cannot record a message signature');
  let payloadHash: { alg: string; value: Buffer };
  if (version === '0.0.2') {
    const c = r.object(spec.content, 'spec.content');
    const env = r.object(c.envelope, 'spec.content.envelope');
    if (env.payloadType !== undefined && env.payloadType !== content.envelope.payloadType) mismatch(ctx, 'envelope payloadType does not match the bundle');
    if (env.payload !== undefined && env.payload !== null) checkDoubleBase64(ctx, env.payload, 'spec.content.envelope.payload', content.envelope.payload, 'envelope payload');
    const sigs = r.array(env.signatures, 'spec.content.envelope.signatures');
    if (sigs.length !== 1) mismatch(ctx, `entry records ${sigs.length} signatures, the envelope has one`);
    const s = r.object(sigs[0], 'spec.content.envelope.signatures[0]');
    checkDoubleBase64(ctx, s.sig, 'spec.content.envelope.signatures[0].sig', content.signature, 'envelope signature');
    checkPemVerifier(ctx, r.bytes(s.publicKey, 'spec.content.envelope.signatures[0].publicKey'), 'signature publicKey');
    payloadHash = readHexHash(ctx, c.payloadHash, 'spec.content.payloadHash');
  } else if (version === '0.0.1') {
    checkPemVerifier(ctx, r.bytes(spec.publicKey, 'spec.publicKey'), 'publicKey');
    const c = r.object(spec.content, 'spec.content');
    payloadHash = readHexHash(ctx, c.payloadHash, 'spec.content.payloadHash');
  } else {
    return mismatch(ctx, `intoto version ${JSON.stringify(version)} is not supported (0.0.1, 0.0.2 are)`);
  }
  if (payloadHash.alg !== 'sha256') mismatch(ctx, `payload hash algorithm ${payloadHash.alg} is not sha256`);
  checkBytes(ctx, payloadHash.value, content.payloadSha256, 'DSSE payload hash');
}
