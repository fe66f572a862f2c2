/**
 * Writing an SBOM: serialize in the requested format and replace the output file atomically
 * (temp file in the same directory + rename), so a failed run never leaves a partial SBOM and
 * nothing is written anywhere but the output file and its temp sibling.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SbomDocument } from '../../formats/sbom-model.js';
import { writeSpdxJson, SPDX_MEDIA_TYPE } from '../../formats/spdx.js';
import { writeCycloneDxJson, CYCLONEDX_MEDIA_TYPE } from '../../formats/cyclonedx.js';
import { SigilError } from '../../core/errors.js';

export type SbomFormat = 'spdx-json' | 'cyclonedx-json';

export const SBOM_FORMATS: readonly SbomFormat[] = ['spdx-json', 'cyclonedx-json'];

export function serializeSbom(doc: SbomDocument, format: SbomFormat): string {
  return format === 'spdx-json' ? writeSpdxJson(doc) : writeCycloneDxJson(doc);
}

export function sbomMediaType(format: SbomFormat): string {
  return format === 'spdx-json' ? SPDX_MEDIA_TYPE : CYCLONEDX_MEDIA_TYPE;
}

export function writeFileAtomic(path: string, data: string | Buffer): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new SigilError('INPUT_UNREADABLE', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'check that the output directory exists and is writable',
      cause: e,
    });
  }
}
