/**
 * npm packages from `pnpm-lock.yaml`, lockfile versions 5.x (`/name/1.0.0` keys), 6.x
 * (`/name@1.0.0(peer@2)`) and 9.x (`name@1.0.0` under `packages:`, dependencies under
 * `snapshots:`). Only the YAML shapes pnpm writes are read: block mappings by indentation, with
 * `resolution: {integrity: …}` flow maps. Peer-dependency suffixes are stripped from versions.
 */
import type { Cataloger } from './cataloger.js';
import { wholeContent } from './cataloger.js';
import type { CatalogerOutput, FoundEdge, FoundPackage } from '../model.js';
import type { Checksum } from '../../formats/sbom-model.js';
import { purl } from '../purl.js';
import { selectPnpm } from './selectors.js';

interface PnpmEntry {
  name: string;
  version: string;
  integrity?: string;
  dev: boolean;
  deps: { name: string; version: string }[];
}

function unquote(s: string): string {
  const t = s.trim();
  return (t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'")) ? t.slice(1, -1) : t;
}

/** A package key of any lockfile version → name and version. */
export function parsePnpmKey(key: string): { name: string; version: string } | undefined {
  let k = key.replace(/^\//, '');
  k = k.replace(/\(.*$/, ''); // v6/v9 peer suffix
  // v6+/v9: name@version
  const at = k.lastIndexOf('@');
  if (at > 0) {
    const version = k.slice(at + 1).replace(/_.*$/, '');
    if (/^\d/.test(version)) return { name: k.slice(0, at), version };
  }
  // v5: name/version[_peer] or @scope/name/version
  const slash = k.lastIndexOf('/');
  if (slash > 0) {
    const version = k.slice(slash + 1).replace(/_.*$/, '');
    if (/^\d/.test(version)) return { name: k.slice(0, slash), version };
  }
  return undefined;
}

/** A dependency value (`1.2.3`, `1.2.3(peer@1)`, `/other/1.0.0`, `link:../x`) → version. */
function depVersion(name: string, v: string): { name: string; version: string } | undefined {
  const t = unquote(v);
  if (/^(link|file|workspace):/.test(t)) return undefined;
  if (t.startsWith('/') || (t.includes('@') && !/^\d/.test(t))) return parsePnpmKey(t);
  const version = t.replace(/\(.*$/, '').replace(/_.*$/, '');
  return /^\d/.test(version) ? { name, version } : undefined;
}

export function parsePnpmLock(text: string): PnpmEntry[] {
  const entries = new Map<string, PnpmEntry>();
  let section = '';
  let cur: PnpmEntry | undefined;
  let inDeps = false;
  const get = (key: string): PnpmEntry | undefined => {
    const nv = parsePnpmKey(key);
    if (!nv) return undefined;
    const id = `${nv.name}@${nv.version}`;
    let e = entries.get(id);
    if (!e) entries.set(id, (e = { ...nv, dev: false, deps: [] }));
    return e;
  };
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.trim() || raw.trimStart().startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (indent === 0) {
      section = line.replace(/:.*$/, '');
      cur = undefined;
      continue;
    }
    if (section !== 'packages' && section !== 'snapshots') continue;
    if (indent === 2) {
      inDeps = false;
      cur = line.endsWith(':') ? get(unquote(line.slice(0, -1))) : undefined;
      continue;
    }
    if (!cur) continue;
    if (indent === 4) {
      inDeps = /^(dependencies|optionalDependencies):$/.test(line);
      const integ = /^resolution:\s*\{.*integrity:\s*([^,}\s]+)/.exec(line);
      if (integ) cur.integrity = unquote(integ[1]!);
      if (/^dev:\s*true$/.test(line)) cur.dev = true;
      continue;
    }
    if (indent === 6 && inDeps) {
      const m = /^("[^"]+"|'[^']+'|[^:\s]+):\s*(.+)$/.exec(line);
      const dv = m ? depVersion(unquote(m[1]!), m[2]!) : undefined;
      if (dv && !cur.deps.some((d) => d.name === dv.name && d.version === dv.version)) cur.deps.push(dv);
    }
  }
  return [...entries.values()];
}

function integrity(sri: string | undefined): Checksum[] | undefined {
  const m = sri ? /^(sha512|sha1)-([A-Za-z0-9+/=]+)$/.exec(sri) : null;
  if (!m) return undefined;
  return [{ algorithm: m[1] === 'sha512' ? 'SHA512' : 'SHA1', value: Buffer.from(m[2]!, 'base64').toString('hex') }];
}

export const pnpmCataloger: Cataloger<PnpmEntry[]> = {
  name: 'pnpm',
  select: selectPnpm,
  parse: (_f, content) => parsePnpmLock(wholeContent(content).toString('utf8')),
  finish(records): CatalogerOutput {
    const packages: FoundPackage[] = [];
    const edges: FoundEdge[] = [];
    for (const [path, entries] of records) {
      const ids = new Set(entries.map((e) => `${e.name}@${e.version}`));
      for (const e of entries) {
        const key = `${path}#${e.name}@${e.version}`;
        const sums = integrity(e.integrity);
        const scope = e.name.startsWith('@') ? e.name.slice(0, e.name.indexOf('/')) : undefined;
        packages.push({
          key,
          kind: 'npm',
          name: e.name,
          version: e.version,
          purl: purl('npm', scope, scope ? e.name.slice(scope.length + 1) : e.name, e.version),
          ...(sums ? { checksums: sums } : {}),
          locations: [`/${path}`],
          ...(e.dev ? { properties: { 'sigil:npm-dev': 'true' } } : {}),
        });
        for (const d of e.deps) {
          if (ids.has(`${d.name}@${d.version}`)) edges.push({ from: key, to: `${path}#${d.name}@${d.version}`, type: 'DEPENDS_ON' });
        }
      }
    }
    return { packages, edges };
  },
};
