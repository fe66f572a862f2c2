/**
 * `--key FILE` for the signing commands (sign-blob, attest-blob, and the OCI sign/attest): read
 * the private key, ask for its password only when it is encrypted, and build the LocalSigner.
 */
import { SigilError } from '../core/errors.js';
import { importPrivateKey, isEncryptedPrivateKey } from '../crypto/keys.js';
import { LocalSigner } from '../crypto/local-signer.js';
import type { Io, ParsedFlags } from './command.js';
import { readInputFile } from './files.js';
import { readPassword } from './password.js';

export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function requireFlag(flags: ParsedFlags, name: string, hint: string): string {
  const v = stringFlag(flags, name);
  if (v === undefined || v === '') throw new SigilError('USAGE', `--${name} is required`, { hint });
  return v;
}

export async function loadSigner(io: Io, keyPath: string): Promise<LocalSigner> {
  const text = readInputFile(io, keyPath, 'private key');
  const password = isEncryptedPrivateKey(text) ? await readPassword(io, { prompt: `Enter password for private key ${keyPath}: ` }) : undefined;
  return new LocalSigner(importPrivateKey(text, password, `private key ${keyPath}`));
}
