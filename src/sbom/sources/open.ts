/**
 * Turns the SOURCE argument of `sigil sbom` into scan targets. Explicit schemes pick the kind
 * (`dir:`, `file:`, `oci-dir:`, `docker-archive:`, `registry:`, `release:`); without one the kind
 * is detected from what is on disk.
 */
import { lstatSync } from 'node:fs';
import { SigilError } from '../../core/errors.js';
import { directoryTarget } from './directory.js';
import type { ScanTarget } from './source.js';

export interface OpenOptions {
  /** `os/arch[/variant]`, or 'all' for every platform of a multi-arch index. */
  platform: string;
}

export async function openSource(arg: string, _opts: OpenOptions): Promise<ScanTarget[]> {
  const m = /^(dir|file|oci-dir|docker-archive|registry|release):(.*)$/.exec(arg);
  const scheme = m?.[1];
  const rest = m ? m[2]! : arg;
  if (scheme === 'dir') return [directoryTarget(rest)];
  let st;
  try {
    st = lstatSync(rest);
  } catch (e) {
    throw new SigilError('INPUT_UNREADABLE', `cannot read ${rest}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'give a directory, an archive, an OCI layout or an image reference',
    });
  }
  if (st.isDirectory()) return [directoryTarget(rest)];
  throw new SigilError('INPUT_UNREADABLE', `${rest} is not a directory, archive or image`, {
    hint: 'give a directory, an archive, an OCI layout or an image reference',
  });
}
