/**
 * The signature checks of the pipeline that sigil itself makes (artifact or DSSE signature, SET),
 * routed to the fastest correct engine:
 *   - ECDSA with the native addon built (crypto/prehash.ts, OpenSSL ECDSA_verify over the digest):
 *     a verification costs ~45 µs instead of ~60 µs for crypto.verify on P-256, and a key given as
 *     SPKI needs no KeyObject at all — decoding a Fulcio leaf's key (~60 µs as JWK, ~115 µs as
 *     SPKI) was the largest non-signature cost of a bundle (bench/README.md, verify).
 *   - everything else (Ed25519, RSA, no addon): node:crypto over the message.
 * The BigInt ECDSA fallback of crypto/prehash.ts is never used here: without the addon,
 * node:crypto is faster.
 */
import { hash as oneShotHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { SigilError } from '../core/errors.js';
import type { DigestAlgorithm } from '../core/digest.js';
import { keyHashAlgorithm } from '../crypto/keys.js';
import { prehashEngine, verifyPrehashed, verifyPrehashedSpki } from '../crypto/prehash.js';

const NATIVE = prehashEngine() === 'native';

// SubjectPublicKeyInfo of a named-curve EC key with an uncompressed point (RFC 5480 §2): the bytes
// before the point, and the digest Sigstore pairs with the curve (protobuf-specs PublicKeyDetails).
const EC_SPKI: [Buffer, number, DigestAlgorithm][] = [
  [Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), 65, 'sha256'],
  [Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'), 97, 'sha384'],
  [Buffer.from('30819b301006072a8648ce3d020106052b8104002303818600', 'hex'), 133, 'sha512'],
];

/** The digest an EC SPKI's curve signs with, or undefined when the SPKI is not a named-curve EC key. */
export function ecSpkiHash(spki: Buffer): DigestAlgorithm | undefined {
  for (const [prefix, pointLen, alg] of EC_SPKI) {
    if (spki.length === prefix.length + pointLen && spki.subarray(0, prefix.length).equals(prefix)) return alg;
  }
  return undefined;
}

function viaNodeCrypto(alg: string | null, data: Buffer, key: KeyObject, sig: Buffer): boolean {
  try {
    return cryptoVerify(alg, data, key, sig);
  } catch {
    // OpenSSL throws on some malformed signature encodings: a failed signature, not a crash.
    return false;
  }
}

/**
 * A signature by a key that is reused (log keys, --key), over `data` and/or its digest `digest`
 * under `alg`. `alg` null means "the key's own digest" (DSSE, SET). Without `data` the check runs
 * over the digest (digest-mode artifacts), which Ed25519 cannot do (KEY_UNSUPPORTED).
 */
export function verifyWithKey(key: KeyObject, alg: DigestAlgorithm | null, data: Buffer | undefined, sig: Buffer, digest?: Buffer): boolean {
  if (key.asymmetricKeyType === 'ed25519') {
    if (!data) {
      throw new SigilError('KEY_UNSUPPORTED', 'an Ed25519 signature covers the whole artifact and cannot be checked against its digest', {
        hint: 'pass the file instead of its digest',
      });
    }
    return viaNodeCrypto(null, data, key, sig);
  }
  const h = alg ?? keyHashAlgorithm(key)!;
  if (data && !(NATIVE && key.asymmetricKeyType === 'ec')) return viaNodeCrypto(h, data, key, sig);
  return verifyPrehashed(key, h, digest ?? (oneShotHash(h, data!, 'buffer') as unknown as Buffer), sig);
}

/**
 * A signature by a key seen once (a bundle's leaf certificate), given as SPKI DER. `key()` builds
 * the KeyObject only when the fast path does not apply. `alg` null means "the key's own digest"
 * (DSSE); a message signature passes the bundle's digest algorithm and the artifact's digest.
 */
export function verifyWithSpki(spki: Buffer, key: () => KeyObject, alg: DigestAlgorithm | null, data: Buffer | undefined, sig: Buffer, digest?: Buffer): boolean {
  const curveHash = NATIVE ? ecSpkiHash(spki) : undefined;
  if (curveHash) {
    const h = alg ?? curveHash;
    return verifyPrehashedSpki(spki, h, digest ?? (oneShotHash(h, data!, 'buffer') as unknown as Buffer), sig);
  }
  return verifyWithKey(key(), alg, data, sig, digest);
}
