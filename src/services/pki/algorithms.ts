/**
 * Signature algorithm identifiers (RFC 5758 §3.2 ECDSA, RFC 8410 Ed25519, RFC 4055 RSA) for the
 * key a `Signer` holds, and the checks on public keys clients submit for certification.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { SigilError } from '../../core/errors.js';
import { decodePemBlocks } from '../../core/pem.js';
import type { DigestAlgorithm } from '../../core/digest.js';
import { fromBase64 } from '../../core/encoding.js';
import { importPublicKey, keyDetails, keyHashAlgorithm } from '../../crypto/keys.js';
import type { KeyDetails } from '../../crypto/signer.js';
import { Der } from '../../core/der.js';
import { NULL, oid, seq } from './der.js';

/** AlgorithmIdentifier DER for signatures made by a key of the given details. */
export function signatureAlgorithmFor(details: KeyDetails): Buffer {
  switch (details) {
    case 'PKIX_ECDSA_P256_SHA_256':
      return seq(oid('1.2.840.10045.4.3.2'));
    case 'PKIX_ECDSA_P384_SHA_384':
      return seq(oid('1.2.840.10045.4.3.3'));
    case 'PKIX_ECDSA_P521_SHA_512':
      return seq(oid('1.2.840.10045.4.3.4'));
    case 'PKIX_ED25519':
      return seq(oid('1.3.101.112'));
    case 'PKIX_RSA_PKCS1V15_2048_SHA256':
    case 'PKIX_RSA_PKCS1V15_3072_SHA256':
    case 'PKIX_RSA_PKCS1V15_4096_SHA256':
      // RFC 4055 §5: sha256WithRSAEncryption carries NULL parameters.
      return seq(oid('1.2.840.113549.1.1.11'), NULL);
  }
}

export interface ClientPublicKey {
  /** The key, decoded on first use: the P-256 path checks proofs of possession without one. */
  readonly key: KeyObject;
  /** Canonical SPKI DER (re-exported unless it already was canonical, so odd encodings never reach a certificate). */
  spki: Buffer;
  details: KeyDetails;
  /** Digest for signatures by this key (null for Ed25519), as crypto.verify takes it. */
  hash: DigestAlgorithm | null;
  /** True for a canonical uncompressed P-256 SPKI (what every Sigstore client sends). */
  p256: boolean;
}

class CanonicalP256Key implements ClientPublicKey {
  readonly details = 'PKIX_ECDSA_P256_SHA_256' as const;
  readonly hash = 'sha256' as const;
  readonly p256 = true;
  #key: KeyObject | undefined;
  constructor(readonly spki: Buffer) {}

  get key(): KeyObject {
    if (!this.#key) {
      // Imported as a JWK: about half the cost of OpenSSL's SPKI decoder (LIMITS.md §1), and
      // OpenSSL still checks that the point is on the curve.
      const xy = this.spki.subarray(P256_SPKI_PREFIX.length);
      try {
        this.#key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: xy.subarray(0, 32).toString('base64url'), y: xy.subarray(32).toString('base64url') }, format: 'jwk' });
      } catch (e) {
        throw new SigilError('KEY_MALFORMED', `public key is not a point on P-256: ${(e as Error).message}`, { cause: e });
      }
    }
    return this.#key;
  }
}

/**
 * Parses a public key a client asks to certify: PEM `PUBLIC KEY`, or SPKI DER as bytes or as
 * base64 text (Fulcio's PublicKey.content allows both). The accepted key types are those of
 * src/crypto/keys.ts with a Sigstore key-details name (P-256/384/521, Ed25519, RSA
 * 2048/3072/4096); anything else is KEY_UNSUPPORTED, so a weak key never gets a certificate.
 */
export function parseClientPublicKey(content: string | Uint8Array): ClientPublicKey {
  const der = fastPathDer(content);
  if (der) return new CanonicalP256Key(der);
  let input: string | Uint8Array = content;
  if (typeof content === 'string' && !content.includes('-----BEGIN')) {
    input = fromBase64(content.trim(), 'public key');
  }
  const key = importPublicKey(input, 'public key');
  return { key, spki: key.export({ type: 'spki', format: 'der' }), details: keyDetails(key), hash: keyHashAlgorithm(key), p256: false };
}

/** SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING 0x00 0x04 … } of an uncompressed P-256 key (RFC 5480). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');
const P256_SPKI_LENGTH = P256_SPKI_PREFIX.length + 64;

/** The DER of `content` when it is exactly a canonical uncompressed P-256 SPKI (PEM, base64 or DER), else undefined. */
function fastPathDer(content: string | Uint8Array): Buffer | undefined {
  let der: Buffer;
  try {
    if (typeof content !== 'string') der = Buffer.from(content);
    else if (content.includes('-----BEGIN')) {
      const blocks = decodePemBlocks(content);
      if (blocks.length !== 1 || blocks[0]!.label !== 'PUBLIC KEY') return undefined;
      der = blocks[0]!.der;
    } else der = fromBase64(content.trim(), 'public key');
  } catch {
    return undefined; // the general path reports the error
  }
  if (der.length !== P256_SPKI_LENGTH || !der.subarray(0, P256_SPKI_PREFIX.length).equals(P256_SPKI_PREFIX)) return undefined;
  return Buffer.from(der);
}

/** The subjectPublicKey BIT STRING contents (without the unused-bits octet) of an SPKI. */
export function subjectPublicKeyBits(spki: Uint8Array): Buffer {
  const d = new Der(spki, 'KEY_MALFORMED', 'SubjectPublicKeyInfo');
  const [, bits] = d.seq(d.root(), 'SubjectPublicKeyInfo');
  return Buffer.from(d.bitString(bits, 'subjectPublicKey').bytes);
}
