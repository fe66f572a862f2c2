/**
 * Atomic file replacement: temp file in the same directory, fsync, rename (or link for
 * create-only), so an interrupted run never leaves a half-written bundle, key or SBOM, and the
 * temp file never outlives a failure. One home for every writer of outputs in sigil.
 */
import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SigilError } from './errors.js';

export interface WriteOptions {
  /** File mode of the new file (0o600 for private keys). */
  mode?: number;
  /** false: fail with CONFLICT when the file exists (no window where it could be overwritten). */
  overwrite?: boolean;
}

/** Writes `data` to `path` atomically; the temp file never outlives a failure. */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (opts.overwrite === false) {
      // link(2) fails with EEXIST instead of replacing: an atomic "create only if absent".
      linkSync(tmp, path);
      rmSync(tmp, { force: true });
    } else {
      renameSync(tmp, path);
    }
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new SigilError('CONFLICT', `${path} already exists; refusing to overwrite it`, { hint: 'pass --force to replace it, or choose another name', cause: e });
    }
    throw new SigilError('INPUT_UNREADABLE', `cannot write ${path}: ${code ?? (e as Error).message}`, {
      hint: 'check that the output directory exists and is writable',
      cause: e,
    });
  }
}
