/**
 * Writing an SBOM: serialize in the requested format and replace the output file atomically
 * (temp file in the same directory + rename), so a failed run never leaves a partial SBOM and
 * nothing is written anywhere but the output file and its temp sibling.
 */
import type { SbomDocument } from '../../formats/sbom-model.js';
import { writeSpdxJson, SPDX_MEDIA_TYPE } from '../../formats/spdx.js';
import { writeCycloneDxJson, CYCLONEDX_MEDIA_TYPE } from '../../formats/cyclonedx.js';

export type SbomFormat = 'spdx-json' | 'cyclonedx-json';

export const SBOM_FORMATS: readonly SbomFormat[] = ['spdx-json', 'cyclonedx-json'];

export function serializeSbom(doc: SbomDocument, format: SbomFormat): string {
  return format === 'spdx-json' ? writeSpdxJson(doc) : writeCycloneDxJson(doc);
}

export function sbomMediaType(format: SbomFormat): string {
  return format === 'spdx-json' ? SPDX_MEDIA_TYPE : CYCLONEDX_MEDIA_TYPE;
}

export { writeFileAtomic } from '../../core/atomic-file.js';
