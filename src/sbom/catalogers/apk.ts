/**
 * Alpine packages from `lib/apk/db/installed` (apk-tools' installed database: one stanza per
 * package of single-letter `X:value` lines; P name, V version, A arch, L license, o origin, m
 * maintainer, U url, T description, C checksum, D depends, p provides).
 */
import type { Cataloger } from './cataloger.js';
import { wholeContent } from './cataloger.js';
import { parsePerson } from './control-file.js';
import type { CatalogerOutput, FoundEdge, FoundPackage } from '../model.js';
import { normalizeLicenses } from '../license.js';
import { distroQualifier, purl } from '../purl.js';
import { selectApk } from './selectors.js';

interface ApkEntry {
  name: string;
  version: string;
  arch?: string;
  license?: string;
  origin?: string;
  maintainer?: string;
  url?: string;
  description?: string;
  checksum?: string;
  depends: string[];
  provides: string[];
}

export function parseApkInstalled(text: string): ApkEntry[] {
  const out: ApkEntry[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const f: Record<string, string> = {};
    const multi: Record<string, string[]> = { D: [], p: [] };
    for (const line of block.split('\n')) {
      const m = /^([A-Za-z]):(.*)$/.exec(line);
      if (!m) continue;
      if (m[1] === 'D' || m[1] === 'p') multi[m[1]]!.push(...m[2]!.split(/\s+/).filter(Boolean));
      else if (!(m[1]! in f)) f[m[1]!] = m[2]!;
    }
    if (!f.P || !f.V) continue;
    out.push({
      name: f.P,
      version: f.V,
      ...(f.A ? { arch: f.A } : {}),
      ...(f.L ? { license: f.L } : {}),
      ...(f.o ? { origin: f.o } : {}),
      ...(f.m ? { maintainer: f.m } : {}),
      ...(f.U ? { url: f.U } : {}),
      ...(f.T ? { description: f.T } : {}),
      ...(f.C ? { checksum: f.C } : {}),
      depends: multi.D!,
      provides: multi.p!,
    });
  }
  return out;
}

/** `so:libc.musl-x86_64.so.1=1` / `cmd:sh` / `name>=1.2` → the name part. */
function depName(d: string): string {
  return d.replace(/^!/, '').split(/[<>=~]/)[0]!;
}

/** Alpine writes several licenses space-separated ("MIT BSD-2-Clause"): all of them apply. */
function apkLicense(l: string): string {
  const words = l.trim().split(/\s+/);
  return words.length > 1 && !words.some((w) => /^(and|or|with)$/i.test(w)) ? words.join(' AND ') : l;
}

export const apkCataloger: Cataloger<ApkEntry[]> = {
  name: 'apk',
  select: selectApk,
  parse: (_f, content) => parseApkInstalled(wholeContent(content).toString('utf8')),
  finish(records, ctx): CatalogerOutput {
    const packages: FoundPackage[] = [];
    const edges: FoundEdge[] = [];
    const distro = distroQualifier(ctx.os);
    const namespace = ctx.os?.id ?? 'alpine';
    for (const [path, entries] of records) {
      const provider = new Map<string, string>();
      for (const e of entries) {
        provider.set(e.name, e.name);
        for (const p of e.provides) if (!provider.has(depName(p))) provider.set(depName(p), e.name);
      }
      for (const e of entries) {
        const lic = e.license ? normalizeLicenses([apkLicense(e.license)]) : undefined;
        const person = e.maintainer ? parsePerson(e.maintainer) : undefined;
        packages.push({
          key: e.name,
          kind: 'apk',
          name: e.name,
          version: e.version,
          purl: purl('apk', namespace, e.name, e.version, { arch: e.arch, distro, upstream: e.origin && e.origin !== e.name ? e.origin : undefined }),
          ...(lic ? { license: lic } : {}),
          ...(person ? { supplier: { kind: 'Person' as const, ...person } } : {}),
          ...(e.url ? { homepage: e.url } : {}),
          ...(e.description ? { description: e.description } : {}),
          locations: [`/${path}`],
          properties: { ...(e.arch ? { 'sigil:arch': e.arch } : {}), ...(e.origin ? { 'sigil:origin': e.origin } : {}), ...(e.checksum ? { 'sigil:apk-checksum': e.checksum } : {}) },
        });
        const seen = new Set<string>();
        for (const d of e.depends) {
          if (d.startsWith('!')) continue; // a conflict, not a dependency
          const to = provider.get(depName(d));
          if (to && to !== e.name && !seen.has(to)) {
            seen.add(to);
            edges.push({ from: e.name, to, type: 'DEPENDS_ON' });
          }
        }
      }
    }
    return { packages, edges };
  },
};
