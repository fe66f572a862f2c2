/**
 * The scan engine: walks each target once into a ViewBuilder, lets every cataloger build packages
 * from the final view, and assembles one format-neutral SbomDocument (one root package per
 * target, CONTAINS from each root to what was found in it, DEPENDS_ON where metadata records it).
 */
import { hash } from 'node:crypto';
import type { ExtractedLicense, SbomDocument, SbomPackage, SbomRelationship } from '../formats/sbom-model.js';
import type { Cataloger, CatalogerRef } from './catalogers/cataloger.js';
import { findOsIdentity, osReleaseCataloger } from './catalogers/os-release.js';
import type { FoundEdge, FoundPackage, OsIdentity, ScanWarning } from './model.js';
import { ViewBuilder } from './view.js';
import { NO_PROGRESS, type ProgressSink, type ScanTarget, type SourceInfo } from './sources/source.js';

export const SIGIL_TOOL = { name: 'sigil', version: '0.1.0' };

export interface CatalogResult {
  target: SourceInfo;
  os?: OsIdentity;
  packages: FoundPackage[];
  edges: FoundEdge[];
  warnings: ScanWarning[];
}

export interface CatalogOptions {
  /** Lazy ones load when a file they select turns up (or all before a streamed source's walk). */
  catalogers: readonly CatalogerRef[];
  progress?: ProgressSink;
}

/** Walks one target and runs every cataloger over its final view. */
export async function catalogTarget(target: ScanTarget, opts: CatalogOptions): Promise<CatalogResult> {
  const catalogers: readonly CatalogerRef[] = opts.catalogers.includes(osReleaseCataloger as Cataloger) ? opts.catalogers : [osReleaseCataloger as Cataloger, ...opts.catalogers];
  const warnings: ScanWarning[] = [];
  const view = new ViewBuilder(catalogers, warnings);
  if (!target.awaitsFileSinks) await view.loadAll();
  await target.walk(view, opts.progress ?? NO_PROGRESS);
  const result = view.result();
  const osIndex = catalogers.indexOf(osReleaseCataloger as Cataloger);
  const os = findOsIdentity(result.records[osIndex]!, result.resolve);
  const ctx = view.finishContext(os);
  const packages: FoundPackage[] = [];
  const edges: FoundEdge[] = [];
  catalogers.forEach((_, i) => {
    const cat = view.catalogerAt(i);
    // A cataloger never loaded selected no file: it has no records and nothing to report.
    if (i === osIndex || !cat) return;
    let out;
    try {
      out = cat.finish(result.records[i]!, ctx);
    } catch (e) {
      warnings.push({ path: '/', message: `${cat.name}: ${(e as Error).message}` });
      return;
    }
    for (const p of out.packages) {
      // Which image layer brought the package (its first location that is a file of the view).
      const loc = p.locations[0]?.split('!/')[0]?.replace(/^\//, '');
      const layer = loc !== undefined ? view.layerOf(loc) : undefined;
      packages.push({ ...p, key: `${cat.name}/${p.key}`, ...(layer ? { properties: { ...p.properties, 'sigil:layer': layer } } : {}) });
    }
    for (const e of out.edges) edges.push({ ...e, from: `${cat.name}/${e.from}`, to: `${cat.name}/${e.to}` });
  });
  return { target: target.info, ...(os ? { os } : {}), packages, edges, warnings };
}

function shortHash(s: string): string {
  return hash('sha256', s, 'hex').slice(0, 10);
}

function makeId(kind: string, name: string, version: string | undefined, identity: string): string {
  const readable = `${kind}-${name}${version ? `-${version}` : ''}`.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/-+/g, '-').slice(0, 80);
  return `${readable}-${shortHash(identity)}`;
}

function mergeInto(target: SbomPackage, p: FoundPackage): void {
  const locs = new Set([...target.locations, ...p.locations]);
  target.locations = [...locs].sort();
  if (!target.license && p.license) target.license = p.license.expression;
  if (!target.supplier && p.supplier) target.supplier = p.supplier;
  if (p.checksums) {
    const have = new Set((target.checksums ?? []).map((c) => `${c.algorithm}:${c.value}`));
    for (const c of p.checksums) if (!have.has(`${c.algorithm}:${c.value}`)) (target.checksums ??= []).push(c);
  }
  if (p.properties) target.properties = { ...p.properties, ...target.properties };
}

