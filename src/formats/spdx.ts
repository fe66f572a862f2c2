/**
 * SPDX 2.3 JSON writer (https://spdx.github.io/spdx-spec/v2.3/). Pure: the same SbomDocument gives
 * byte-identical output. Packages are sorted by id and relationships by (from, type, to); the
 * document namespace is derived from a hash of the content, so two runs on the same input agree
 * while different inputs never share a namespace (spec §6.5 asks for a unique URI per document).
 */
import { createHash } from 'node:crypto';
import type { Checksum, SbomDocument, SbomPackage, Supplier } from './sbom-model.js';

export const SPDX_MEDIA_TYPE = 'application/spdx+json';
export const SPDX_PREDICATE_TYPE = 'https://spdx.dev/Document';

/** SPDX ids allow only letters, digits, `.` and `-` (spec §7.2). */
export function spdxId(id: string): string {
  return id === 'DOCUMENT' ? 'SPDXRef-DOCUMENT' : `SPDXRef-${id.replace(/[^A-Za-z0-9.-]/g, '-')}`;
}

function supplierText(s: Supplier | undefined): string {
  if (!s) return 'NOASSERTION';
  // The agent syntax is `Person: name (email)`; parentheses inside the name would break parsers.
  const name = s.name.replace(/[()]/g, '').trim();
  return `${s.kind}: ${name}${s.email ? ` (${s.email})` : ''}`;
}

function purposeOf(p: SbomPackage): string {
  switch (p.kind) {
    case 'operating-system':
      return 'OPERATING_SYSTEM';
    case 'container':
      return 'CONTAINER';
    case 'archive':
      return 'ARCHIVE';
    case 'binary':
      return 'APPLICATION';
    case 'directory':
      return 'SOURCE';
    default:
      return 'LIBRARY';
  }
}

function checksums(list: Checksum[] | undefined): { algorithm: string; checksumValue: string }[] | undefined {
  if (!list || list.length === 0) return undefined;
  return [...list]
    .sort((a, b) => a.algorithm.localeCompare(b.algorithm))
    .map((c) => ({ algorithm: c.algorithm, checksumValue: c.value }));
}

function packageJson(p: SbomPackage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: p.name,
    SPDXID: spdxId(p.id),
  };
  if (p.version !== undefined) out.versionInfo = p.version;
  out.supplier = supplierText(p.supplier);
  out.downloadLocation = 'NOASSERTION';
  out.filesAnalyzed = false;
  const sums = checksums(p.checksums);
  if (sums) out.checksums = sums;
  if (p.homepage && /^https?:\/\//.test(p.homepage)) out.homepage = p.homepage;
  if (p.locations.length) out.sourceInfo = `found at: ${p.locations.join(', ')}`;
  out.licenseConcluded = 'NOASSERTION';
  out.licenseDeclared = p.license ?? 'NOASSERTION';
  out.copyrightText = 'NOASSERTION';
  if (p.description) out.summary = p.description;
  const props = p.properties ? Object.keys(p.properties).sort() : [];
  if (props.length) out.comment = props.map((k) => `${k}=${p.properties![k]}`).join('; ');
  if (p.purl) out.externalRefs = [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }];
  out.primaryPackagePurpose = purposeOf(p);
  return out;
}

export function toSpdxJson(doc: SbomDocument): Record<string, unknown> {
  const packages = [...doc.packages].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rels = doc.roots.map((r) => ({ from: 'DOCUMENT', type: 'DESCRIBES', to: r })).concat(doc.relationships);
  const relationships = rels
    .map((r) => ({ spdxElementId: spdxId(r.from), relationshipType: r.type, relatedSpdxElement: spdxId(r.to) }))
    .sort((a, b) =>
      a.spdxElementId !== b.spdxElementId
        ? a.spdxElementId < b.spdxElementId ? -1 : 1
        : a.relationshipType !== b.relationshipType
          ? a.relationshipType < b.relationshipType ? -1 : 1
          : a.relatedSpdxElement < b.relatedSpdxElement ? -1 : a.relatedSpdxElement > b.relatedSpdxElement ? 1 : 0,
    );
  const body: Record<string, unknown> = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: doc.name,
    documentNamespace: '',
    creationInfo: {
      created: doc.created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      creators: [`Tool: ${doc.tool.name}-${doc.tool.version}`],
    },
    packages: packages.map(packageJson),
    relationships,
  };
  if (doc.extractedLicenses.length) {
    body.hasExtractedLicensingInfos = [...doc.extractedLicenses]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((l) => ({ licenseId: l.id, name: l.name, extractedText: l.text }));
  }
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  const safeName = doc.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'sbom';
  body.documentNamespace = `https://sigil.dev/spdx/${safeName}-${hash.slice(0, 32)}`;
  return body;
}

/** Serialized SPDX JSON (2-space indented, trailing newline). */
export function writeSpdxJson(doc: SbomDocument): string {
  return JSON.stringify(toSpdxJson(doc), null, 2) + '\n';
}
