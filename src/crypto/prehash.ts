/**
 * Signature verification over a precomputed digest: what digest-mode verification (`sha256:<hex>`
 * artifacts) and the transparency log (hashedrekord entries carry the digest, not the artifact)
 * need. node:crypto always hashes its input, so each key type gets its own exact route:
 *
 *  - ECDSA: the native addon (OpenSSL's ECDSA_verify over the digest, native/prehash) when built,
 *    with a per-key table for P-256 keys that verify many signatures (hot-keys.ts), else the
 *    BigInt implementation in ecdsa-js.ts. Both apply OpenSSL's rules: strict DER,
 *    1 ≤ r, s < n, digest truncated to the order's bit length, R ≠ ∞. High-S signatures are valid
 *    ECDSA and are accepted, as crypto.verify accepts them.
 *  - RSA PKCS#1 v1.5: publicDecrypt with PKCS#1 type-1 padding (native modular exponentiation),
 *    then the whole DigestInfo ‖ digest compared byte for byte; comparing the full encoding
 *    rather than parsing it is what defeats Bleichenbacher-2006-style forgeries.
 *  - RSA-PSS: raw RSA (publicDecrypt, no padding) + EMSA-PSS-VERIFY (RFC 8017 §9.1.2), MGF1 with
 *    the same hash.
 *  - Ed25519 signs the message itself (pure EdDSA), so no digest can be verified: KEY_UNSUPPORTED.
 *
 * Measured in bench/prehash.ts (npm run bench -- prehash), ratios to crypto.verify over the message.
 */
import { constants, hash as oneShotHash, publicDecrypt, type KeyObject } from 'node:crypto';
import { SigilError } from '../core/errors.js';
import { DIGEST_LENGTHS, type DigestAlgorithm } from '../core/digest.js';
import { bytesEqual } from '../core/encoding.js';
import { CURVES_BY_NODE_NAME, P256, P384, P521, parsePoint, verifyDigestDer, verifyDigestRS, type AffinePoint, type Curve } from './ecdsa-js.js';
import { nativePrehash } from './prehash-native.js';
import { hotKeys, type HotKey } from './hot-keys.js';
import { importPublicKey } from './keys.js';

export type PrehashAlgorithm = DigestAlgorithm;

export interface PrehashOptions {
  /** RSA only: signature scheme; default PKCS#1 v1.5 (the PKIX_RSA_PKCS1V15_* key details). */
  rsaPadding?: 'pkcs1v15' | 'pss';
  /** RSA-PSS only: salt length in bytes, or 'auto' to accept any (RFC 8017 §9.1.2 recovers it). Default: the digest length. */
  pssSaltLength?: number | 'auto';
  /** ECDSA only: signature encoding; default DER (what Sigstore bundles and crypto.verify use). */
  dsaEncoding?: 'der' | 'ieee-p1363';
}

const CURVE_INDEX: Record<Curve['name'], number> = { 'P-256': 0, 'P-384': 1, 'P-521': 2 };
const NODE_CURVE_NAMES: Record<Curve['name'], string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };

type EcInfo = { kind: 'ec'; curve: Curve; point: Buffer; Q: AffinePoint | undefined; handle: object | undefined; hot: HotKey | undefined };
type KeyInfo = EcInfo | { kind: 'rsa'; bytes: number; bits: number };

/**
 * A named-curve EC public key read straight from its SubjectPublicKeyInfo (ecPublicKeyFromSpki),
 * with the two KeyObject properties callers look at. A log sees most keyless signing keys once:
 * OpenSSL's SPKI decoder (~115 µs) and a KeyObject's point export would cost more than the
 * verification itself.
 */
export interface EcPublicKey {
  readonly asymmetricKeyType: 'ec';
  readonly asymmetricKeyDetails: { readonly namedCurve: string };
  readonly spki: Buffer;
}

/** What verifyPrehashed takes. */
export type VerificationKey = KeyObject | EcPublicKey;

/** Per-key decoding, done once: keys are reused across many verifications (LIMITS.md §1). */
const keyCache = new WeakMap<VerificationKey, KeyInfo>();

function unsupported(msg: string): SigilError {
  return new SigilError('KEY_UNSUPPORTED', msg, { hint: 'digest-mode verification supports ECDSA (P-256, P-384, P-521) and RSA keys' });
}

