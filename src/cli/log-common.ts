/** Flags and checks shared by `sigil log get|proof|monitor`. */
import type { KeyObject } from 'node:crypto';
import { SigilError } from '../core/errors.js';
import { importPublicKey } from '../crypto/keys.js';
import { parseSignedNote, verifySignedNote, noteVerifierKey, type SignedCheckpoint } from '../formats/checkpoint.js';
import type { Flags, Io, ParsedFlags } from './command.js';
import { readInputFile } from './files.js';
import { requireFlag, stringFlag } from './signing-key.js';

export const logReadFlags: Flags = {
  url: { type: 'string', description: 'base URL of the log', value: 'URL' },
  'log-key': { type: 'string', description: "the log's public key (PEM) to check checkpoint signatures with", value: 'FILE' },
  origin: { type: 'string', description: "the log's key name (default: the checkpoint's origin)", value: 'NAME' },
};

export function logUrl(flags: ParsedFlags): string {
  const url = requireFlag(flags, 'url', 'give the log URL, e.g. --url http://127.0.0.1:3000');
  if (!/^https?:\/\//.test(url)) throw new SigilError('USAGE', `--url ${url} is not an http(s) URL`);
  return url;
}

export function logKey(io: Io, flags: ParsedFlags): KeyObject | undefined {
  const path = stringFlag(flags, 'log-key');
  return path === undefined ? undefined : importPublicKey(readInputFile(io, path, 'log public key'), `log public key ${path}`);
}

/**
 * Parses a checkpoint and, when the operator gave the log's key, verifies its signature.
 * Returns whether the signature was checked so output never claims more than was verified.
 */
export function checkedCheckpoint(text: string, key: KeyObject | undefined, origin: string | undefined): { note: SignedCheckpoint; signatureVerified: boolean } {
  const note = parseSignedNote(text);
  if (key) verifySignedNote(note, [noteVerifierKey(origin ?? note.origin, key)]);
  return { note, signatureVerified: key !== undefined };
}
