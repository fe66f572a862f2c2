/**
 * Service keys on disk. Private keys are stored encrypted in cosign's format
 * (`ENCRYPTED SIGSTORE PRIVATE KEY`, src/crypto/cosign-key.ts) and loaded into a `LocalSigner`,
 * so a service never handles a raw key file and an HSM signer can replace the file later.
 * Writes go to a temporary file that is renamed into place: a crash never leaves half a key.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SigilError } from '../../core/errors.js';
import { writeFileAtomic as writeAtomic } from '../../core/atomic-file.js';
import { decodePemBlocks, encodePem } from '../../core/pem.js';
import { encryptCosignKey, type ScryptParams } from '../../crypto/cosign-key.js';
import { generateKeyPair, importPrivateKey, type KeyAlgorithm } from '../../crypto/keys.js';
import { LocalSigner } from '../../crypto/local-signer.js';

/** Creates the parent directory, then replaces `path` atomically (src/core/atomic-file.ts). */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeAtomic(path, data, { mode });
}

export interface KeyFileOptions {
  password: string;
  algorithm?: KeyAlgorithm;
  /** cosign's defaults (N=32768) unless a test lowers them. */
  scrypt?: ScryptParams;
}

/** Loads the encrypted key at `path`, or generates one there when the file does not exist. */
export function loadOrCreateSigner(path: string, opts: KeyFileOptions): { signer: LocalSigner; created: boolean } {
  if (existsSync(path)) {
    return { signer: loadSigner(path, opts.password), created: false };
  }
  const { privateKey } = generateKeyPair(opts.algorithm ?? 'ecdsa-p256');
  writeFileAtomic(path, encryptCosignKey(privateKey, opts.password, opts.scrypt ? { scrypt: opts.scrypt } : {}), 0o600);
  return { signer: new LocalSigner(privateKey), created: true };
}

export function loadSigner(path: string, password: string | undefined): LocalSigner {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SigilError('INPUT_UNREADABLE', `cannot read key ${path}: ${(e as Error).message}`, { cause: e });
  }
  return new LocalSigner(importPrivateKey(text, password, `key ${path}`));
}

/** Reads a PEM file of one or more certificates, in file order. */
export function readCertificateChain(path: string): Buffer[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SigilError('INPUT_UNREADABLE', `cannot read certificate chain ${path}: ${(e as Error).message}`, { cause: e });
  }
  const certs = decodePemBlocks(text).filter((b) => b.label === 'CERTIFICATE').map((b) => b.der);
  if (certs.length === 0) {
    throw new SigilError('CERTIFICATE_MALFORMED', `${path} holds no PEM CERTIFICATE block`, { hint: 'pass a PEM certificate chain, leaf-most first' });
  }
  return certs;
}

export function writeCertificateChain(path: string, chain: Uint8Array[]): void {
  writeFileAtomic(path, chain.map((c) => encodePem('CERTIFICATE', c)).join(''));
}

/**
 * The password protecting a state directory's keys: SIGIL_STATE_PASSWORD when set, otherwise a
 * random one kept in `<dir>/keys/password` (mode 0600). The second form is for the local
 * development stack only, where the keys and the password sit on the same disk; a deployment
 * sets the variable (or keeps keys in an HSM).
 */
export function stateKeyPassword(dir: string, env: NodeJS.ProcessEnv): string {
  const fromEnv = env.SIGIL_STATE_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const path = `${dir}/keys/password`;
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const pw = randomBytes(24).toString('base64url');
  writeFileAtomic(path, pw + '\n', 0o600);
  chmodSync(path, 0o600);
  return pw;
}
