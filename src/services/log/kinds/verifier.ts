/**
 * The verification material of a log entry (a public key or an X.509 certificate) turned into
 * what the signature check needs, and the PublicKeyDetails rules of Rekor v2.
 *
 * Parsing was the expensive part of accepting an entry (LIMITS.md §1, §3: SPKI decode ~115 µs,
 * certificate parse ~130 µs, a P-256 verify ~45 µs). EC keys are therefore read straight from
 * their SPKI bytes (EcPublicKey, no KeyObject) and certificates with sigil's own DER walk; and
 * since clients sign many entries with the same key, decoded keys and certificates are kept in
 * small LRU caches keyed by their DER bytes.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { SigilError, isSigilError } from '../../../core/errors.js';
import { ecPublicKeyFromSpki, type VerificationKey } from '../../../crypto/prehash.js';
import type { DigestAlgorithm } from '../../../core/digest.js';
import { decodePemBlocks } from '../../../core/pem.js';
import { Certificate } from '../../../x509/certificate.js';
import { malformed } from './fields.js';

class Lru<V> {
  #m = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.#m.get(k);
    if (v !== undefined) {
      this.#m.delete(k);
      this.#m.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.#m.set(k, v);
    if (this.#m.size > this.max) this.#m.delete(this.#m.keys().next().value as string);
  }
}

const keyCache = new Lru<VerificationKey>(4096);
const certCache = new Lru<{ spki: Buffer; key: VerificationKey }>(4096);

/** The key properties checkKeyDetails and defaultDigestFor look at (a KeyObject or an EcPublicKey). */
type KeyFacts = Pick<KeyObject, 'asymmetricKeyType' | 'asymmetricKeyDetails'>;

export interface EntryKey {
  /** SubjectPublicKeyInfo DER of the signing key. */
  spki: Buffer;
  /** EC keys are read straight from the SPKI (no KeyObject: see EcPublicKey); others are KeyObjects. */
  key: VerificationKey;
}

function decodeSpki(spki: Buffer, path: string): VerificationKey {
  try {
    return ecPublicKeyFromSpki(spki) ?? createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    if (isSigilError(e)) throw malformed(path, 'holds an EC point that is not on its curve');
    throw malformed(path, 'is not a DER SubjectPublicKeyInfo public key');
  }
}

export function keyFromSpki(spki: Buffer, path: string): EntryKey {
  const k = spki.toString('latin1');
  let key = keyCache.get(k);
  if (!key) {
    key = decodeSpki(spki, path);
    keyCache.set(k, key);
  }
  return { spki, key };
}

export function keyFromCertificate(der: Buffer, path: string): EntryKey {
  const k = der.toString('latin1');
  let got = certCache.get(k);
  if (!got) {
    let spki: Buffer;
    try {
      // sigil's DER walk: X509Certificate's parse and a key export cost ~4x as much (~200 µs).
      spki = Certificate.fromDer(der, { cache: false }).spki;
    } catch {
      throw malformed(path, 'is not a DER X.509 certificate');
    }
    got = { spki, key: decodeSpki(spki, path) };
    certCache.set(k, got);
  }
  return got;
}

/** Rekor v1 carries keys and certificates as PEM (base64-encoded once more in the JSON). */
export function keyFromPem(pem: Buffer, path: string): EntryKey {
  const blocks = decodePemBlocksSafe(pem.toString('utf8'), path);
  if (blocks.length !== 1) throw malformed(path, `must hold exactly one PEM block, found ${blocks.length}`);
  const b = blocks[0]!;
  if (b.label === 'CERTIFICATE') return keyFromCertificate(b.der, path);
  if (b.label === 'PUBLIC KEY') return keyFromSpki(b.der, path);
  throw malformed(path, `PEM block "${b.label}" is neither CERTIFICATE nor PUBLIC KEY`);
}

function decodePemBlocksSafe(text: string, path: string): { label: string; der: Buffer }[] {
  try {
    return decodePemBlocks(text).map((b) => ({ label: b.label, der: Buffer.from(b.der) }));
  } catch {
    throw malformed(path, 'is not PEM');
  }
}