/** Decodes an uncompressed point 04‖X‖Y of `curve`; KEY_MALFORMED when it is not on the curve. */
function ecInfo(curve: Curve, point: Buffer): EcInfo {
  const handle = nativePrehash ? nativePrehash.newKey(CURVE_INDEX[curve.name], point) : undefined;
  // With the addon, newKey checks the point (null when off the curve); without it, parsePoint does.
  const Q = nativePrehash ? undefined : parsePoint(curve, point);
  if (handle === null || (!nativePrehash && !Q)) throw new SigilError('KEY_MALFORMED', `${curve.name} public key point is not on the curve`);
  // P-256 keys that verify many signatures get a table of their own (hot-keys.ts).
  const hot = handle && curve === P256 ? hotKeys.track(point) : undefined;
  return { kind: 'ec', curve, point, Q, handle, hot };
}

/**
 * The EC public key in `spki` (DER), or undefined when it is not a named-curve P-256, P-384 or
 * P-521 key with an uncompressed point (decode those with createPublicKey). Throws KEY_MALFORMED
 * for a point off its curve.
 */
export function ecPublicKeyFromSpki(spki: Buffer): EcPublicKey | undefined {
  const ec = ecSpkiPoint(spki);
  if (!ec) return undefined;
  const key: EcPublicKey = { asymmetricKeyType: 'ec', asymmetricKeyDetails: { namedCurve: NODE_CURVE_NAMES[ec.curve.name] }, spki };
  keyCache.set(key, ecInfo(ec.curve, Buffer.from(ec.point)));
  return key;
}

function keyInfo(key: VerificationKey): KeyInfo {
  const cached = keyCache.get(key);
  if (cached) return cached;
  let info: KeyInfo;
  // EcPublicKeys are decoded when made: anything else here is a KeyObject.
  const k = key as KeyObject;
  if (k.type !== 'public') throw unsupported('verifyPrehashed needs a public key');
  if (k.asymmetricKeyType === 'ec') {
    const curve = CURVES_BY_NODE_NAME[k.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) throw unsupported(`EC curve ${k.asymmetricKeyDetails?.namedCurve ?? '(explicit)'} is not supported`);
    const jwk = k.export({ format: 'jwk' });
    info = ecInfo(curve, Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]));
  } else if (k.asymmetricKeyType === 'rsa') {
    const bits = k.asymmetricKeyDetails?.modulusLength ?? 0;
    info = { kind: 'rsa', bits, bytes: Math.ceil(bits / 8) };
  } else if (k.asymmetricKeyType === 'ed25519') {
    throw unsupported('Ed25519 signs the message itself, not a digest; verify against the artifact instead');
  } else {
    throw unsupported(`keys of type ${k.asymmetricKeyType} are not supported`);
  }
  keyCache.set(key, info);
  return info;
}

function checkDigest(digestAlg: DigestAlgorithm, digest: Uint8Array): void {
  const want = DIGEST_LENGTHS[digestAlg];
  if (want === undefined) throw new SigilError('USAGE', `unknown digest algorithm ${String(digestAlg)}`);
  if (digest.length !== want) {
    throw new SigilError('ENCODING_INVALID', `a ${digestAlg} digest is ${want} bytes, got ${digest.length}`, {
      hint: 'pass the raw digest bytes, not hex',
    });
  }
}

/** DER INTEGER body of a non-negative big-endian value (minimal, with a 0x00 when the top bit is set). */
function derInt(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let v = b.subarray(i);
  if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return Buffer.concat([Buffer.from([0x02, v.length]), v]);
}

/** Converts an IEEE P1363 r‖s signature to DER (undefined when the length is wrong for the curve). */
export function p1363ToDer(sig: Uint8Array, curve: Curve): Buffer | undefined {
  if (sig.length !== 2 * curve.size) return undefined;
  const b = Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength);
  const body = Buffer.concat([derInt(b.subarray(0, curve.size)), derInt(b.subarray(curve.size))]);
  return Buffer.concat([Buffer.from(body.length < 0x80 ? [0x30, body.length] : [0x30, 0x81, body.length]), body]);
}

function verifyEcNative(info: EcInfo, native: NonNullable<typeof nativePrehash>, handle: object, digest: Buffer, der: Buffer): boolean {
  const table = info.hot && hotKeys.use(info.hot);
  return table ? native.verifyHot(table, digest, der) : native.verify(handle, digest, der);
}

