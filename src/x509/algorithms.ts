/**
 * Signature and digest AlgorithmIdentifiers (RFC 5280 §4.1.1.2) mapped to node:crypto verify
 * parameters. Only algorithms with a collision-resistant hash are accepted: SHA-1 signatures
 * (sha1WithRSAEncryption, ecdsa-with-SHA1) are refused, so a forged SHA-1 chosen-prefix
 * certificate cannot pass a chain check.
 */
import { constants, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { Der, Tlv } from '../core/der.js';
import { TAG, contextTag } from '../core/der.js';
import {
  OID_ECDSA_SHA256,
  OID_ECDSA_SHA384,
  OID_ECDSA_SHA512,
  OID_EC_PUBLIC_KEY,
  OID_ED25519,
  OID_MGF1,
  OID_RSA_ENCRYPTION,
  OID_RSA_PSS,
  OID_RSA_SHA256,
  OID_RSA_SHA384,
  OID_RSA_SHA512,
  OID_SHA1,
  OID_SHA256,
  OID_SHA384,
  OID_SHA512,
} from './oids.js';

export type HashName = 'sha256' | 'sha384' | 'sha512';

export interface SignatureScheme {
  /** Human name for messages, e.g. `ecdsa-with-SHA384`. */
  name: string;
  /** Digest applied to the signed bytes; null for Ed25519 (pure EdDSA). */
  hash: HashName | null;
  keyType: 'ec' | 'rsa' | 'rsa-pss' | 'ed25519';
  /** RSASSA-PSS salt length in bytes. */
  saltLength?: number;
}

const DIGESTS: Record<string, HashName> = { [OID_SHA256]: 'sha256', [OID_SHA384]: 'sha384', [OID_SHA512]: 'sha512' };

const SIMPLE: Record<string, SignatureScheme> = {
  [OID_ECDSA_SHA256]: { name: 'ecdsa-with-SHA256', hash: 'sha256', keyType: 'ec' },
  [OID_ECDSA_SHA384]: { name: 'ecdsa-with-SHA384', hash: 'sha384', keyType: 'ec' },
  [OID_ECDSA_SHA512]: { name: 'ecdsa-with-SHA512', hash: 'sha512', keyType: 'ec' },
  [OID_RSA_SHA256]: { name: 'sha256WithRSAEncryption', hash: 'sha256', keyType: 'rsa' },
  [OID_RSA_SHA384]: { name: 'sha384WithRSAEncryption', hash: 'sha384', keyType: 'rsa' },
  [OID_RSA_SHA512]: { name: 'sha512WithRSAEncryption', hash: 'sha512', keyType: 'rsa' },
  [OID_ED25519]: { name: 'Ed25519', hash: null, keyType: 'ed25519' },
};

/** Parameters must be absent (ECDSA, Ed25519: RFC 5758 §3.2, RFC 8410 §3) or NULL (PKCS#1: RFC 4055 §5). */
function checkNoParams(der: Der, params: Tlv | undefined, allowNull: boolean, what: string): void {
  if (params === undefined) return;
  if (allowNull && params.tag === TAG.NULL && params.end === params.valueStart) return;
  der.fail(`${what} has unexpected parameters`);
}

/** The digest named by a DigestAlgorithmIdentifier (SHA-2 family; parameters absent or NULL). */
export function digestAlgorithm(der: Der, algId: Tlv | undefined, what = 'digest algorithm'): HashName {
  const [oidT, params, ...extra] = der.seq(algId, what);
  const oid = der.oid(oidT, what);
  const hash = DIGESTS[oid];
  if (!hash) der.fail(`${what} ${oid === OID_SHA1 ? 'SHA-1' : oid} is not supported (SHA-256, SHA-384 or SHA-512 required)`);
  if (extra.length) der.fail(`${what} has extra fields`);
  checkNoParams(der, params, true, what);
  return hash;
}

/** Digest OID → name, or undefined (used where SHA-1 is allowed, e.g. ESS certHash v1). */
export function digestNameForOid(oid: string): HashName | 'sha1' | undefined {
  return oid === OID_SHA1 ? 'sha1' : DIGESTS[oid];
}

/** Parses a signature AlgorithmIdentifier (X.509 signatureAlgorithm or CMS SignerInfo). */
export function signatureScheme(der: Der, algId: Tlv | undefined, what = 'signature algorithm'): SignatureScheme {
  const [oidT, params, ...extra] = der.seq(algId, what);
  const oid = der.oid(oidT, what);
  if (extra.length) der.fail(`${what} has extra fields`);
  const simple = SIMPLE[oid];
  if (simple) {
    checkNoParams(der, params, simple.keyType === 'rsa', what);
    return simple;
  }
  if (oid === OID_RSA_PSS) return pssScheme(der, params, what);
  return der.fail(`${what} ${oid} is not supported`, 'sigil verifies ECDSA and RSA with SHA-2, RSASSA-PSS and Ed25519');
}

/**
 * CMS SignerInfo (RFC 5652 §5.3) may name only the key algorithm (rsaEncryption, id-ecPublicKey)
 * and leave the hash to `digestAlgorithm`; RFC 5754 §3 allows that, and many TSAs do it.
 */
export function cmsSignatureScheme(der: Der, algId: Tlv | undefined, digest: HashName, what = 'signer signature algorithm'): SignatureScheme {
  const [oidT, params] = der.seq(algId, what);
  const oid = der.oid(oidT, what);
  if (oid === OID_RSA_ENCRYPTION) {
    checkNoParams(der, params, true, what);
    return { name: `rsaEncryption with ${digest}`, hash: digest, keyType: 'rsa' };
  }
  if (oid === OID_EC_PUBLIC_KEY) {
    return { name: `ecdsa with ${digest}`, hash: digest, keyType: 'ec' };
  }
  return signatureScheme(der, algId, what);
}

function pssScheme(der: Der, params: Tlv | undefined, what: string): SignatureScheme {
  // RFC 4055 §3.1: RSASSA-PSS-params; the SHA-1 defaults are refused, so all fields must be present.
  const fields = der.seq(params, `${what} RSASSA-PSS parameters`);
  let hash: HashName | undefined;
  let mgfHash: HashName | undefined;
  let saltLength = 20;
  for (const f of fields) {
    const inner = der.children(f)[0];
    if (f.tag === contextTag(0, true)) hash = digestAlgorithm(der, inner, `${what} PSS hash`);
    else if (f.tag === contextTag(1, true)) {
      const [mgfOid, mgfParams] = der.seq(inner, `${what} PSS mask generation`);
      if (der.oid(mgfOid) !== OID_MGF1) der.fail(`${what} PSS mask generation function is not MGF1`);
      mgfHash = digestAlgorithm(der, mgfParams, `${what} MGF1 hash`);
    } else if (f.tag === contextTag(2, true)) saltLength = der.smallInt(inner, `${what} PSS salt length`);
    else if (f.tag === contextTag(3, true)) {
      if (der.smallInt(inner, `${what} PSS trailer`) !== 1) der.fail(`${what} PSS trailer field must be 1`);
    } else der.fail(`${what} PSS parameters have an unknown field`);
  }
  if (!hash || !mgfHash) der.fail(`${what} RSASSA-PSS with default SHA-1 parameters is not supported`);
  // node:crypto uses the message digest for MGF1, so a different MGF1 hash cannot be verified.
  if (hash !== mgfHash) der.fail(`${what} RSASSA-PSS with MGF1 hash ${mgfHash} differing from ${hash} is not supported`);
  return { name: `RSASSA-PSS-${hash}`, hash, keyType: 'rsa-pss', saltLength };
}

/**
 * Verifies `signature` over `data` with `key` under `scheme`. Returns false (never throws) on a
 * wrong key type, malformed signature or mismatch: node throws for some malformed signatures and
 * a verifier must turn those into a plain "does not verify".
 */
export function verifySignature(scheme: SignatureScheme, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const kt = key.asymmetricKeyType;
  const compatible =
    scheme.keyType === 'ec' ? kt === 'ec' : scheme.keyType === 'ed25519' ? kt === 'ed25519' : kt === 'rsa' || kt === 'rsa-pss';
  if (!compatible) return false;
  try {
    if (scheme.keyType === 'rsa-pss') {
      return cryptoVerify(scheme.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength ?? 20 }, signature);
    }
    if (scheme.keyType === 'rsa') {
      return cryptoVerify(scheme.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    }
    return cryptoVerify(scheme.hash, data, key, signature);
  } catch {
    return false;
  }
}
