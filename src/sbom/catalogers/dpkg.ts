/**
 * Debian packages from the dpkg database: `var/lib/dpkg/status` and the distroless form
 * `var/lib/dpkg/status.d/<name>` (one stanza per file, as gcr.io/distroless writes it). Licenses
 * come from `usr/share/doc/<package>/copyright`: the `License:` fields of machine-readable
 * (DEP-5) files, else references to `/usr/share/common-licenses/<name>`. Dependency edges follow
 * Depends and Pre-Depends, taking the first alternative that is installed (or provided).
 */
import type { Cataloger, FinishContext } from './cataloger.js';
import { wholeContent } from './cataloger.js';
import { parsePerson, parseStanzas, stanzaGet, type Stanza } from './control-file.js';
import type { CatalogerOutput, FoundEdge, FoundPackage } from '../model.js';
import type { Supplier } from '../../formats/sbom-model.js';
import { normalizeLicenses } from '../license.js';
import { distroQualifier, purl } from '../purl.js';
import { selectDpkg } from './selectors.js';

interface DpkgEntry {
  name: string;
  version: string;
  arch?: string;
  source?: string;
  sourceVersion?: string;
  maintainer?: string;
  homepage?: string;
  description?: string;
  depends: string[];
  provides: string[];
}

type DpkgRecord = { kind: 'db'; entries: DpkgEntry[] } | { kind: 'copyright'; licenses: string[] };

/** States in which the package's files are on disk (dpkg(1), "Package states"). */
const PRESENT_STATES = new Set(['installed', 'half-installed', 'unpacked', 'half-configured', 'triggers-awaited', 'triggers-pending']);

function relationNames(field: string | undefined): string[] {
  if (!field) return [];
  return field.split(',').map((s) => s.trim()).filter(Boolean);
}

export function parseDpkgDatabase(text: string, requireStatus: boolean): DpkgEntry[] {
  const out: DpkgEntry[] = [];
  for (const s of parseStanzas(text)) {
    const name = stanzaGet(s, 'Package');
    const version = stanzaGet(s, 'Version');
    if (!name || !version) continue;
    const status = stanzaGet(s, 'Status');
    if (status !== undefined || requireStatus) {
      const state = status?.split(/\s+/)[2];
      if (!state || !PRESENT_STATES.has(state)) continue;
    }
    out.push(entryFrom(s, name, version));
  }
  return out;
}

function entryFrom(s: Stanza, name: string, version: string): DpkgEntry {
  const src = stanzaGet(s, 'Source');
  const m = src ? /^(\S+)(?:\s+\(([^)]+)\))?/.exec(src) : undefined;
  const desc = stanzaGet(s, 'Description');
  return {
    name,
    version,
    arch: stanzaGet(s, 'Architecture'),
    source: m?.[1],
    sourceVersion: m?.[2],
    maintainer: stanzaGet(s, 'Maintainer'),
    homepage: stanzaGet(s, 'Homepage'),
    description: desc?.split('\n')[0],
    depends: [...relationNames(stanzaGet(s, 'Pre-Depends')), ...relationNames(stanzaGet(s, 'Depends'))],
    provides: relationNames(stanzaGet(s, 'Provides')).map((p) => p.split(/[\s(]/)[0]!),
  };
}

/** License names recorded in a Debian copyright file. */
export function copyrightLicenses(text: string): string[] {
  const found = new Set<string>();
  // Machine-readable files (DEP-5) name every license in License fields; their references to
  // /usr/share/common-licenses only point at the texts of those same licenses.
  if (/^Format:\s*\S*copyright-format/m.test(text)) {
    for (const s of parseStanzas(text)) {
      const l = stanzaGet(s, 'License');
      const first = l?.split('\n')[0]?.trim();
      if (first) found.add(first);
    }
    if (found.size) return [...found].sort();
  }
  for (const m of text.matchAll(/\/usr\/share\/common-licenses\/([A-Za-z0-9][A-Za-z0-9.+_-]*[A-Za-z0-9+])/g)) found.add(m[1]!);
  return [...found].sort();
}

