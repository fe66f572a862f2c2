/**
 * npm packages from `yarn.lock`: the classic v1 format (its own syntax: descriptor lists as keys,
 * `version "x"`, `dependencies:` blocks of `"name" "range"`) and Yarn Berry's YAML
 * (`"name@npm:range": {version, resolution, dependencies, checksum, linkType}`). Each key lists the
 * descriptors (name@range) that resolve to the entry, which is also how dependency edges are
 * resolved. Workspace and link entries are the project itself, not dependencies.
 */
import type { Cataloger } from './cataloger.js';
import { wholeContent } from './cataloger.js';
import type { CatalogerOutput, FoundEdge, FoundPackage } from '../model.js';
import type { Checksum } from '../../formats/sbom-model.js';
import { purl } from '../purl.js';
import { selectYarn } from './selectors.js';

interface YarnEntry {
  descriptors: string[];
  name: string;
  version: string;
  integrity?: string;
  resolved?: string;
  deps: { name: string; range: string }[];
  workspace: boolean;
}

function unquote(s: string): string {
  const t = s.trim();
  return (t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'")) ? t.slice(1, -1) : t;
}

/** `@scope/name@^1` → `@scope/name`; `name@npm:^1` → `name`. */
function descriptorName(d: string): string {
  const at = d.indexOf('@', 1);
  return at < 0 ? d : d.slice(0, at);
}

export function parseYarnLock(text: string): YarnEntry[] {
  const out: YarnEntry[] = [];
  let cur: YarnEntry | undefined;
  let inDeps = false;
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.trim() || raw.trimStart().startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (indent === 0) {
      cur = undefined;
      inDeps = false;
      if (!line.endsWith(':') || line.startsWith('__metadata')) continue;
      const descriptors = line
        .slice(0, -1)
        .split(/,\s*/)
        .map(unquote)
        .filter(Boolean);
      if (!descriptors.length) continue;
      cur = { descriptors, name: descriptorName(descriptors[0]!), version: '', deps: [], workspace: descriptors.some((d) => /@(workspace|link|portal|file):/.test(d)) };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    if (indent <= 2) {
      inDeps = /^(dependencies|optionalDependencies):$/.test(line);
      const m = /^([A-Za-z]+):?\s+(.*)$/.exec(line);
      if (!m || inDeps) continue;
      const value = unquote(m[2]!);
      if (m[1] === 'version') cur.version = value;
      else if (m[1] === 'integrity') cur.integrity = value;
      else if (m[1] === 'resolved') cur.resolved = value;
      else if (m[1] === 'resolution') {
        if (/@(workspace|link|portal|file):/.test(value)) cur.workspace = true;
      } else if (m[1] === 'linkType' && value === 'soft') cur.workspace = true;
      continue;
    }
    if (inDeps) {
      // v1: `"name" "range"` / `name "range"`; berry: `name: range` / `"name": "npm:range"`.
      const m = /^("[^"]+"|[^\s:"]+):?\s+(.+)$/.exec(line);
      if (m) cur.deps.push({ name: unquote(m[1]!), range: unquote(m[2]!) });
    }
  }
  return out.filter((e) => e.version);
}

function integrity(sri: string | undefined): Checksum[] | undefined {
  const m = sri ? /^(sha512|sha1)-([A-Za-z0-9+/=]+)$/.exec(sri) : null;
  if (!m) return undefined;
  return [{ algorithm: m[1] === 'sha512' ? 'SHA512' : 'SHA1', value: Buffer.from(m[2]!, 'base64').toString('hex') }];
}

function npmPurl(name: string, version: string): string | undefined {
  if (name.startsWith('@')) {
    const i = name.indexOf('/');
    return i > 0 ? purl('npm', name.slice(0, i), name.slice(i + 1), version) : undefined;
  }
  return purl('npm', undefined, name, version);
}

export const yarnCataloger: Cataloger<YarnEntry[]> = {
  name: 'yarn',
  select: selectYarn,
  parse: (_f, content) => parseYarnLock(wholeContent(content).toString('utf8')),
  finish(records): CatalogerOutput {
    const packages: FoundPackage[] = [];
    const edges: FoundEdge[] = [];
    for (const [path, entries] of records) {
      const byDescriptor = new Map<string, YarnEntry>();
      for (const e of entries) for (const d of e.descriptors) byDescriptor.set(d, e);
      const key = (e: YarnEntry) => `${path}#${e.name}@${e.version}`;
      for (const e of entries) {
        if (e.workspace) continue;
        const sums = integrity(e.integrity);
        packages.push({
          key: key(e),
          kind: 'npm',
          name: e.name,
          version: e.version,
          purl: npmPurl(e.name, e.version),
          ...(sums ? { checksums: sums } : {}),
          locations: [`/${path}`],
          ...(e.resolved ? { properties: { 'sigil:npm-resolved': e.resolved } } : {}),
        });
      }
      for (const e of entries) {
        if (e.workspace) continue;
        for (const d of e.deps) {
          const target = byDescriptor.get(`${d.name}@${d.range}`) ?? byDescriptor.get(`${d.name}@npm:${d.range}`);
          if (target && !target.workspace && target !== e) edges.push({ from: key(e), to: key(target), type: 'DEPENDS_ON' });
        }
      }
    }
    return { packages, edges };
  },
};
