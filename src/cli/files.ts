/**
 * File I/O for the producer commands: inputs read with a named cause, outputs replaced
 * atomically (temp file in the same directory, fsync, rename) so an interrupted run never leaves
 * a half-written bundle or key, and keys created without ever clobbering an existing file.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { SigilError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import type { Io } from './command.js';

export function resolveIn(io: Io, p: string): string {
  return isAbsolute(p) ? p : resolve(io.cwd, p);
}

export function readInputFile(io: Io, p: string, what: string): Buffer {
  try {
    return readFileSync(resolveIn(io, p));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (code ?? (e as Error).message);
    throw new SigilError('INPUT_UNREADABLE', `cannot read ${what} ${p}: ${why}`, { hint: `check the path given for the ${what}`, cause: e });
  }
}

export { writeFileAtomic, type WriteOptions } from '../core/atomic-file.js';

/**
 * Writes a bundle where --bundle says: `-` is stdout (returns undefined), anything else a file
 * replaced atomically (returns its absolute path).
 */
export function writeBundleOutput(io: Io, out: string, json: unknown): string | undefined {
  const text = JSON.stringify(json) + '\n';
  if (out === '-') {
    io.stdout.write(text);
    return undefined;
  }
  const outPath = resolveIn(io, out);
  writeFileAtomic(outPath, text);
  return outPath;
}
