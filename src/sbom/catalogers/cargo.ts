/**
 * Rust crates from `Cargo.lock` (v1–v4): every `[[package]]` with its registry checksum (the
 * sha256 of the .crate file) and dependency edges. Dependencies are written `name`, `name version`
 * or `name version (source)`; the version is only present when several versions are locked.
 */
import type { Cataloger } from './cataloger.js';
import { wholeContent } from './cataloger.js';
import type { CatalogerOutput, FoundEdge, FoundPackage } from '../model.js';
import { purl } from '../purl.js';
import { parseToml, type TomlTable } from './toml.js';
import { selectCargo } from './selectors.js';

interface Crate {
  name: string;
  version: string;
  source?: string;
  checksum?: string;
  deps: { name: string; version?: string }[];
}

export function parseCargoLock(text: string): Crate[] {
  const doc = parseToml(text);
  const pk = Array.isArray(doc.package) ? doc.package : [];
  const out: Crate[] = [];
  for (const p of pk) {
    if (!p || typeof p !== 'object' || Array.isArray(p)) continue;
    const t = p as TomlTable;
    if (typeof t.name !== 'string' || typeof t.version !== 'string') continue;
    const deps = (Array.isArray(t.dependencies) ? t.dependencies : [])
      .filter((d): d is string => typeof d === 'string')
      .map((d) => {
        const [name, version] = d.split(' ');
        return { name: name!, ...(version ? { version } : {}) };
      });
    out.push({
      name: t.name,
      version: t.version,
      ...(typeof t.source === 'string' ? { source: t.source } : {}),
      ...(typeof t.checksum === 'string' && /^[0-9a-f]{64}$/.test(t.checksum) ? { checksum: t.checksum } : {}),
      deps,
    });
  }
  // Cargo.lock v1 kept checksums in a [metadata] table: "checksum <name> <version> (<source>)" = "<hex>".
  const meta = doc.metadata;
  if (meta && typeof meta === 'object' && !Array.isArray(meta)) {
    for (const [k, v] of Object.entries(meta)) {
      const m = /^checksum (\S+) (\S+) /.exec(k);
      const c = m && out.find((x) => x.name === m[1] && x.version === m[2]);
      if (c && typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) c.checksum = v;
    }
  }
  return out;
}

export const cargoCataloger: Cataloger<Crate[]> = {
  name: 'cargo',
  select: selectCargo,
  parse(_f, content, ctx) {
    try {
      return parseCargoLock(wholeContent(content).toString('utf8'));
    } catch (e) {
      ctx.warn(`${(e as Error).message}; skipped`);
      return undefined;
    }
  },
  finish(records): CatalogerOutput {
    const packages: FoundPackage[] = [];
    const edges: FoundEdge[] = [];
    for (const [path, crates] of records) {
      const key = (c: { name: string; version: string }) => `${path}#${c.name}@${c.version}`;
      for (const c of crates) {
        packages.push({
          key: key(c),
          kind: 'cargo',
          name: c.name,
          version: c.version,
          purl: purl('cargo', undefined, c.name, c.version),
          ...(c.checksum ? { checksums: [{ algorithm: 'SHA256' as const, value: c.checksum }] } : {}),
          locations: [`/${path}`],
          properties: c.source ? { 'sigil:cargo-source': c.source } : { 'sigil:cargo-workspace-member': 'true' },
        });
      }
      for (const c of crates) {
        for (const d of c.deps) {
          const target = crates.find((x) => x.name === d.name && (!d.version || x.version === d.version));
          if (target) edges.push({ from: key(c), to: key(target), type: 'DEPENDS_ON' });
        }
      }
    }
    return { packages, edges };
  },
};
