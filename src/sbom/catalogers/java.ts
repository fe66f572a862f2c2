/**
 * Java archives (jar, war, ear and the plugin variants): Maven coordinates from
 * `META-INF/maven/<group>/<artifact>/pom.properties`, else the JAR manifest (`META-INF/MANIFEST.MF`,
 * JAR File Specification "Main attributes"), recursing into nested archives (WEB-INF/lib,
 * BOOT-INF/lib, ear modules) up to a fixed depth. An archive holding several pom.properties
 * (a shaded jar) yields one package per embedded artifact, depending from the archive's own.
 */
import { createHash } from 'node:crypto';
import type { Cataloger, RandomAccess } from './cataloger.js';
import { asRandomAccess, bufferAccess } from './cataloger.js';
import type { CatalogerOutput, FoundEdge, FoundPackage } from '../model.js';
import type { Checksum } from '../../formats/sbom-model.js';
import { normalizeLicenses } from '../license.js';
import { baseName } from '../paths.js';
import { purl } from '../purl.js';
import { readCentralDirectory, readEntry, ZipError } from './zip.js';
import { JAVA_ARCHIVE_EXT, selectJava } from './selectors.js';

const MAX_NESTED = 64 << 20;
const MAX_META = 1 << 20;
const MAX_DEPTH = 3;

export interface JavaPackage {
  name: string;
  groupId?: string;
  version?: string;
  license?: string;
  vendor?: string;
  /** `outer.jar` or `outer.war!/WEB-INF/lib/inner.jar` */
  location: string;
  checksums?: Checksum[];
  /** Index of the package this one is embedded in (-1: top level). */
  parent: number;
}

/** MANIFEST.MF main section: `Name: value`, continuation lines start with one space. */
export function parseJarManifest(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (raw === '') break; // end of the main section
    if (raw.startsWith(' ') && last) {
      out[last] += raw.slice(1);
      continue;
    }
    const i = raw.indexOf(':');
    if (i <= 0) continue;
    last = raw.slice(0, i).trim();
    out[last] = raw.slice(i + 1).trim();
  }
  return out;
}

function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(t);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** `commons-lang3-3.12.0.jar` → name and version guessed from the file name. */
function nameFromFile(file: string): { name: string; version?: string } {
  const base = baseName(file).replace(JAVA_ARCHIVE_EXT, '');
  const m = /^(.+?)-(\d[\w.+-]*)$/.exec(base);
  return m ? { name: m[1]!, version: m[2]! } : { name: base };
}

function hashes(ra: RandomAccess): Checksum[] {
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  for (let pos = 0; pos < ra.size; pos += 1 << 20) {
    const b = ra.read(pos, Math.min(1 << 20, ra.size - pos));
    sha1.update(b);
    sha256.update(b);
  }
  return [
    { algorithm: 'SHA1', value: sha1.digest('hex') },
    { algorithm: 'SHA256', value: sha256.digest('hex') },
  ];
}

/** Packages of one archive and (recursively) its nested archives. */
export function javaPackages(ra: RandomAccess, location: string, warn: (m: string) => void, depth = 0, parent = -1, out: JavaPackage[] = []): JavaPackage[] {
  let entries;
  try {
    entries = readCentralDirectory(ra);
  } catch (e) {
    warn(`${location}: not a readable zip (${(e as Error).message})`);
    return out;
  }
  const get = (name: string, max: number): Buffer | undefined => {
    const e = entries.find((x) => x.name === name);
    if (!e) return undefined;
    try {
      return readEntry(ra, e, max);
    } catch (err) {
      warn(`${location}: ${(err as ZipError).message}`);
      return undefined;
    }
  };
  const manifestBytes = get('META-INF/MANIFEST.MF', MAX_META);
  const mf = manifestBytes ? parseJarManifest(manifestBytes.toString('utf8')) : {};
  const poms = entries
    .filter((e) => /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(e.name))
    .map((e) => {
      const b = get(e.name, MAX_META);
      return b ? parseProperties(b.toString('utf8')) : undefined;
    })
    .filter((p): p is Record<string, string> => !!p && !!p.artifactId && !!p.groupId);
  const fromFile = nameFromFile(location.split('!/').pop()!);
  // The archive's own artifact: the pom.properties whose artifactId the file name starts with,
  // else the only one, else the manifest.
  const own = poms.find((p) => fromFile.name === p.artifactId || fromFile.name.startsWith(`${p.artifactId}`)) ?? (poms.length === 1 ? poms[0] : undefined);
  const license = mf['Bundle-License'];
  const checksums = hashes(ra);
  const self = out.length;
  if (own) {
    out.push({ name: own.artifactId!, groupId: own.groupId!, ...(own.version ? { version: own.version } : {}), ...(license ? { license } : {}), location, checksums, parent });
  } else {
    const name = mf['Implementation-Title'] || mf['Bundle-SymbolicName']?.split(';')[0] || mf['Automatic-Module-Name'] || fromFile.name;
    const version = mf['Implementation-Version'] || mf['Bundle-Version'] || fromFile.version;
    const vendor = mf['Implementation-Vendor-Id'] || undefined;
    out.push({ name, ...(vendor ? { groupId: vendor } : {}), ...(version ? { version } : {}), ...(license ? { license } : {}), ...(mf['Implementation-Vendor'] ? { vendor: mf['Implementation-Vendor'] } : {}), location, checksums, parent });
  }
  for (const p of poms) {
    if (p === own) continue;
    out.push({ name: p.artifactId!, groupId: p.groupId!, ...(p.version ? { version: p.version } : {}), location, parent: self });
  }
  if (depth < MAX_DEPTH) {
    for (const e of entries) {
      if (!JAVA_ARCHIVE_EXT.test(e.name) || e.name.endsWith('/')) continue;
      let inner: Buffer;
      try {
        inner = readEntry(ra, e, MAX_NESTED);
      } catch (err) {
        warn(`${location}: ${(err as Error).message}`);
        continue;
      }
      javaPackages(bufferAccess(inner), `${location}!/${e.name}`, warn, depth + 1, self, out);
    }
  }
  return out;
}

export const javaCataloger: Cataloger<JavaPackage[]> = {
  name: 'java',
  select: selectJava,
  parse: (f, content, ctx) => javaPackages(asRandomAccess(content), `/${f.path}`, (m) => ctx.warn(m)),
  finish(records): CatalogerOutput {
    const packages: FoundPackage[] = [];
    const edges: FoundEdge[] = [];
    for (const [path, list] of records) {
      list.forEach((j, i) => {
        const lic = j.license ? normalizeLicenses([j.license]) : undefined;
        packages.push({
          key: `${path}#${i}`,
          kind: 'maven',
          name: j.name,
          ...(j.version ? { version: j.version } : {}),
          ...(j.groupId ? { purl: purl('maven', j.groupId, j.name, j.version) } : {}),
          ...(lic ? { license: lic } : {}),
          ...(j.vendor ? { supplier: { kind: 'Organization' as const, name: j.vendor } } : {}),
          ...(j.checksums ? { checksums: j.checksums } : {}),
          locations: [j.location],
          ...(j.groupId ? { properties: { 'sigil:maven-group': j.groupId } } : {}),
        });
        if (j.parent >= 0) edges.push({ from: `${path}#${j.parent}`, to: `${path}#${i}`, type: 'DEPENDS_ON' });
      });
    }
    return { packages, edges };
  },
};
