/**
 * cosign's encrypted private key format, so keys move between sigil and cosign both ways.
 *
 * PEM `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign ≥ 2.0; `ENCRYPTED COSIGN PRIVATE KEY` before) whose
 * body is JSON: {kdf: {name: "scrypt", params: {N, r, p}, salt}, cipher: {name: "nacl/secretbox",
 * nonce}, ciphertext}. key = scrypt(password, salt, N, r, p, 32 bytes); plaintext = PKCS#8 DER;
 * cipher = XSalsa20-Poly1305 (NaCl secretbox) — see ../shared/peers/README.md §3 "Key format".
 *
 * The file is attacker-supplied as often as not (a key handed over by someone else), so the scrypt
 * parameters are bounded before use: a file asking for N = 2^30 must be rejected, not allowed to
 * make us allocate 128 GiB.
 */
import { createPrivateKey, randomBytes, scryptSync, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { SigilError } from '../core/errors.js';
import { fromBase64 } from '../core/encoding.js';
import { decodePem, encodePem } from '../core/pem.js';
import { isObject } from '../core/json.js';

export const SIGSTORE_KEY_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const LEGACY_COSIGN_KEY_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';
export const COSIGN_KEY_LABELS = [SIGSTORE_KEY_LABEL, LEGACY_COSIGN_KEY_LABEL] as const;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** cosign's parameters (sigstore/cosign pkg/cosign/keys.go via secure-systems-lab encrypted: N=2^15, r=8, p=1). */
export const COSIGN_SCRYPT: ScryptParams = { N: 32768, r: 8, p: 1 };

/** scrypt memory is 128·N·r bytes; 256 MiB allows N up to 2^18 at r=8, 8x cosign's cost. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const MAX_P = 16;

export interface CosignEncryptedKey {
  label: string;
  scrypt: ScryptParams;
  salt: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
}

function bad(what: string, detail: string): SigilError {
  return new SigilError('KEY_MALFORMED', `${what} is not a valid encrypted sigstore key: ${detail}`, {
    hint: 'the key file may be truncated or edited; generate a new one with sigil generate-key-pair',
  });
}

function checkScrypt(params: ScryptParams, what: string): void {
  const { N, r, p } = params;
  for (const [k, v] of Object.entries(params)) {
    if (!Number.isSafeInteger(v) || v < 1) throw bad(what, `scrypt parameter ${k} must be a positive integer`);
  }
  if (N < 2 || (N & (N - 1)) !== 0) throw bad(what, `scrypt N=${N} is not a power of two`);
  if (128 * N * r > MAX_SCRYPT_MEMORY || p > MAX_P) {
    throw new SigilError('KEY_UNSUPPORTED', `${what} asks for scrypt N=${N}, r=${r}, p=${p}, beyond sigil's limit (128·N·r ≤ 256 MiB, p ≤ ${MAX_P})`, {
      hint: 'a key with such parameters is not one cosign writes; it may be crafted to exhaust memory',
    });
  }
}

function b64Field(obj: Record<string, unknown>, key: string, path: string, what: string): Buffer {
  const v = obj[key];
  if (typeof v !== 'string') throw bad(what, `${path}.${key} must be a base64 string`);
  try {
    return fromBase64(v, `${path}.${key}`);
  } catch {
    throw bad(what, `${path}.${key} is not valid base64`);
  }
}

/** Parses the PEM + JSON container without decrypting it. */
export function parseCosignKey(text: string, what = 'private key'): CosignEncryptedKey {
  if (!/-----END (ENCRYPTED SIGSTORE|ENCRYPTED COSIGN) PRIVATE KEY-----/.test(text)) {
    throw bad(what, 'PEM block has no END line (truncated?)');
  }
  let block;
  try {
    block = decodePem(text, [...COSIGN_KEY_LABELS]);
  } catch (e) {
    if (e instanceof SigilError) throw bad(what, e.message);
    throw e;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(block.der.toString('utf8'));
  } catch {
    throw bad(what, 'PEM body is not JSON');
  }
  if (!isObject(doc)) throw bad(what, 'PEM body is not a JSON object');
  const kdf = doc.kdf;
  const cipher = doc.cipher;
  if (!isObject(kdf) || !isObject(cipher)) throw bad(what, 'kdf and cipher objects are required');
  if (kdf.name !== 'scrypt') {
    throw new SigilError('KEY_UNSUPPORTED', `${what} uses key derivation '${String(kdf.name)}'; only scrypt is supported`, {
      hint: 'cosign writes scrypt keys; re-encrypt the key with cosign or sigil',
    });
  }
  if (cipher.name !== 'nacl/secretbox') {
    throw new SigilError('KEY_UNSUPPORTED', `${what} uses cipher '${String(cipher.name)}'; only nacl/secretbox is supported`, {
      hint: 'cosign writes nacl/secretbox keys; re-encrypt the key with cosign or sigil',
    });
  }
  const params = kdf.params;
  if (!isObject(params)) throw bad(what, 'kdf.params must be an object');
  const scrypt = { N: params.N, r: params.r, p: params.p } as ScryptParams;
  checkScrypt(scrypt, what);
  const salt = b64Field(kdf, 'salt', 'kdf', what);
  const nonce = b64Field(cipher, 'nonce', 'cipher', what);
  const ciphertext = b64Field(doc, 'ciphertext', '', what);
  if (salt.length < 8) throw bad(what, `salt of ${salt.length} bytes is too short`);
  if (nonce.length !== nacl.secretbox.nonceLength) throw bad(what, `nonce must be ${nacl.secretbox.nonceLength} bytes, got ${nonce.length}`);
  if (ciphertext.length <= nacl.secretbox.overheadLength) throw bad(what, 'ciphertext is too short to hold a key');
  return { label: block.label, scrypt, salt, nonce, ciphertext };
}

function deriveKey(password: string, salt: Buffer, s: ScryptParams): Buffer {
  return scryptSync(Buffer.from(password, 'utf8'), salt, nacl.secretbox.keyLength, {
    N: s.N,
    r: s.r,
    p: s.p,
    // node's default maxmem (32 MiB) is exactly cosign's 128·N·r and scrypt needs a little more.
    maxmem: 128 * s.N * s.r * 2 + 1024 * 1024,
  });
}

/**
 * Decrypts a cosign/sigstore encrypted key. A wrong password is KEY_PASSWORD_INVALID (the
 * Poly1305 tag fails); anything structurally wrong is KEY_MALFORMED. Takes ~0.1 s (scrypt).
 */
export function decryptCosignKey(text: string, password: string, what = 'private key'): KeyObject {
  const k = parseCosignKey(text, what);
  const secret = deriveKey(password, k.salt, k.scrypt);
  const plain = nacl.secretbox.open(new Uint8Array(k.ciphertext), new Uint8Array(k.nonce), new Uint8Array(secret));
  if (!plain) {
    throw new SigilError('KEY_PASSWORD_INVALID', `wrong password for ${what}: decryption failed`, {
      hint: 'check SIGIL_PASSWORD / COSIGN_PASSWORD or the password you typed',
    });
  }
  try {
    return createPrivateKey({ key: Buffer.from(plain), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new SigilError('KEY_MALFORMED', `${what} decrypted, but the plaintext is not a PKCS#8 private key`, {
      hint: 'the key was not written by cosign or sigil',
      cause: e,
    });
  }
}

export interface EncryptOptions {
  /** PEM label; defaults to the current `ENCRYPTED SIGSTORE PRIVATE KEY`. */
  label?: (typeof COSIGN_KEY_LABELS)[number];
  /** Defaults to cosign's N=32768, r=8, p=1; tests may lower N to stay fast. */
  scrypt?: ScryptParams;
}

/** Encrypts a private key in cosign's format and returns the PEM text. The empty password is allowed, as in cosign. */
export function encryptCosignKey(privateKey: KeyObject, password: string, options: EncryptOptions = {}): string {
  if (privateKey.type !== 'private') throw new SigilError('KEY_MALFORMED', 'encryptCosignKey needs a private key');
  const scrypt = options.scrypt ?? COSIGN_SCRYPT;
  checkScrypt(scrypt, 'scrypt parameters');
  const salt = randomBytes(32);
  const nonce = randomBytes(nacl.secretbox.nonceLength);
  const secret = deriveKey(password, salt, scrypt);
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const ciphertext = nacl.secretbox(new Uint8Array(pkcs8), new Uint8Array(nonce), new Uint8Array(secret));
  // Field order as cosign's encrypted.go marshals it.
  const json = JSON.stringify({
    kdf: { name: 'scrypt', params: { N: scrypt.N, r: scrypt.r, p: scrypt.p }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  });
  return encodePem(options.label ?? SIGSTORE_KEY_LABEL, Buffer.from(json, 'utf8'));
}