function verifyEc(info: EcInfo, digest: Buffer, sig: Buffer, opts: PrehashOptions): boolean {
  if (opts.dsaEncoding === 'ieee-p1363') {
    if (sig.length !== 2 * info.curve.size) return false;
    // P1363 r‖s has no encoding freedom; convert for the native path, use the integers directly otherwise.
    if (info.handle && nativePrehash) {
      const der = p1363ToDer(sig, info.curve);
      return der !== undefined && verifyEcNative(info, nativePrehash, info.handle, digest, der);
    }
    const r = BigInt('0x' + sig.toString('hex', 0, info.curve.size));
    const s = BigInt('0x' + sig.toString('hex', info.curve.size));
    return verifyDigestRS(info.curve, info.Q!, digest, r, s);
  }
  if (info.handle && nativePrehash) return verifyEcNative(info, nativePrehash, info.handle, digest, sig);
  // Without the addon, ecInfo decoded Q.
  return verifyDigestDer(info.curve, info.Q!, digest, sig);
}

/** DigestInfo prefixes (RFC 8017 §9.2 note 1), with the NULL parameters OpenSSL and Go write. */
const DIGEST_INFO: Record<DigestAlgorithm, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

function rsaRaw(key: KeyObject, sig: Buffer, padding: number): Buffer | undefined {
  try {
    return publicDecrypt({ key, padding }, sig);
  } catch {
    return undefined; // bad padding, signature ≥ modulus: not a valid signature
  }
}

function verifyRsaPkcs1(key: KeyObject, info: Extract<KeyInfo, { kind: 'rsa' }>, alg: DigestAlgorithm, digest: Buffer, sig: Buffer): boolean {
  // RSASSA-PKCS1-v1_5-VERIFY step 1: the signature is exactly k bytes (RFC 8017 §8.2.2).
  if (sig.length !== info.bytes) return false;
  const decoded = rsaRaw(key, sig, constants.RSA_PKCS1_PADDING);
  if (!decoded) return false;
  return bytesEqual(decoded, Buffer.concat([DIGEST_INFO[alg], digest]));
}

function mgf1(alg: DigestAlgorithm, seed: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  const hLen = DIGEST_LENGTHS[alg];
  // seed ‖ counter in one buffer hashed with the one-shot crypto.hash (no Hash object per block).
  const input = Buffer.alloc(seed.length + 4);
  seed.copy(input);
  for (let off = 0, i = 0; off < length; off += hLen, i++) {
    input.writeUInt32BE(i, seed.length);
    (oneShotHash(alg, input, 'buffer') as unknown as Buffer).copy(out, off);
  }
  return out;
}

