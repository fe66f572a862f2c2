/**
 * RFC 822-style stanzas as Debian control files (Debian Policy §5.1) and Python core metadata
 * (email headers) write them: `Field: value`, continuation lines start with whitespace, stanzas
 * are separated by blank lines. Field names are case-insensitive and kept as written; repeated
 * fields (Python's Classifier, Requires-Dist) keep every value.
 */
export interface Stanza {
  fields: [string, string][];
  /** Text after the headers when parsed as one email message (Python METADATA's description). */
  body?: string;
}

export function stanzaGet(s: Stanza, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of s.fields) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export function stanzaGetAll(s: Stanza, name: string): string[] {
  const lower = name.toLowerCase();
  return s.fields.filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
}

/** All stanzas of a control file (dpkg status, DEP-5 copyright). */
export function parseStanzas(text: string): Stanza[] {
  const out: Stanza[] = [];
  let cur: [string, string][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      if (cur.length) out.push({ fields: cur });
      cur = [];
      continue;
    }
    if (line.startsWith('#')) continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && cur.length) {
      const last = cur[cur.length - 1]!;
      last[1] += '\n' + line.slice(1);
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) continue;
    cur.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  if (cur.length) out.push({ fields: cur });
  return out;
}

/** One email-style message: headers up to the first blank line, then the body. */
export function parseMessage(text: string): Stanza {
  const fields: [string, string][] = [];
  const lines = text.split('\n');
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (line === '') break;
    if ((line.startsWith(' ') || line.startsWith('\t')) && fields.length) {
      fields[fields.length - 1]![1] += '\n' + line.trim();
      continue;
    }
    const c = line.indexOf(':');
    if (c <= 0) continue;
    fields.push([line.slice(0, c).trim(), line.slice(c + 1).trim()]);
  }
  const body = lines.slice(i + 1).join('\n');
  return body.trim() ? { fields, body } : { fields };
}

/** `Name <email>` (Debian Maintainer, Python Author-email) → name and email. */
export function parsePerson(text: string): { name: string; email?: string } | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const m = /^(.*?)\s*<([^>]+)>\s*$/.exec(t);
  if (m) return m[1] ? { name: m[1].replace(/^"|"$/g, ''), email: m[2]! } : { name: m[2]!, email: m[2]! };
  return { name: t };
}
