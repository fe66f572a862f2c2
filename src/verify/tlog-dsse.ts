/**
 * dsse entries: the log records the payload hash and the envelope's signatures with their verifiers.
 *   v0.0.1 (Rekor v1): spec.payloadHash {algorithm, value hex}, spec.signatures [{signature base64,
 *                      verifier base64(PEM)}], spec.envelopeHash (hash of the envelope JSON as
 *                      submitted — not reproducible from the bundle, so not compared; the payload
 *                      hash and signature bind the entry to the envelope).
 *   v0.0.2 (Rekor v2): spec.dsseV002.payloadHash {algorithm SHA2_*, digest base64},
 *                      .signatures [{content, verifier {x509Certificate | publicKey}}].
 * A bundle's envelope has exactly one signature, so the entry must record exactly one.
 */
import { bodyReader as r, checkBytes, checkPemVerifier, mismatch, readHexHash, readProtoHash, type BodyContext } from './tlog-body-fields.js';
import { checkV2Verifier } from './tlog-hashedrekord.js';

export function verifyDsseBody(version: string, spec: Record<string, unknown>, ctx: BodyContext): void {
  const content = ctx.entity.content;
  if (content.kind !== 'dsse') return mismatch(ctx, 'a dsse entry cannot record a message signature');
  let hash: { alg: string; value: Buffer };
  if (version === '0.0.1') {
    const sigs = r.array(spec.signatures, 'spec.signatures');
    if (sigs.length !== 1) mismatch(ctx, `entry records ${sigs.length} signatures, the envelope has one`);
    const s = r.object(sigs[0], 'spec.signatures[0]');
    checkBytes(ctx, r.bytes(s.signature, 'spec.signatures[0].signature'), content.signature, 'envelope signature');
    checkPemVerifier(ctx, r.bytes(s.verifier, 'spec.signatures[0].verifier'), 'signature verifier');
    hash = readHexHash(ctx, spec.payloadHash, 'spec.payloadHash');
  } else if (version === '0.0.2') {
    const v2 = r.object(spec.dsseV002, 'spec.dsseV002');
    const sigs = r.array(v2.signatures, 'spec.dsseV002.signatures');
    if (sigs.length !== 1) mismatch(ctx, `entry records ${sigs.length} signatures, the envelope has one`);
    const s = r.object(sigs[0], 'spec.dsseV002.signatures[0]');
    checkBytes(ctx, r.bytes(s.content, 'spec.dsseV002.signatures[0].content'), content.signature, 'envelope signature');
    checkV2Verifier(ctx, s.verifier, 'spec.dsseV002.signatures[0].verifier');
    hash = readProtoHash(v2.payloadHash, 'spec.dsseV002.payloadHash');
  } else {
    return mismatch(ctx, `dsse version ${JSON.stringify(version)} is not supported (0.0.1, 0.0.2 are)`);
  }
  if (hash.alg !== 'sha256') mismatch(ctx, `payload hash algorithm ${hash.alg} is not sha256`);
  checkBytes(ctx, hash.value, content.payloadSha256, 'DSSE payload hash');
}
