/**
 * Writing an SBOM: serialize in the requested format and replace the output file atomically
 * (temp file in the same directory + rename), so a failed run never leaves a partial SBOM and
 * nothing is written anywhere but the output file and its temp sibling.
 */
import type { SbomDocument } from '../../formats/sbom-model.js';

export type SbomFormat = 'spdx-json' | 'cyclonedx-json';

export const SBOM_FORMATS: readonly SbomFormat[] = ['spdx-json', 'cyclonedx-json'];

/** Loads only the requested format's writer (the CycloneDX one pulls in the SPDX license list). */
export async function serializeSbom(doc: SbomDocument, format: SbomFormat): Promise<string> {
  return format === 'spdx-json' ? (await import('../../formats/spdx.js')).writeSpdxJson(doc) : (await import('../../formats/cyclonedx.js')).writeCycloneDxJson(doc);
}

/** Replaces `path` atomically (loaded when an output file is given, not for stdout). */
export async function writeSbomFile(path: string, text: string): Promise<void> {
  (await import('../../core/atomic-file.js')).writeFileAtomic(path, text);
}