export interface DocumentOptions {
  name: string;
  created: Date;
}

/** One document over the results of one or more targets (a release, or every platform of an index). */
export function buildDocument(results: CatalogResult[], opts: DocumentOptions): SbomDocument {
  const packages = new Map<string, SbomPackage>();
  const relationships = new Map<string, SbomRelationship>();
  const extracted = new Map<string, ExtractedLicense>();
  const roots: string[] = [];
  const rel = (from: string, type: SbomRelationship['type'], to: string): void => {
    if (from !== to) relationships.set(`${from} ${type} ${to}`, { from, type, to });
  };
  for (const r of results) {
    const t = r.target;
    const identity = `${t.kind}|${t.name}|${t.version ?? ''}|${(t.checksums ?? []).map((c) => c.value).join(',')}|${t.properties?.['sigil:platform'] ?? ''}`;
    const rootId = makeId(t.kind, t.name, t.version, identity);
    if (!packages.has(rootId)) {
      packages.set(rootId, {
        id: rootId,
        kind: t.kind,
        name: t.name,
        ...(t.version ? { version: t.version } : {}),
        ...(t.purl ? { purl: t.purl } : {}),
        ...(t.checksums?.length ? { checksums: t.checksums } : {}),
        locations: [t.location],
        ...(t.properties ? { properties: t.properties } : {}),
      });
    }
    if (!roots.includes(rootId)) roots.push(rootId);
    const localIds = new Map<string, string>();
    if (r.os) {
      const osId = makeId('os', r.os.id, r.os.versionId, `os|${r.os.id}|${r.os.versionId ?? ''}`);
      const existing = packages.get(osId);
      if (existing) existing.locations = [...new Set([...existing.locations, r.os.location])].sort();
      else {
        packages.set(osId, {
          id: osId,
          kind: 'operating-system',
          name: r.os.id,
          ...(r.os.versionId ? { version: r.os.versionId } : {}),
          ...(r.os.prettyName ? { description: r.os.prettyName } : {}),
          locations: [r.os.location],
          ...(r.os.versionCodename ? { properties: { 'sigil:codename': r.os.versionCodename } } : {}),
        });
      }
      rel(rootId, 'CONTAINS', osId);
    }
    for (const p of r.packages) {
      const identity = p.purl ?? `${p.kind}|${p.name}|${p.version ?? ''}|${p.locations[0] ?? ''}`;
      const id = makeId(p.kind, p.name, p.version, identity);
      localIds.set(p.key, id);
      const existing = packages.get(id);
      if (existing) mergeInto(existing, p);
      else {
        packages.set(id, {
          id,
          kind: p.kind,
          name: p.name,
          ...(p.version !== undefined ? { version: p.version } : {}),
          ...(p.purl ? { purl: p.purl } : {}),
          ...(p.license ? { license: p.license.expression } : {}),
          ...(p.supplier ? { supplier: p.supplier } : {}),
          ...(p.description ? { description: p.description } : {}),
          ...(p.homepage ? { homepage: p.homepage } : {}),
          ...(p.checksums?.length ? { checksums: [...p.checksums] } : {}),
          locations: [...new Set(p.locations)].sort(),
          ...(p.properties && Object.keys(p.properties).length ? { properties: { ...p.properties } } : {}),
        });
      }
      for (const ref of p.license?.refs ?? []) if (!extracted.has(ref.id)) extracted.set(ref.id, ref);
      rel(rootId, 'CONTAINS', id);
    }
    for (const e of r.edges) {
      const from = localIds.get(e.from);
      const to = localIds.get(e.to);
      if (from && to) rel(from, e.type, to);
    }
  }
  return {
    name: opts.name,
    created: opts.created,
    tool: SIGIL_TOOL,
    roots,
    packages: [...packages.values()],
    relationships: [...relationships.values()],
    extractedLicenses: [...extracted.values()],
  };
}
