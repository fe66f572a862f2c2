/**
 * Signature algorithm identifiers (RFC 5758 §3.2 ECDSA, RFC 8410 Ed25519, RFC 4055 RSA) for the
 * key a `Signer` holds, and the checks on public keys clients submit for certification.
 */
import type { KeyObject } from 'node:crypto';
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
  key: KeyObject;
  /** Canonical SPKI DER (re-exported, so odd encodings from the client never reach a certificate). */
  spki: Buffer;
  details: KeyDetails;
  /** Digest for signatures by this key (null for Ed25519), as crypto.verify takes it. */
  hash: DigestAlgorithm | null;
}

/**
 * Parses a public key a client asks to certify: PEM `PUBLIC KEY`, or SPKI DER as bytes or as
 * base64 text (Fulcio's PublicKey.content allows both). The accepted key types are those of
 * src/crypto/keys.ts with a Sigstore key-details name (P-256/384/521, Ed25519, RSA
 * 2048/3072/4096); anything else is KEY_UNSUPPORTED, so a weak key never gets a certificate.
 */
export function parseClientPublicKey(content: string | Uint8Array): ClientPublicKey {
  let input: string | Uint8Array = content;
  if (typeof content === 'string' && !content.includes('-----BEGIN')) {
    input = fromBase64(content.trim(), 'public key');
  }
  const key = importPublicKey(input, 'public key');
  return { key, spki: key.export({ type: 'spki', format: 'der' }), details: keyDetails(key), hash: keyHashAlgorithm(key) };
}

/** The subjectPublicKey BIT STRING contents (without the unused-bits octet) of an SPKI. */
export function subjectPublicKeyBits(spki: Uint8Array): Buffer {
  const d = new Der(spki, 'KEY_MALFORMED', 'SubjectPublicKeyInfo');
  const [, bits] = d.seq(d.root(), 'SubjectPublicKeyInfo');
  return Buffer.from(d.bitString(bits, 'subjectPublicKey').bytes);
}
