/**
 * Python packages: installed distributions (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO` and
 * single-file `*.egg-info`, core metadata in email-header form per the Python Packaging User
 * Guide "Core metadata specifications"), pinned `requirements*.txt` lines and `poetry.lock`.
 * Names are normalized as PEP 503 says (lower case, runs of `-_.` → `-`) for purls and lookups.
 */
import type { Cataloger } from './cataloger.js';
import { wholeContent } from './cataloger.js';
import { parseMessage, parsePerson, stanzaGet, stanzaGetAll } from './control-file.js';
import type { CatalogerOutput, FoundEdge, FoundPackage } from '../model.js';
import type { Supplier } from '../../formats/sbom-model.js';
import { licenseFromClassifier, normalizeLicenses } from '../license.js';
import { baseName, parentOf } from '../paths.js';
import { purl } from '../purl.js';
import { parseToml, type TomlTable } from './toml.js';
import { selectPython } from './selectors.js';

interface Dist {
  name: string;
  version: string;
  licenses: string[];
  supplier?: Supplier;
  homepage?: string;
  summary?: string;
  requires: string[];
}

type PyRecord =
  | { kind: 'installed'; dist: Dist }
  | { kind: 'requirements'; pins: { name: string; version?: string }[] }
  | { kind: 'poetry'; packages: { name: string; version: string; deps: string[]; group?: string }[] };

export function normalizePyName(n: string): string {
  return n.toLowerCase().replace(/[-_.]+/g, '-');
}

export function parseCoreMetadata(text: string): Dist | undefined {
  const msg = parseMessage(text);
  const name = stanzaGet(msg, 'Name');
  const version = stanzaGet(msg, 'Version');
  if (!name || !version) return undefined;
  const licenses: string[] = [];
  const expr = stanzaGet(msg, 'License-Expression');
  const lic = stanzaGet(msg, 'License');
  if (expr) licenses.push(expr);
  else {
    const fromClassifiers = stanzaGetAll(msg, 'Classifier').map(licenseFromClassifier).filter((x): x is string => !!x);
    // `License:` is free text, often the whole license; trust it only when it is one short line.
    if (lic && lic !== 'UNKNOWN' && !lic.includes('\n') && lic.length <= 80) licenses.push(lic);
    else licenses.push(...fromClassifiers);
  }
  const author = stanzaGet(msg, 'Author-email') ?? stanzaGet(msg, 'Maintainer-email');
  const authorName = stanzaGet(msg, 'Author') ?? stanzaGet(msg, 'Maintainer');
  const person = author ? parsePerson(author.split(',')[0]!) : authorName && authorName !== 'UNKNOWN' ? { name: authorName } : undefined;
  const home = stanzaGet(msg, 'Home-page') ?? stanzaGetAll(msg, 'Project-URL').map((u) => u.split(',').pop()!.trim()).find((u) => /^https?:/.test(u));
  const summary = stanzaGet(msg, 'Summary');
  return {
    name,
    version,
    licenses,
    ...(person ? { supplier: { kind: 'Person', ...person } } : {}),
    ...(home && home !== 'UNKNOWN' ? { homepage: home } : {}),
    ...(summary && summary !== 'UNKNOWN' ? { summary: summary.slice(0, 300) } : {}),
    // Requires-Dist: "name [extras] (>=1) ; marker" — extras-only requirements are optional.
    requires: stanzaGetAll(msg, 'Requires-Dist')
      .filter((r) => !/;\s*.*\bextra\s*==/.test(r))
      .map((r) => /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(r)?.[1])
      .filter((x): x is string => !!x),
  };
}

/** `name==1.0`, `name[extra]===1.0 ; marker`, `name>=1` (unpinned: no version). */
export function parseRequirements(text: string): { name: string; version?: string }[] {
  const out: { name: string; version?: string }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line || line.startsWith('-') || /^(https?|git\+|file):/.test(line)) continue;
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(?:(===?)\s*([A-Za-z0-9.+!*_-]+))?/.exec(line);
    if (!m) continue;
    const version = m[3] && m[4] && !m[4].includes('*') ? m[4] : undefined;
    out.push({ name: m[1]!, ...(version ? { version } : {}) });
  }
  return out;
}

