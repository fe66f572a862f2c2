/**
 * hashedrekord entries: a signature, its verifier and the digest it was computed over.
 *   v0.0.1 (Rekor v1): spec.data.hash {algorithm, value hex}, spec.signature.content (base64),
 *                      spec.signature.publicKey.content (base64 of a PEM certificate or key).
 *   v0.0.2 (Rekor v2): spec.hashedRekordV002.data {algorithm SHA2_*, digest base64},
 *                      .signature {content, verifier {x509Certificate.rawBytes | publicKey.rawBytes}}.
 * For a message signature the digest is the artifact's. Rekor v2 also logs DSSE envelopes as
 * hashedrekord ("hashedrekord over DSSE", rekor-v2 spec §6.1.4): then the digest is
 * SHA-256(PAE(payloadType, payload)) and the signature is the envelope's — sigstore-js compares
 * it with the payload hash and rejects these valid bundles (conformance rekor2-dsse-happy-path).
 */
import { sha256 } from '../core/digest.js';
import { bodyReader as r, checkBytes, checkDerVerifier, checkPemVerifier, mismatch, readHexHash, readProtoHash, type BodyContext } from './tlog-body-fields.js';

export function verifyHashedRekordBody(version: string, spec: Record<string, unknown>, ctx: BodyContext): void {
  const content = ctx.entity.content;
  let digest: { alg: string; value: Buffer };
  if (version === '0.0.1') {
    const sig = r.object(spec.signature, 'spec.signature');
    checkBytes(ctx, r.bytes(sig.content, 'spec.signature.content'), content.signature, 'signature');
    const pk = r.object(sig.publicKey, 'spec.signature.publicKey');
    checkPemVerifier(ctx, r.bytes(pk.content, 'spec.signature.publicKey.content'), 'signature.publicKey');
    digest = readHexHash(ctx, r.object(spec.data, 'spec.data').hash, 'spec.data.hash');
  } else if (version === '0.0.2') {
    const v2 = r.object(spec.hashedRekordV002, 'spec.hashedRekordV002');
    const sig = r.object(v2.signature, 'spec.hashedRekordV002.signature');
    checkBytes(ctx, r.bytes(sig.content, 'spec.hashedRekordV002.signature.content'), content.signature, 'signature');
    checkV2Verifier(ctx, sig.verifier, 'spec.hashedRekordV002.signature.verifier');
    digest = readProtoHash(v2.data, 'spec.hashedRekordV002.data');
  } else {
    return mismatch(ctx, `hashedrekord version ${JSON.stringify(version)} is not supported (0.0.1, 0.0.2 are)`);
  }

  if (content.kind === 'message-signature') {
    const a = ctx.artifactDigest;
    if (!a) return mismatch(ctx, 'no artifact digest to compare the entry with');
    if (digest.alg !== a.alg) mismatch(ctx, `entry digest is ${digest.alg}, the bundle's is ${a.alg}`);
    checkBytes(ctx, digest.value, a.value, 'artifact digest');
  } else {
    if (version !== '0.0.2') mismatch(ctx, 'a hashedrekord v0.0.1 entry cannot record a DSSE envelope');
    if (digest.alg !== 'sha256') mismatch(ctx, `entry digest of the DSSE envelope is ${digest.alg}, expected sha256 of the PAE`);
    checkBytes(ctx, digest.value, sha256(content.pae), 'digest of the DSSE pre-authentication encoding');
  }
}

/** Rekor v2 Verifier message: {keyDetails, x509Certificate: {rawBytes}} or {keyDetails, publicKey: {rawBytes}}. */
export function checkV2Verifier(ctx: BodyContext, v: unknown, path: string): void {
  const o = r.object(v, path);
  const cert = r.optObject(o.x509Certificate, `${path}.x509Certificate`);
  const key = r.optObject(o.publicKey, `${path}.publicKey`);
  if (!!cert === !!key) mismatch(ctx, `${path} must hold exactly one of x509Certificate and publicKey`);
  if (cert) checkDerVerifier(ctx, 'certificate', r.bytes(cert.rawBytes, `${path}.x509Certificate.rawBytes`), 'verifier certificate');
  else checkDerVerifier(ctx, 'key', r.bytes(key!.rawBytes, `${path}.publicKey.rawBytes`), 'verifier public key');
}
