/**
 * Rekor v2 `hashedrekord` v0.0.2 (sigstore/rekor-tiles pkg/types/hashedrekord): a signature over
 * an artifact digest, with a public key or certificate and its PublicKeyDetails. The digest must
 * have the length of the key details' hash, and the signature must verify over that digest
 * before the entry is logged.
 *
 * The canonical body is the protobuf-JSON of rekor.v2.Entry in RFC 8785 form; it is written here
 * with keys already in JCS order (apiVersion < kind < spec, data < signature, content < verifier,
 * keyDetails < publicKey < x509Certificate) instead of running the general canonicalizer on the
 * hottest path of the log.
 */
import { verifyPrehashed } from '../../../crypto/prehash.js';
import { DIGEST_LENGTHS } from '../../../core/digest.js';
import { SigilError } from '../../../core/errors.js';
import { bytes, malformed, obj, onlyKeys } from './fields.js';
import { checkKeyDetails, keyFromCertificate, keyFromSpki, type EntryKey } from './verifier.js';
import { invalidSignature, prepared, type PreparedEntry } from './prepared.js';

export const PROTO_HASH_NAMES = { sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' } as const;

export interface V2Verifier {
  entryKey: EntryKey;
  keyDetails: string;
  /** JSON of the verifier exactly as it goes into the canonical body. */
  json: string;
}

/** Reads a rekor.v2.Verifier: {publicKey: {rawBytes}} | {x509Certificate: {rawBytes}}, keyDetails. */
export function readV2Verifier(v: unknown, path: string): V2Verifier & { rule: ReturnType<typeof checkKeyDetails> } {
  const o = obj(v, path);
  onlyKeys(o, path, ['publicKey', 'x509Certificate', 'keyDetails']);
  if ((o.publicKey === undefined) === (o.x509Certificate === undefined)) throw malformed(path, 'must hold exactly one of publicKey and x509Certificate');
  let entryKey: EntryKey;
  let material: string;
  if (o.publicKey !== undefined) {
    const pk = obj(o.publicKey, `${path}.publicKey`);
    onlyKeys(pk, `${path}.publicKey`, ['rawBytes']);
    const raw = bytes(pk.rawBytes, `${path}.publicKey.rawBytes`);
    entryKey = keyFromSpki(raw, `${path}.publicKey.rawBytes`);
    material = `"publicKey":{"rawBytes":"${raw.toString('base64')}"}`;
  } else {
    const c = obj(o.x509Certificate, `${path}.x509Certificate`);
    onlyKeys(c, `${path}.x509Certificate`, ['rawBytes']);
    const raw = bytes(c.rawBytes, `${path}.x509Certificate.rawBytes`);
    entryKey = keyFromCertificate(raw, `${path}.x509Certificate.rawBytes`);
    material = `"x509Certificate":{"rawBytes":"${raw.toString('base64')}"}`;
  }
  const rule = checkKeyDetails(o.keyDetails, entryKey.key, `${path}.keyDetails`);
  return { entryKey, keyDetails: rule.name, rule, json: `{"keyDetails":${JSON.stringify(rule.name)},${material}}` };
}

export function prepareHashedRekordV002(request: unknown): PreparedEntry {
  const path = 'hashedRekordRequestV002';
  const r = obj(request, path);
  onlyKeys(r, path, ['digest', 'signature']);
  const digest = bytes(r.digest, `${path}.digest`);
  const sig = obj(r.signature, `${path}.signature`);
  onlyKeys(sig, `${path}.signature`, ['content', 'verifier']);
  const content = bytes(sig.content, `${path}.signature.content`);
  const verifier = readV2Verifier(sig.verifier, `${path}.signature.verifier`);
  const alg = verifier.rule.digest;
  if (alg === null) {
    throw new SigilError('LOG_ENTRY_UNSUPPORTED', `${verifier.keyDetails} signs messages, not digests, so it cannot sign a hashedrekord`, {
      hint: 'log Ed25519 signatures as DSSE, or sign with ECDSA or RSA',
    });
  }
  if (digest.length !== DIGEST_LENGTHS[alg]) throw malformed(`${path}.digest`, `is ${digest.length} bytes; ${verifier.keyDetails} signs ${alg} digests of ${DIGEST_LENGTHS[alg]} bytes`);
  const opts = verifier.rule.rsaPadding === 'pss' ? { rsaPadding: 'pss' as const, pssSaltLength: 'auto' as const } : {};
  if (!verifyPrehashed(verifier.entryKey.key, alg, digest, content, opts)) throw invalidSignature('the hashedrekord signature over the digest');
  const body =
    `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"${PROTO_HASH_NAMES[alg]}",` +
    `"digest":"${digest.toString('base64')}"},"signature":{"content":"${content.toString('base64')}","verifier":${verifier.json}}}}}`;
  return prepared('hashedrekord', '0.0.2', body);
}
