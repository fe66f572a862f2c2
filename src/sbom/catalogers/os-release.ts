/**
 * The operating system identity from os-release(5): `/etc/os-release`, falling back to
 * `/usr/lib/os-release` (the spec's order). Values are shell-style assignments; quoting and
 * backslash escapes are undone as the spec describes, nothing is executed.
 */
import type { Cataloger, FileMeta } from './cataloger.js';
import { wholeContent } from './cataloger.js';
import type { OsIdentity } from '../model.js';

export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\([$"`\\])/g, '$1');
    else if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

export function osIdentityFrom(fields: Record<string, string>, location: string): OsIdentity | undefined {
  const id = fields.ID?.toLowerCase();
  if (!id || !/^[a-z0-9._-]+$/.test(id)) return undefined;
  return {
    id,
    versionId: fields.VERSION_ID || undefined,
    versionCodename: fields.VERSION_CODENAME || undefined,
    name: fields.NAME || undefined,
    prettyName: fields.PRETTY_NAME || undefined,
    idLike: (fields.ID_LIKE ?? '').split(/\s+/).filter(Boolean),
    location,
  };
}

const PATHS = ['etc/os-release', 'usr/lib/os-release'];

export const osReleaseCataloger: Cataloger<Record<string, string>> = {
  name: 'os-release',
  select: (f: FileMeta) => (PATHS.includes(f.path) ? { kind: 'bytes', max: 64 * 1024 } : undefined),
  parse: (_f, content) => parseOsRelease(wholeContent(content).toString('utf8')),
  finish: () => ({ packages: [], edges: [] }),
};

/** The identity of the final view: /etc/os-release (through symlinks) first, then /usr/lib. */
export function findOsIdentity(
  records: ReadonlyMap<string, unknown>,
  resolve: (p: string) => string | undefined,
): OsIdentity | undefined {
  for (const p of PATHS) {
    const real = resolve(p);
    if (real === undefined) continue;
    const fields = records.get(real) as Record<string, string> | undefined;
    if (fields) return osIdentityFrom(fields, `/${p}`);
  }
  return undefined;
}