function supplierOf(maintainer: string | undefined): Supplier | undefined {
  const p = maintainer ? parsePerson(maintainer) : undefined;
  if (!p) return undefined;
  // Teams and lists are organizations; a single maintainer is a person.
  const org = /maintainers|team|project|developers|@lists\./i.test(maintainer!);
  return { kind: org ? 'Organization' : 'Person', name: p.name, ...(p.email ? { email: p.email } : {}) };
}


export const dpkgCataloger: Cataloger<DpkgRecord> = {
  name: 'dpkg',
  select: selectDpkg,
  parse(f, content) {
    const text = wholeContent(content).toString('utf8');
    if (f.path.endsWith('/copyright') && f.path.startsWith('usr/share/doc/')) return { kind: 'copyright', licenses: copyrightLicenses(text) };
    return { kind: 'db', entries: parseDpkgDatabase(text, false) };
  },
  finish(records, ctx: FinishContext): CatalogerOutput {
    const packages: FoundPackage[] = [];
    const byName = new Map<string, FoundPackage>();
    const providers = new Map<string, string>();
    const depends = new Map<string, string[]>();
    const distro = distroQualifier(ctx.os);
    const namespace = ctx.os && (ctx.os.id === 'debian' || ctx.os.id === 'ubuntu' || !ctx.os.idLike.includes('debian')) ? ctx.os.id : 'debian';
    for (const [path, rec] of records) {
      if (rec.kind !== 'db') continue;
      for (const e of rec.entries) {
        const key = `${e.name}:${e.arch ?? ''}`;
        if (byName.has(key)) continue;
        const copyright = ctx.resolve(`usr/share/doc/${e.name}/copyright`);
        const cr = copyright !== undefined ? records.get(copyright) : undefined;
        const license = cr?.kind === 'copyright' ? normalizeLicenses(cr.licenses) : undefined;
        const upstream = e.source && e.source !== e.name ? (e.sourceVersion ? `${e.source}@${e.sourceVersion}` : e.source) : undefined;
        const supplier = supplierOf(e.maintainer);
        const p: FoundPackage = {
          key,
          kind: 'deb',
          name: e.name,
          version: e.version,
          purl: purl('deb', namespace, e.name, e.version, { arch: e.arch, distro, upstream }),
          ...(license ? { license } : {}),
          ...(supplier ? { supplier } : {}),
          ...(e.description ? { description: e.description } : {}),
          ...(e.homepage ? { homepage: e.homepage } : {}),
          locations: [`/${path}`, ...(cr?.kind === 'copyright' ? [`/${copyright}`] : [])],
          properties: {
            ...(e.arch ? { 'sigil:arch': e.arch } : {}),
            ...(e.source ? { 'sigil:source-package': e.sourceVersion ? `${e.source} (${e.sourceVersion})` : e.source } : {}),
          },
        };
        byName.set(key, p);
        if (!byName.has(e.name)) byName.set(e.name, p);
        for (const pr of e.provides) if (!providers.has(pr)) providers.set(pr, key);
        depends.set(key, e.depends);
        packages.push(p);
      }
    }
    const edges: FoundEdge[] = [];
    for (const [key, deps] of depends) {
      const seen = new Set<string>();
      for (const group of deps) {
        for (const alt of group.split('|')) {
          const dep = alt.trim().split(/[\s(]/)[0]!.replace(/:(any|native|[a-z0-9]+)$/, '');
          const target = byName.get(dep)?.key ?? providers.get(dep);
          if (target && target !== key) {
            if (!seen.has(target)) edges.push({ from: key, to: target, type: 'DEPENDS_ON' });
            seen.add(target);
            break;
          }
        }
      }
    }
    return { packages, edges };
  },
};
