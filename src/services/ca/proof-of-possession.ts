/**
 * Proof that the requester holds the private key it wants certified (fulcio.proto
 * PublicKeyRequest.proof_of_possession and certificate_signing_request):
 * - a signature by that key over the challenge claim (the email for email identities, `sub`
 *   otherwise), which binds the key to this identity and stops anyone from certifying a key
 *   they merely observed;
 * - or a PKCS#10 CSR (RFC 2986), whose self-signature is the proof; only its public key is used.
 */
import { createHash, verify as cryptoVerify } from 'node:crypto';
import { prehashEngine, verifyPrehashedSpki } from '../../crypto/prehash.js';
import { Der, TAG } from '../../core/der.js';
import { SigilError } from '../../core/errors.js';
import { decodePem } from '../../core/pem.js';
import { parseClientPublicKey, type ClientPublicKey } from '../pki/algorithms.js';

/** The BigInt fallback is slower than a KeyObject verification, so only the native engine is used. */
const NATIVE_PREHASH = prehashEngine() === 'native';

function popFailed(message: string, hint: string): SigilError {
  return new SigilError('SIGNATURE_INVALID', message, { kind: 'input', hint });
}

/** Verifies a proof-of-possession signature; ECDSA signatures are DER, as Sigstore clients send them. */
export function verifyChallengeSignature(key: ClientPublicKey, challenge: string, signature: Uint8Array): void {
  let ok = false;
  if (key.p256 && NATIVE_PREHASH) {
    // Ephemeral keys are seen once: verifying from the SPKI bytes skips decoding a KeyObject
    // (src/crypto/prehash.ts, ~2.4x faster cold). A point off the curve is KEY_MALFORMED.
    ok = verifyPrehashedSpki(key.spki, 'sha256', createHash('sha256').update(challenge, 'utf8').digest(), signature);
  } else {
    try {
      ok = cryptoVerify(key.hash, Buffer.from(challenge, 'utf8'), key.key, signature);
    } catch (e) {
      if (e instanceof SigilError) throw e;
      ok = false;
    }
  }
  if (!ok) {
    throw popFailed(`proof of possession does not verify: it must be a signature by the submitted key over '${challenge}'`, 'sign the token\'s email claim (email identities) or sub claim with the key being certified');
  }
}

/** Signature algorithm OID of a CSR → the digest to verify with, per key type. */
const CSR_ALGORITHMS: Record<string, { keyType: string; hash: 'sha256' | 'sha384' | 'sha512' | null }> = {
  '1.2.840.10045.4.3.2': { keyType: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { keyType: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { keyType: 'ec', hash: 'sha512' },
  '1.3.101.112': { keyType: 'ed25519', hash: null },
  '1.2.840.113549.1.1.11': { keyType: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { keyType: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { keyType: 'rsa', hash: 'sha512' },
};

/** Parses a PEM (or DER) PKCS#10 request, verifies its self-signature and returns its key. */
export function publicKeyFromCsr(input: Uint8Array): ClientPublicKey {
  let der: Buffer;
  const text = Buffer.from(input).toString('latin1');
  if (text.includes('-----BEGIN')) {
    try {
      der = decodePem(text, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']).der;
    } catch (e) {
      throw new SigilError('CERTIFICATE_MALFORMED', 'certificate signing request has no PEM CERTIFICATE REQUEST block', { cause: e, hint: 'send a PKCS#10 CSR, PEM encoded' });
    }
  } else {
    der = Buffer.from(input);
  }
  const d = new Der(der, 'CERTIFICATE_MALFORMED', 'certificate signing request');
  const [info, algId, sig] = d.seq(d.root(), 'CertificationRequest');
  const infoFields = d.seq(info, 'certificationRequestInfo');
  if (d.smallInt(infoFields[0], 'version') !== 0) d.fail('version must be 0 (v1)');
  const spkiTlv = d.expect(infoFields[2], TAG.SEQUENCE, 'subjectPKInfo');
  const algOid = d.oid(d.seq(algId, 'signatureAlgorithm')[0], 'signature algorithm');
  const signature = d.bitString(sig, 'signature');
  if (signature.unused !== 0) d.fail('signature has unused bits');
  const key = parseClientPublicKey(Buffer.from(d.bytes(spkiTlv)));
  const alg = CSR_ALGORITHMS[algOid];
  if (!alg) throw new SigilError('KEY_UNSUPPORTED', `CSR signature algorithm ${algOid} is not supported`, { hint: 'sign the CSR with ECDSA, Ed25519 or RSA PKCS#1 v1.5' });
  if (alg.keyType !== key.key.asymmetricKeyType) {
    throw popFailed(`CSR is signed with ${algOid}, which does not fit its ${key.key.asymmetricKeyType ?? '?'} key`, 'the CSR must be signed by the key it contains');
  }
  let ok = false;
  try {
    ok = cryptoVerify(alg.hash, d.bytes(info!), key.key, signature.bytes);
  } catch {
    ok = false;
  }
  if (!ok) throw popFailed('CSR signature does not verify with the public key it contains', 'the CSR must be signed by the key it asks to certify');
  return key;
}