/**
 * The Rekor v2 key details sigil's log accepts, with the digest each one signs over. Ed25519 signs
 * messages, not digests, so it is accepted for DSSE (the log sees the whole PAE) but not for
 * hashedrekord (rekor-tiles only takes Ed25519ph there, which node:crypto cannot verify).
 */
const KEY_DETAILS: Record<string, { digest: DigestAlgorithm | null; type: 'ec' | 'rsa' | 'ed25519'; curve?: string; bits?: number; rsaPadding?: 'pkcs1v15' | 'pss' }> = {
  PKIX_ECDSA_P256_SHA_256: { digest: 'sha256', type: 'ec', curve: 'prime256v1' },
  PKIX_ECDSA_P384_SHA_384: { digest: 'sha384', type: 'ec', curve: 'secp384r1' },
  PKIX_ECDSA_P521_SHA_512: { digest: 'sha512', type: 'ec', curve: 'secp521r1' },
  PKIX_RSA_PKCS1V15_2048_SHA256: { digest: 'sha256', type: 'rsa', bits: 2048, rsaPadding: 'pkcs1v15' },
  PKIX_RSA_PKCS1V15_3072_SHA256: { digest: 'sha256', type: 'rsa', bits: 3072, rsaPadding: 'pkcs1v15' },
  PKIX_RSA_PKCS1V15_4096_SHA256: { digest: 'sha256', type: 'rsa', bits: 4096, rsaPadding: 'pkcs1v15' },
  PKIX_RSA_PSS_2048_SHA256: { digest: 'sha256', type: 'rsa', bits: 2048, rsaPadding: 'pss' },
  PKIX_RSA_PSS_3072_SHA256: { digest: 'sha256', type: 'rsa', bits: 3072, rsaPadding: 'pss' },
  PKIX_RSA_PSS_4096_SHA256: { digest: 'sha256', type: 'rsa', bits: 4096, rsaPadding: 'pss' },
  PKIX_ED25519: { digest: null, type: 'ed25519' },
};

export interface KeyDetailsRule {
  name: string;
  /** Digest the signature is computed over (null: Ed25519 signs the message itself). */
  digest: DigestAlgorithm | null;
  rsaPadding?: 'pkcs1v15' | 'pss';
}

/** Checks that `keyDetails` names an accepted algorithm and matches the key; returns its rule. */
export function checkKeyDetails(keyDetails: unknown, key: KeyFacts, path: string): KeyDetailsRule {
  if (typeof keyDetails !== 'string' || keyDetails.length === 0) throw malformed(path, 'must name the key algorithm (e.g. PKIX_ECDSA_P256_SHA_256)');
  const rule = KEY_DETAILS[keyDetails];
  if (!rule) {
    throw new SigilError('LOG_ENTRY_UNSUPPORTED', `${path} ${keyDetails} is not accepted by this log`, {
      hint: `use one of ${Object.keys(KEY_DETAILS).join(', ')}`,
    });
  }
  const type = key.asymmetricKeyType === 'rsa-pss' ? 'rsa' : key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (type !== rule.type || (rule.curve !== undefined && curve !== rule.curve) || (rule.bits !== undefined && bits !== rule.bits)) {
    throw new SigilError('KEY_MISMATCH', `${path} says ${keyDetails} but the key is ${type ?? '?'}${curve ? ` ${curve}` : ''}${bits ? ` ${bits}-bit` : ''}`, {
      hint: 'send the key details of the key that signed',
    });
  }
  return { name: keyDetails, digest: rule.digest, ...(rule.rsaPadding ? { rsaPadding: rule.rsaPadding } : {}) };
}

/** For Rekor v1 entries, which carry no key details: the digest each key type signs with. */
export function defaultDigestFor(key: KeyFacts): DigestAlgorithm | null {
  if (key.asymmetricKeyType === 'ec') {
    const c = key.asymmetricKeyDetails?.namedCurve;
    return c === 'secp384r1' ? 'sha384' : c === 'secp521r1' ? 'sha512' : 'sha256';
  }
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return 'sha256';
  return null;
}
