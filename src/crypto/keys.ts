/**
 * Key generation, import and export. Everything that turns bytes into a KeyObject goes through
 * here, so the rules about which keys sigil accepts live in one place:
 * ECDSA P-256/P-384/P-521 on named curves, Ed25519, RSA ≥ 2048 bits. Anything else (DSA, X25519,
 * secp256k1, brainpool, explicit curve parameters, short RSA) is KEY_UNSUPPORTED, and bytes that
 * are not a key at all are KEY_MALFORMED; node's OpenSSL errors never reach the user raw.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { SigilError } from '../core/errors.js';
import { decodePem, encodePem, type PemBlock } from '../core/pem.js';
import type { DigestAlgorithm } from '../core/digest.js';
import type { KeyDetails } from './signer.js';
import { COSIGN_KEY_LABELS, decryptCosignKey } from './cosign-key.js';

export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'ed25519' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519', 'rsa-2048', 'rsa-3072', 'rsa-4096'];

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Smallest RSA modulus accepted: NIST SP 800-131A disallows < 2048 bits for signatures. */
export const MIN_RSA_BITS = 2048;

const CURVES: Record<string, { details: KeyDetails; hash: DigestAlgorithm; name: string }> = {
  prime256v1: { details: 'PKIX_ECDSA_P256_SHA_256', hash: 'sha256', name: 'P-256' },
  secp384r1: { details: 'PKIX_ECDSA_P384_SHA_384', hash: 'sha384', name: 'P-384' },
  secp521r1: { details: 'PKIX_ECDSA_P521_SHA_512', hash: 'sha512', name: 'P-521' },
};

export function isKeyAlgorithm(s: string): s is KeyAlgorithm {
  return (KEY_ALGORITHMS as readonly string[]).includes(s);
}

/** Generates a key pair; ECDSA P-256 is the default, as in cosign. */
export function generateKeyPair(alg: KeyAlgorithm = 'ecdsa-p256'): KeyPair {
  switch (alg) {
    case 'ecdsa-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ecdsa-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'ecdsa-p521':
      return generateKeyPairSync('ec', { namedCurve: 'P-521' });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return generateKeyPairSync('rsa', { modulusLength: Number(alg.slice(4)), publicExponent: 65537 });
    default:
      throw new SigilError('KEY_UNSUPPORTED', `unknown key algorithm '${String(alg)}'`, {
        hint: `use one of ${KEY_ALGORITHMS.join(', ')}`,
      });
  }
}

/**
 * Throws KEY_UNSUPPORTED unless the key is one sigil signs or verifies with. Called on every key
 * that enters through import, so later code can switch on the type without a default branch.
 */
export function assertSupportedKey(key: KeyObject, what = 'key'): void {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (!curve || !CURVES[curve]) {
      throw new SigilError('KEY_UNSUPPORTED', `${what} is an EC key on curve ${curve ?? '(explicit parameters)'}, which sigil does not support`, {
        hint: 'use an ECDSA key on P-256, P-384 or P-521, an Ed25519 key or an RSA key',
      });
    }
    return;
  }
  if (type === 'ed25519') return;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) {
      throw new SigilError('KEY_UNSUPPORTED', `${what} is a ${bits}-bit RSA key; at least ${MIN_RSA_BITS} bits are required`, {
        hint: 'generate a new key: sigil generate-key-pair',
      });
    }
    return;
  }
  throw new SigilError('KEY_UNSUPPORTED', `${what} is of type ${type ?? 'unknown'}, which sigil does not support`, {
    hint: 'use an ECDSA key on P-256, P-384 or P-521, an Ed25519 key or an RSA key',
  });
}

/** The protobuf-specs PublicKeyDetails name of a key (also the signature scheme sigil uses with it). */
export function keyDetails(key: KeyObject): KeyDetails {
  assertSupportedKey(key);
  switch (key.asymmetricKeyType) {
    case 'ec':
      return CURVES[key.asymmetricKeyDetails!.namedCurve!]!.details;
    case 'ed25519':
      return 'PKIX_ED25519';
    default: {
      const bits = key.asymmetricKeyDetails?.modulusLength;
      if (bits === 2048 || bits === 3072 || bits === 4096) return `PKIX_RSA_PKCS1V15_${bits}_SHA256`;
      throw new SigilError('KEY_UNSUPPORTED', `RSA keys of ${bits} bits have no Sigstore key details name (2048, 3072 or 4096 only)`, {
        hint: 'use an RSA key of 2048, 3072 or 4096 bits',
      });
    }
  }
}

/**
 * The digest that goes with the key: SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for
 * P-521 (protobuf-specs PublicKeyDetails), null for Ed25519, which hashes inside the algorithm.
 * The result can be passed straight to crypto.sign / crypto.verify.
 */
export function keyHashAlgorithm(key: KeyObject): DigestAlgorithm | null {
  assertSupportedKey(key);
  if (key.asymmetricKeyType === 'ec') return CURVES[key.asymmetricKeyDetails!.namedCurve!]!.hash;
  if (key.asymmetricKeyType === 'ed25519') return null;
  return 'sha256';
}

