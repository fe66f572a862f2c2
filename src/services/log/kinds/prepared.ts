/** What every entry kind produces once a request has been validated and its signatures verified. */
import { constants, hash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { verifyPrehashed, type VerificationKey } from '../../../crypto/prehash.js';
import { leafHash } from '../../../merkle/hash.js';
import { SigilError } from '../../../core/errors.js';
import type { DigestAlgorithm } from '../../../core/digest.js';

export interface PreparedEntry {
  kind: string;
  version: string;
  /** Canonicalized body (RFC 8785 JSON), the bytes that are logged and hashed into the leaf. */
  body: Buffer;
  leafHash: Buffer;
}

/** Tiles carry each entry behind a uint16 length (C2SP tlog-tiles), so a body cannot exceed 64 KiB. */
export const MAX_BODY = 0xffff;

export function prepared(kind: string, version: string, canonicalJson: string): PreparedEntry {
  const body = Buffer.from(canonicalJson, 'utf8');
  if (body.length > MAX_BODY) {
    throw new SigilError('LOG_ENTRY_UNSUPPORTED', `the ${kind} entry would be ${body.length} bytes, more than the ${MAX_BODY} a log entry may have`, {
      hint: 'log large documents by digest (hashedrekord) instead of by content',
    });
  }
  return { kind, version, body, leafHash: leafHash(body) };
}

export function invalidSignature(what: string): SigilError {
  return new SigilError('SIGNATURE_INVALID', `${what} does not verify with the given key`, {
    hint: 'the log only accepts entries whose signature verifies; check the key, the digest and the signed bytes',
  });
}

/** Signature check over a whole message (DSSE PAE); false for any bad signature, never throws. */
export function verifyMessage(key: VerificationKey, digest: DigestAlgorithm | null, message: Buffer, signature: Buffer, pss = false): boolean {
  try {
    // ECDSA over hash(message) is ECDSA over that digest: EC keys go through verifyPrehashed, so
    // that a P-256 key signing many envelopes gets its fixed-base table (crypto/hot-keys.ts), and
    // EC keys need no KeyObject (see EcPublicKey).
    if (digest && key.asymmetricKeyType === 'ec') {
      return verifyPrehashed(key, digest, hash(digest, message, 'buffer') as unknown as Buffer, signature);
    }
    // Only EC keys are EcPublicKeys.
    const keyObject = key as KeyObject;
    const k = pss ? { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO } : keyObject;
    return cryptoVerify(digest, message, k, signature);
  } catch {
    return false;
  }
}
