/**
 * Writing a new key pair to PREFIX.key (encrypted in cosign's format, mode 0600) and PREFIX.pub:
 * shared by `generate-key-pair` and `log keygen` so both refuse to clobber keys the same way.
 */
import { existsSync, rmSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { SigilError } from '../core/errors.js';
import { exportPublicKeyPem, generateKeyPair, type KeyAlgorithm } from '../crypto/keys.js';
import { encryptCosignKey } from '../crypto/cosign-key.js';
import type { Io } from './command.js';
import { resolveIn, writeFileAtomic } from './files.js';
import { readPassword } from './password.js';

export interface WrittenKeyPair {
  keyPath: string;
  pubPath: string;
  publicKey: KeyObject;
}

export async function writeNewKeyPair(
  io: Io,
  { prefix, algorithm, force, passwordPrompt }: { prefix: string; algorithm: KeyAlgorithm; force: boolean; passwordPrompt: string },
): Promise<WrittenKeyPair> {
  const keyPath = resolveIn(io, `${prefix}.key`);
  const pubPath = resolveIn(io, `${prefix}.pub`);
  // Checked before asking for a password so nobody types one for nothing; the write itself is
  // still create-only (writeFileAtomic overwrite: false), so a race cannot clobber a key.
  for (const p of [keyPath, pubPath]) {
    if (!force && existsSync(p)) throw new SigilError('CONFLICT', `${p} already exists; refusing to overwrite it`, { hint: 'pass --force to replace it, or choose another --output-key-prefix' });
  }
  const password = await readPassword(io, { prompt: passwordPrompt, confirm: true });
  const { privateKey, publicKey } = generateKeyPair(algorithm);
  writeFileAtomic(keyPath, encryptCosignKey(privateKey, password), { mode: 0o600, overwrite: force });
  try {
    writeFileAtomic(pubPath, exportPublicKeyPem(publicKey), { mode: 0o644, overwrite: force });
  } catch (e) {
    // Do not leave half a key pair behind.
    rmSync(keyPath, { force: true });
    throw e;
  }
  return { keyPath, pubPath, publicKey };
}