/** Short human name: "ECDSA P-256", "Ed25519", "RSA-3072". */
export function describeKey(key: KeyObject): string {
  if (key.asymmetricKeyType === 'ec') return `ECDSA ${CURVES[key.asymmetricKeyDetails?.namedCurve ?? '']?.name ?? key.asymmetricKeyDetails?.namedCurve}`;
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType === 'rsa') return `RSA-${key.asymmetricKeyDetails?.modulusLength}`;
  return String(key.asymmetricKeyType);
}

function toText(input: string | Uint8Array): string | undefined {
  if (typeof input === 'string') return input;
  // A Buffer holding PEM or JWK text is treated as text; anything else is DER.
  let i = 0;
  while (i < input.length && (input[i] === 0x20 || input[i] === 0x0a || input[i] === 0x0d || input[i] === 0x09 || input[i] === 0xef || input[i] === 0xbb || input[i] === 0xbf)) i++;
  if (input[i] === 0x2d /* - */ || input[i] === 0x7b /* { */) return Buffer.from(input).toString('utf8');
  return undefined;
}

function malformed(what: string, detail: string, e?: unknown): SigilError {
  const wantsPrivate = /private/.test(what);
  return new SigilError('KEY_MALFORMED', `${what} could not be decoded: ${detail}`, {
    hint: wantsPrivate
      ? 'pass a PEM private key (cosign/sigstore encrypted, PKCS#8, EC or RSA) or its DER; the file may be truncated or edited'
      : 'pass a PEM (-----BEGIN PUBLIC KEY-----), DER or JWK public key; the file may be truncated or edited',
    ...(e === undefined ? {} : { cause: e }),
  });
}

function openSslDetail(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // OpenSSL's "error:1E08010C:DECODER routines::unsupported" tells a user nothing; say what it means.
  if (/DECODER routines|asn1|header too long|too long|wrong tag|not enough data|decode error|point is not on curve|invalid encoding/i.test(msg)) {
    return 'not a valid key encoding, or the EC point is not on the curve';
  }
  return msg;
}

/** decodePem, with its errors (no block, bad base64 = a truncated or edited file) reported as KEY_MALFORMED. */
function pemBlock(text: string, labels: string[], what: string): PemBlock {
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (begin && !text.includes(`-----END ${begin[1]}-----`)) throw malformed(what, `PEM block ${begin[1]} has no END line (truncated)`);
  try {
    return decodePem(text, labels);
  } catch (e) {
    if (e instanceof SigilError) throw malformed(what, e.message.replace(/^no PEM block/, 'no complete PEM block'), e);
    throw e;
  }
}

/**
 * Imports a public key from PEM (SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY`), DER SPKI or a JWK
 * (JSON text). The key type is checked (assertSupportedKey). Parse once and keep the KeyObject:
 * decoding costs ~115 µs, more than a P-256 verification (LIMITS.md §1).
 */
export function importPublicKey(input: string | Uint8Array, what = 'public key'): KeyObject {
  const text = toText(input);
  let key: KeyObject;
  if (text === undefined) {
    try {
      key = createPublicKey({ key: Buffer.from(input as Uint8Array), format: 'der', type: 'spki' });
    } catch (e) {
      throw malformed(what, `DER is not a SubjectPublicKeyInfo (${openSslDetail(e)})`, e);
    }
  } else if (text.trimStart().startsWith('{')) {
    let jwk: unknown;
    try {
      jwk = JSON.parse(text);
    } catch (e) {
      throw malformed(what, `JWK is not valid JSON (${(e as Error).message})`, e);
    }
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw malformed(what, 'JWK is not a JSON object');
    if ('d' in jwk) {
      throw new SigilError('KEY_MALFORMED', `${what} is a private JWK; a public key was expected`, {
        hint: 'pass the public half of the key',
      });
    }
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch (e) {
      throw malformed(what, `JWK rejected (${openSslDetail(e)})`, e);
    }
  } else {
    if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) throw malformed(what, 'no PEM block, DER or JWK found');
    const block = pemBlock(text, ['PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE', 'PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY', ...COSIGN_KEY_LABELS, 'ENCRYPTED PRIVATE KEY'], what);
    if (block.label === 'CERTIFICATE') {
      throw new SigilError('KEY_MALFORMED', `${what} is a certificate, not a public key`, {
        hint: 'pass the certificate with --certificate, or extract its key: openssl x509 -pubkey -noout',
      });
    }
    if (block.label !== 'PUBLIC KEY' && block.label !== 'RSA PUBLIC KEY') {
      throw new SigilError('KEY_MALFORMED', `${what} is a private key (${block.label}); a public key was expected`, {
        hint: 'pass the .pub file, never the private key',
      });
    }
    try {
      key = createPublicKey({ key: block.der, format: 'der', type: block.label === 'PUBLIC KEY' ? 'spki' : 'pkcs1' });
    } catch (e) {
      throw malformed(what, `${block.label} block is not a valid key (${openSslDetail(e)})`, e);
    }
  }
  if (key.type !== 'public') throw malformed(what, 'not a public key');
  assertSupportedKey(key, what);
  return key;
}