function verifyRsaPss(
  key: KeyObject,
  info: Extract<KeyInfo, { kind: 'rsa' }>,
  alg: DigestAlgorithm,
  mHash: Buffer,
  sig: Buffer,
  saltLength: number | 'auto',
): boolean {
  if (sig.length !== info.bytes) return false;
  const m = rsaRaw(key, sig, constants.RSA_NO_PADDING);
  if (!m || m.length !== info.bytes) return false;
  // RFC 8017 §8.1.2 step 2c / §9.1.2: emBits = modBits − 1, emLen = ⌈emBits/8⌉.
  const emBits = info.bits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (m.length - emLen === 1 ? m[0] !== 0 : m.length !== emLen) return false;
  const em = m.subarray(m.length - emLen);
  const hLen = DIGEST_LENGTHS[alg];
  const sLenMin = saltLength === 'auto' ? 0 : saltLength;
  if (emLen < hLen + sLenMin + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const maskedDB = em.subarray(0, emLen - hLen - 1);
  const H = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 8 * emLen - emBits;
  const topMask = 0xff >> topBits;
  if ((maskedDB[0]! & ~topMask & 0xff) !== 0) return false;
  const db = mgf1(alg, H, maskedDB.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= maskedDB[i]!;
  db[0]! &= topMask;
  // DB = PS (zeros) ‖ 0x01 ‖ salt
  let i = 0;
  while (i < db.length && db[i] === 0) i++;
  if (i >= db.length || db[i] !== 0x01) return false;
  const salt = db.subarray(i + 1);
  if (saltLength !== 'auto' && salt.length !== saltLength) return false;
  const h2 = oneShotHash(alg, Buffer.concat([Buffer.alloc(8), mHash, salt]), 'buffer') as unknown as Buffer;
  return bytesEqual(h2, H);
}

/**
 * Verifies `signature` over a precomputed `digest` (the raw bytes of `digestAlg` of the message).
 * Returns false for any invalid or malformed signature, never throws on signature bytes; throws
 * KEY_UNSUPPORTED for Ed25519/other key types and ENCODING_INVALID for a digest of the wrong length.
 */
export function verifyPrehashed(
  publicKey: VerificationKey,
  digestAlg: DigestAlgorithm,
  digest: Uint8Array,
  signature: Uint8Array,
  options: PrehashOptions = {},
): boolean {
  checkDigest(digestAlg, digest);
  const info = keyInfo(publicKey);
  const d = Buffer.isBuffer(digest) ? digest : Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength);
  const sig = Buffer.isBuffer(signature) ? signature : Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
  if (info.kind === 'ec') return verifyEc(info, d, sig, options);
  // Only KeyObjects decode to RSA.
  const rsaKey = publicKey as KeyObject;
  if (options.rsaPadding === 'pss') return verifyRsaPss(rsaKey, info, digestAlg, d, sig, options.pssSaltLength ?? DIGEST_LENGTHS[digestAlg]);
  return verifyRsaPkcs1(rsaKey, info, digestAlg, d, sig);
}

// SubjectPublicKeyInfo prefixes of named-curve EC keys with an uncompressed point (RFC 5480 §2):
// SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING 00 04‖X‖Y }.
const EC_SPKI_PREFIX: [Buffer, Curve][] = [
  [Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), P256],
  [Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'), P384],
  [Buffer.from('30819b301006072a8648ce3d020106052b8104002303818600', 'hex'), P521],
];

/** The curve and uncompressed point 04‖X‖Y of a named-curve EC SPKI; undefined for any other key or encoding. */
function ecSpkiPoint(der: Buffer): { curve: Curve; point: Buffer } | undefined {
  for (const [prefix, curve] of EC_SPKI_PREFIX) {
    if (der.length !== prefix.length + 1 + 2 * curve.size || !der.subarray(0, prefix.length).equals(prefix)) continue;
    const point = der.subarray(prefix.length);
    return point[0] === 0x04 ? { curve, point } : undefined;
  }
  return undefined;
}

/**
 * verifyPrehashed for a key given as SPKI DER, for callers that see each key once (a log
 * verifying hashedrekord entries from ephemeral keys): for EC keys it skips KeyObject creation
 * (OpenSSL's SPKI decoder costs ~115 µs, twice the verification). Other keys go through
 * importPublicKey. Throws KEY_MALFORMED / KEY_UNSUPPORTED for a bad key, false for a bad signature.
 */
export function verifyPrehashedSpki(
  spki: Uint8Array,
  digestAlg: DigestAlgorithm,
  digest: Uint8Array,
  signature: Uint8Array,
  options: PrehashOptions = {},
): boolean {
  checkDigest(digestAlg, digest);
  const der = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
  const ec = ecSpkiPoint(der);
  if (ec) {
    const { curve, point } = ec;
    const d = Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength);
    let sig = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
    if (options.dsaEncoding === 'ieee-p1363') {
      const conv = p1363ToDer(sig, curve);
      if (!conv) return false;
      sig = conv;
    }
    if (nativePrehash) {
      const ok = nativePrehash.verifyPoint(CURVE_INDEX[curve.name], point, d, sig);
      if (ok === null) throw new SigilError('KEY_MALFORMED', `${curve.name} public key point is not on the curve`);
      return ok;
    }
    const Q = parsePoint(curve, point);
    if (!Q) throw new SigilError('KEY_MALFORMED', `${curve.name} public key point is not on the curve`);
    return verifyDigestDer(curve, Q, d, sig);
  }
  return verifyPrehashed(importPublicKey(der), digestAlg, digest, signature, options);
}

/** Which ECDSA engine is in use: 'native' (OpenSSL through the addon) or 'bigint' (portable fallback). */
export function prehashEngine(): 'native' | 'bigint' {
  return nativePrehash ? 'native' : 'bigint';
}
