/**
 * Path hygiene for entries of archives and layers. Entry names are attacker-controlled: a tar entry
 * `../../etc/passwd` or `/etc/../../x` must never name something outside the scanned filesystem
 * (sigil never writes entries to disk, but a path outside the root would still let one layer
 * pretend to own another filesystem's file in the SBOM). Normalization resolves `.`/`..` lexically
 * and rejects anything that climbs above the root.
 */

/** `a/./b//c/` → `a/b/c`; undefined when `..` climbs above the root. The root itself is ''. */
export function normalizeEntryPath(raw: string): string | undefined {
  const out: string[] = [];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(seg);
  }
  return out.join('/');
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Location as written into the SBOM: absolute inside the scanned filesystem. */
export function location(path: string): string {
  return `/${path}`;
}

/** Every proper ancestor directory of a path: `a/b/c` → `a`, `a/b`. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  let i = path.indexOf('/');
  while (i >= 0) {
    out.push(path.slice(0, i));
    i = path.indexOf('/', i + 1);
  }
  return out;
}
