/**
 * RPM packages from the SQLite rpm database (`rpmdb.sqlite`, rpm ≥ 4.16: table `Packages(hnum,
 * blob)` of header blobs), at `var/lib/rpm/` or `usr/lib/sysimage/rpm/`. The database is opened
 * from memory (better-sqlite3 deserializes the buffer), so nothing is written next to it; a
 * database in WAL mode is switched to rollback mode in the copy first, because a deserialized
 * database has no -wal/-shm files to use.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import type { Cataloger } from './cataloger.js';
import { wholeContent } from './cataloger.js';
import type { CatalogerOutput, FoundEdge, FoundPackage } from '../model.js';
import { normalizeLicenses } from '../license.js';
import { distroQualifier, purl } from '../purl.js';
import { headerInt, headerString, headerStrings, parseRpmHeader, RPMTAG } from './rpm-header.js';
import { selectRpm } from './selectors.js';

interface RpmEntry {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch?: string;
  license?: string;
  vendor?: string;
  url?: string;
  summary?: string;
  sourceRpm?: string;
  requires: string[];
  provides: string[];
}


/** The native SQLite module is loaded only when an rpm database is found (most scans never need it). */
function openDatabase(bytes: Buffer): BetterSqlite3.Database {
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  return new Database(bytes, { readonly: true });
}

export function readRpmDb(file: Buffer, warn: (m: string) => void): RpmEntry[] {
  if (file.length < 100 || file.toString('latin1', 0, 16) !== 'SQLite format 3\0') throw new Error('not an SQLite database');
  const copy = Buffer.from(file);
  if (copy[18] === 2 || copy[19] === 2) {
    copy[18] = 1;
    copy[19] = 1;
  }
  const db = openDatabase(copy);
  try {
    const rows = db.prepare('SELECT hnum, blob FROM Packages').all() as { hnum: number; blob: Buffer }[];
    const out: RpmEntry[] = [];
    for (const r of rows) {
      let h;
      try {
        h = parseRpmHeader(r.blob);
      } catch (e) {
        warn(`package header ${r.hnum}: ${(e as Error).message}`);
        continue;
      }
      const name = headerString(h, RPMTAG.NAME);
      const version = headerString(h, RPMTAG.VERSION);
      const release = headerString(h, RPMTAG.RELEASE);
      // gpg-pubkey "packages" are imported keys, not software.
      if (!name || !version || !release || name === 'gpg-pubkey') continue;
      const epoch = headerInt(h, RPMTAG.EPOCH);
      out.push({
        name,
        version,
        release,
        ...(epoch !== undefined ? { epoch } : {}),
        ...(headerString(h, RPMTAG.ARCH) ? { arch: headerString(h, RPMTAG.ARCH) } : {}),
        ...(headerString(h, RPMTAG.LICENSE) ? { license: headerString(h, RPMTAG.LICENSE) } : {}),
        ...(headerString(h, RPMTAG.VENDOR) ? { vendor: headerString(h, RPMTAG.VENDOR) } : {}),
        ...(headerString(h, RPMTAG.URL) ? { url: headerString(h, RPMTAG.URL) } : {}),
        ...(headerString(h, RPMTAG.SUMMARY) ? { summary: headerString(h, RPMTAG.SUMMARY) } : {}),
        ...(headerString(h, RPMTAG.SOURCERPM) ? { sourceRpm: headerString(h, RPMTAG.SOURCERPM) } : {}),
        requires: headerStrings(h, RPMTAG.REQUIRENAME),
        provides: headerStrings(h, RPMTAG.PROVIDENAME),
      });
    }
    return out;
  } finally {
    db.close();
  }
}

type RpmRecord = RpmEntry[] | { wal: number };

export const rpmCataloger: Cataloger<RpmRecord> = {
  name: 'rpm',
  select: selectRpm,
  // Only the log's size matters; streamed sources need none of its bytes.
  stream: (f) => ({ write: () => false, end: () => ({ wal: f.size }) }),
  parse(f, content, ctx) {
    if (f.path.endsWith('-wal')) return { wal: f.size };
    try {
      return readRpmDb(wholeContent(content), (m) => ctx.warn(m));
    } catch (e) {
      ctx.warn(`cannot read the rpm database: ${(e as Error).message}`);
      return undefined;
    }
  },
  finish(records, ctx): CatalogerOutput {
    const packages: FoundPackage[] = [];
    const edges: FoundEdge[] = [];
    const distro = distroQualifier(ctx.os);
    for (const [path, entries] of records) {
      if (!Array.isArray(entries)) continue;
      if (records.has(`${path}-wal`)) ctx.warn(`/${path}-wal`, 'the rpm database has an unmerged write-ahead log; packages recorded only there are missing');
      const provider = new Map<string, string>();
      const key = (e: RpmEntry) => `${e.name}-${e.epoch ?? 0}:${e.version}-${e.release}.${e.arch ?? ''}`;
      for (const e of entries) {
        provider.set(e.name, key(e));
        for (const p of e.provides) if (!provider.has(p)) provider.set(p, key(e));
      }
      for (const e of entries) {
        const lic = e.license ? normalizeLicenses([e.license]) : undefined;
        const version = `${e.version}-${e.release}`;
        const namespace = ctx.os?.id ?? e.vendor?.split(/\s+/)[0]?.toLowerCase();
        packages.push({
          key: key(e),
          kind: 'rpm',
          name: e.name,
          version: e.epoch ? `${e.epoch}:${version}` : version,
          purl: purl('rpm', namespace, e.name, version, {
            arch: e.arch,
            epoch: e.epoch ? String(e.epoch) : undefined,
            distro,
            upstream: e.sourceRpm,
          }),
          ...(lic ? { license: lic } : {}),
          ...(e.vendor ? { supplier: { kind: 'Organization' as const, name: e.vendor } } : {}),
          ...(e.url ? { homepage: e.url } : {}),
          ...(e.summary ? { description: e.summary } : {}),
          locations: [`/${path}`],
          properties: { ...(e.arch ? { 'sigil:arch': e.arch } : {}), ...(e.sourceRpm ? { 'sigil:source-rpm': e.sourceRpm } : {}) },
        });
        const seen = new Set<string>();
        for (const r of e.requires) {
          if (r.startsWith('rpmlib(')) continue;
          const to = provider.get(r);
          if (to && to !== key(e) && !seen.has(to)) {
            seen.add(to);
            edges.push({ from: key(e), to, type: 'DEPENDS_ON' });
          }
        }
      }
    }
    return { packages, edges };
  },
};
