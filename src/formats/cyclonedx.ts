/**
 * CycloneDX 1.6 JSON writer (https://cyclonedx.org/docs/1.6/json/). Pure and deterministic like
 * the SPDX writer: components sorted by bom-ref, dependencies sorted, serial number derived from a
 * hash of the content. Licence ids are checked with @cyclonedx/cyclonedx-library's SPDX list, which
 * is the enum the 1.6 schema validates `license.id` against; anything else goes out as an
 * `expression` (compound) or a `name` (a LicenseRef that is not on the list).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ExtractedLicense, SbomDocument, SbomPackage } from './sbom-model.js';

// Loaded through require: the ESM entry costs ~3 ms more at start-up, and `sigil sbom` runs once per invocation.
const requireCjs = createRequire(import.meta.url);
let spdxIds: { isSupportedSpdxId(id: string): boolean } | undefined;
const isSupportedSpdxId = (id: string): boolean =>
  (spdxIds ??= requireCjs('@cyclonedx/cyclonedx-library/SPDX') as { isSupportedSpdxId(id: string): boolean }).isSupportedSpdxId(id);

export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json';
export const CYCLONEDX_PREDICATE_TYPE = 'https://cyclonedx.org/bom';

const HASH_NAMES: Record<string, string> = { SHA1: 'SHA-1', SHA256: 'SHA-256', SHA512: 'SHA-512', MD5: 'MD5' };

function componentType(p: SbomPackage): string {
  switch (p.kind) {
    case 'operating-system':
      return 'operating-system';
    case 'container':
      return 'container';
    case 'archive':
    case 'directory':
      return 'file';
    case 'binary':
      return 'application';
    default:
      return 'library';
  }
}

function licenses(expr: string | undefined, extracted: Map<string, ExtractedLicense>): unknown[] | undefined {
  if (!expr) return undefined;
  const single = /^[A-Za-z0-9.+-]+$/.test(expr) ? expr : undefined;
  if (single && isSupportedSpdxId(single)) return [{ license: { id: single } }];
  if (single?.startsWith('LicenseRef-')) {
    const l = extracted.get(single);
    return [{ license: { name: l?.name ?? single } }];
  }
  return [{ expression: expr }];
}

/** A UUID (RFC 9562 version 8, "custom") made of hash bits, so the serial number is reproducible. */
function uuidFromHash(hex: string): string {
  const b = Buffer.from(hex.slice(0, 32), 'hex');
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function component(p: SbomPackage, extracted: Map<string, ExtractedLicense>): Record<string, unknown> {
  const c: Record<string, unknown> = { type: componentType(p), 'bom-ref': p.id };
  if (p.supplier) c.supplier = { name: p.supplier.name, ...(p.supplier.email ? { contact: [{ email: p.supplier.email }] } : {}) };
  c.name = p.name;
  if (p.version !== undefined) c.version = p.version;
  if (p.description) c.description = p.description;
  if (p.checksums?.length) {
    c.hashes = [...p.checksums]
      .sort((a, b) => a.algorithm.localeCompare(b.algorithm))
      .map((h) => ({ alg: HASH_NAMES[h.algorithm], content: h.value }));
  }
  const lic = licenses(p.license, extracted);
  if (lic) c.licenses = lic;
  if (p.purl) c.purl = p.purl;
  if (p.homepage && /^https?:\/\//.test(p.homepage)) c.externalReferences = [{ type: 'website', url: p.homepage }];
  if (p.locations.length) c.evidence = { occurrences: p.locations.map((location) => ({ location })) };
  const props = p.properties ? Object.keys(p.properties).sort() : [];
  if (props.length) c.properties = props.map((name) => ({ name, value: p.properties![name] }));
  return c;
}

export function toCycloneDxJson(doc: SbomDocument): Record<string, unknown> {
  const extracted = new Map(doc.extractedLicenses.map((l) => [l.id, l]));
  const byId = new Map(doc.packages.map((p) => [p.id, p]));
  const sorted = [...doc.packages].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // CycloneDX has one metadata.component; with several roots (a release of many artifacts) the
  // document itself is the root and each artifact is a top-level component.
  const rootId = doc.roots.length === 1 ? doc.roots[0] : undefined;
  const root = rootId ? byId.get(rootId) : undefined;
  const deps = new Map<string, Set<string>>();
  for (const p of doc.packages) deps.set(p.id, new Set());
  // CycloneDX expresses containment only by nesting components, which cannot say that one package
  // sits in two artifacts of a release; the dependency graph can, so CONTAINS edges go there too.
  for (const r of doc.relationships) {
    if (r.type === 'DEPENDS_ON' || r.type === 'CONTAINS') deps.get(r.from)?.add(r.to);
    else if (r.type === 'DEV_DEPENDENCY_OF' || r.type === 'OPTIONAL_DEPENDENCY_OF') deps.get(r.to)?.add(r.from);
  }
  const body: Record<string, unknown> = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: '',
    version: 1,
    metadata: {
      timestamp: doc.created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      tools: { components: [{ type: 'application', name: doc.tool.name, version: doc.tool.version }] },
      ...(root ? { component: component(root, extracted) } : {}),
    },
    components: sorted.filter((p) => p.id !== rootId).map((p) => component(p, extracted)),
    dependencies: [...deps.keys()].sort().map((ref) => {
      const on = [...deps.get(ref)!].filter((d) => byId.has(d)).sort();
      return on.length ? { ref, dependsOn: on } : { ref };
    }),
  };
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  body.serialNumber = `urn:uuid:${uuidFromHash(hash)}`;
  return body;
}

/** Serialized CycloneDX JSON (2-space indented, trailing newline). */
export function writeCycloneDxJson(doc: SbomDocument): string {
  return JSON.stringify(toCycloneDxJson(doc), null, 2) + '\n';
}
