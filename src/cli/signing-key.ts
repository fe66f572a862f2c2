/**
 * `--key FILE` for the signing commands (sign-blob, attest-blob, and the OCI sign/attest): read
 * the private key, ask for its password only when it is encrypted, and build the LocalSigner.
 */
import { SigilError } from '../core/errors.js';
import { importPrivateKey, isEncryptedPrivateKey } from '../crypto/keys.js';
import { LocalSigner } from '../crypto/local-signer.js';
import { LogClient } from '../sign/log-client.js';
import type { TlogUploader } from '../sign/tlog-uploader.js';
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

/** The log named by --rekor-url / --tlog-url (cosign's --rekor-url), or none: then no tlog entry is written. */
export function tlogFromFlags(flags: ParsedFlags): TlogUploader | undefined {
  const rekor = stringFlag(flags, 'rekor-url');
  const tlog = stringFlag(flags, 'tlog-url');
  if (rekor && tlog && rekor !== tlog) throw new SigilError('USAGE', '--rekor-url and --tlog-url name different logs', { hint: 'pass one of them' });
  const url = rekor ?? tlog;
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SigilError('USAGE', `--rekor-url ${JSON.stringify(url)} is not a URL`, { hint: 'e.g. --rekor-url http://127.0.0.1:3000' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SigilError('USAGE', `--rekor-url must be http(s), got ${parsed.protocol}`);
  const api = stringFlag(flags, 'tlog-api') ?? 'v2';
  if (api !== 'v1' && api !== 'v2') throw new SigilError('USAGE', `--tlog-api must be v1 or v2, got ${api}`);
  return new LogClient({ url, api });
}