export function parsePoetryLock(text: string): { name: string; version: string; deps: string[]; group?: string }[] {
  const doc = parseToml(text);
  const pk = Array.isArray(doc.package) ? doc.package : [];
  return pk
    .filter((p): p is TomlTable => !!p && typeof p === 'object' && !Array.isArray(p))
    .filter((p) => typeof p.name === 'string' && typeof p.version === 'string')
    .map((p) => {
      const deps = p.dependencies && typeof p.dependencies === 'object' && !Array.isArray(p.dependencies) ? Object.keys(p.dependencies) : [];
      const group = typeof p.category === 'string' ? p.category : Array.isArray(p.groups) && typeof p.groups[0] === 'string' ? p.groups[0] : undefined;
      return { name: p.name as string, version: p.version as string, deps, ...(group ? { group } : {}) };
    });
}

function pyPurl(name: string, version: string | undefined): string | undefined {
  return purl('pypi', undefined, normalizePyName(name), version);
}

export const pythonCataloger: Cataloger<PyRecord> = {
  name: 'python',
  select: selectPython,
  parse(f, content, ctx) {
    const text = wholeContent(content).toString('utf8');
    const b = baseName(f.path);
    if (b === 'poetry.lock') {
      try {
        return { kind: 'poetry', packages: parsePoetryLock(text) };
      } catch (e) {
        ctx.warn(`${(e as Error).message}; skipped`);
        return undefined;
      }
    }
    if (b.endsWith('.txt')) return { kind: 'requirements', pins: parseRequirements(text) };
    const dist = parseCoreMetadata(text);
    if (!dist) ctx.warn('core metadata without Name or Version; skipped');
    return dist ? { kind: 'installed', dist } : undefined;
  },
  finish(records): CatalogerOutput {
    const packages: FoundPackage[] = [];
    const edges: FoundEdge[] = [];
    // Installed distributions: edges between those in the same site-packages directory.
    const bySite = new Map<string, Map<string, string>>();
    for (const [path, rec] of records) {
      if (rec.kind !== 'installed') continue;
      const infoDir = baseName(path).endsWith('.egg-info') ? path : parentOf(path);
      const site = parentOf(infoDir);
      const d = rec.dist;
      const key = `${infoDir}`;
      const lic = normalizeLicenses(d.licenses);
      packages.push({
        key,
        kind: 'pypi',
        name: d.name,
        version: d.version,
        purl: pyPurl(d.name, d.version),
        ...(lic ? { license: lic } : {}),
        ...(d.supplier ? { supplier: d.supplier } : {}),
        ...(d.homepage ? { homepage: d.homepage } : {}),
        ...(d.summary ? { description: d.summary } : {}),
        locations: [`/${path}`],
      });
      let m = bySite.get(site);
      if (!m) bySite.set(site, (m = new Map()));
      m.set(normalizePyName(d.name), key);
    }
    for (const [path, rec] of records) {
      if (rec.kind !== 'installed') continue;
      const infoDir = baseName(path).endsWith('.egg-info') ? path : parentOf(path);
      const site = bySite.get(parentOf(infoDir))!;
      for (const r of new Set(rec.dist.requires.map(normalizePyName))) {
        const to = site.get(r);
        if (to && to !== infoDir) edges.push({ from: infoDir, to, type: 'DEPENDS_ON' });
      }
    }
    for (const [path, rec] of records) {
      if (rec.kind === 'requirements') {
        for (const pin of rec.pins) {
          packages.push({
            key: `${path}#${normalizePyName(pin.name)}`,
            kind: 'pypi',
            name: pin.name,
            ...(pin.version ? { version: pin.version } : {}),
            purl: pyPurl(pin.name, pin.version),
            locations: [`/${path}`],
          });
        }
      } else if (rec.kind === 'poetry') {
        const names = new Set(rec.packages.map((p) => normalizePyName(p.name)));
        for (const p of rec.packages) {
          const key = `${path}#${normalizePyName(p.name)}`;
          packages.push({
            key,
            kind: 'pypi',
            name: p.name,
            version: p.version,
            purl: pyPurl(p.name, p.version),
            locations: [`/${path}`],
            ...(p.group && p.group !== 'main' ? { properties: { 'sigil:python-group': p.group } } : {}),
          });
          for (const dep of p.deps) {
            const n = normalizePyName(dep);
            if (names.has(n)) edges.push({ from: key, to: `${path}#${n}`, type: 'DEPENDS_ON' });
          }
        }
      }
    }
    return { packages, edges };
  },
};