/** True when the text is a private key that needs a password (cosign-encrypted or encrypted PKCS#8/PEM). */
export function isEncryptedPrivateKey(input: string | Uint8Array): boolean {
  const text = toText(input);
  if (text === undefined) return false;
  const m = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (!m) return false;
  return (COSIGN_KEY_LABELS as readonly string[]).includes(m[1]!) || m[1] === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(text);
}

function passwordError(what: string, e?: unknown): SigilError {
  return new SigilError('KEY_PASSWORD_INVALID', `wrong password for ${what}: decryption failed`, {
    hint: 'check SIGIL_PASSWORD / COSIGN_PASSWORD or the password you typed',
    ...(e === undefined ? {} : { cause: e }),
  });
}

function missingPassword(what: string): SigilError {
  return new SigilError('KEY_PASSWORD_INVALID', `${what} is encrypted and no password was given`, {
    hint: 'set SIGIL_PASSWORD (or COSIGN_PASSWORD), or run in a terminal to be prompted',
  });
}

/**
 * Imports a private key: cosign/sigstore encrypted (`ENCRYPTED SIGSTORE PRIVATE KEY`,
 * `ENCRYPTED COSIGN PRIVATE KEY`), PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`), SEC1
 * (`EC PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`, also with legacy Proc-Type encryption), or the
 * same as DER. `password` is needed for encrypted keys only; the empty string is a valid password.
 */
export function importPrivateKey(input: string | Uint8Array, password?: string, what = 'private key'): KeyObject {
  const text = toText(input);
  let key: KeyObject;
  if (text === undefined) {
    key = importPrivateDer(Buffer.from(input as Uint8Array), what);
  } else {
    const m = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
    if (!m) throw malformed(what, 'no PEM block or DER found');
    const label = m[1]!;
    if ((COSIGN_KEY_LABELS as readonly string[]).includes(label)) {
      if (password === undefined) throw missingPassword(what);
      key = decryptCosignKey(text, password, what);
    } else if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(text)) {
      if (password === undefined) throw missingPassword(what);
      const endRe = new RegExp(`-----END ${label}-----`);
      if (!endRe.test(text)) throw malformed(what, `PEM block ${label} has no END line (truncated)`);
      try {
        key = createPrivateKey({ key: text, format: 'pem', passphrase: password });
      } catch (e) {
        const msg = e instanceof Error ? e.message : '';
        if (/bad decrypt|DECODER|maybe wrong password/i.test(msg)) throw passwordError(what, e);
        throw malformed(what, openSslDetail(e), e);
      }
    } else if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY' || label === 'CERTIFICATE') {
      throw new SigilError('KEY_MALFORMED', `${what} is a ${label === 'CERTIFICATE' ? 'certificate' : 'public key'}; a private key was expected`, {
        hint: 'pass the .key file written by sigil generate-key-pair',
      });
    } else {
      const block = pemBlock(text, ['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY'], what);
      const type = block.label === 'PRIVATE KEY' ? 'pkcs8' : block.label === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs1';
      try {
        key = createPrivateKey({ key: block.der, format: 'der', type });
      } catch (e) {
        throw malformed(what, `${block.label} block is not a valid key (${openSslDetail(e)})`, e);
      }
    }
  }
  if (key.type !== 'private') throw malformed(what, 'not a private key');
  assertSupportedKey(key, what);
  return key;
}

function importPrivateDer(der: Buffer, what: string): KeyObject {
  for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type });
    } catch {
      // try the next encoding; the error below names all three
    }
  }
  throw malformed(what, 'DER is not a PKCS#8, SEC1 or PKCS#1 private key');
}

/** PKCS#8 DER of a private key (the plaintext of a cosign-encrypted key). */
export function privateKeyDer(key: KeyObject): Buffer {
  return key.export({ type: 'pkcs8', format: 'der' });
}

/** SubjectPublicKeyInfo DER of a key (public, or the public half of a private key). */
export function publicKeyDer(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

/** `-----BEGIN PUBLIC KEY-----` (SPKI), what cosign writes to `cosign.pub`. */
export function exportPublicKeyPem(key: KeyObject): string {
  return encodePem('PUBLIC KEY', publicKeyDer(key));
}

/** Unencrypted `-----BEGIN PRIVATE KEY-----` (PKCS#8). Prefer encryptCosignKey for anything written to disk. */
export function exportPrivateKeyPem(key: KeyObject): string {
  if (key.type !== 'private') throw new SigilError('KEY_MALFORMED', 'exportPrivateKeyPem needs a private key');
  return encodePem('PRIVATE KEY', privateKeyDer(key));
}

/** The public half of a private key (or the key itself when already public). */
export function toPublicKey(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

/**
 * The key hint of bundle verification material `publicKey.hint`: base64 of SHA-256 over the SPKI
 * DER, as cosign writes it, so a verifier holding several keys can pick the right one.
 */
export function publicKeyHint(key: KeyObject): string {
  return createHash('sha256').update(publicKeyDer(key)).digest('base64');
}
