/**
 * The subset of TOML (https://toml.io/en/v1.0.0) that lockfiles use: `[table]` and `[[array of
 * tables]]` headers with dotted names, `key = value` with basic/literal strings, integers,
 * booleans, inline arrays (possibly over several lines) of those, and inline tables. Anything
 * else on a line is skipped rather than guessed at; a lockfile never needs more.
 */

export type TomlValue = string | number | boolean | TomlValue[] | { [k: string]: TomlValue };
export type TomlTable = { [k: string]: TomlValue };

class Cursor {
  pos = 0;
  constructor(readonly s: string) {}
  ws(): void {
    for (;;) {
      while (this.pos < this.s.length && /[ \t\r\n]/.test(this.s[this.pos]!)) this.pos++;
      if (this.s[this.pos] === '#') {
        while (this.pos < this.s.length && this.s[this.pos] !== '\n') this.pos++;
        continue;
      }
      return;
    }
  }
}

function parseString(c: Cursor): string {
  const q = c.s[c.pos]!;
  const triple = c.s.startsWith(q.repeat(3), c.pos);
  const delim = triple ? q.repeat(3) : q;
  c.pos += delim.length;
  if (triple && c.s[c.pos] === '\n') c.pos++;
  let out = '';
  while (c.pos < c.s.length) {
    if (c.s.startsWith(delim, c.pos)) {
      c.pos += delim.length;
      return out;
    }
    const ch = c.s[c.pos]!;
    if (q === '"' && ch === '\\') {
      const n = c.s[c.pos + 1];
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', b: '\b', f: '\f' };
      if (n === 'u' || n === 'U') {
        const len = n === 'u' ? 4 : 8;
        const cp = parseInt(c.s.slice(c.pos + 2, c.pos + 2 + len), 16);
        out += Number.isFinite(cp) && cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
        c.pos += 2 + len;
        continue;
      }
      if (triple && n === '\n') {
        c.pos += 2;
        while (/[ \t\r\n]/.test(c.s[c.pos] ?? '')) c.pos++;
        continue;
      }
      out += map[n ?? ''] ?? n ?? '';
      c.pos += 2;
      continue;
    }
    if (!triple && ch === '\n') throw new Error('unterminated string');
    out += ch;
    c.pos++;
  }
  throw new Error('unterminated string');
}

function parseValue(c: Cursor, depth: number): TomlValue {
  if (depth > 32) throw new Error('nesting too deep');
  c.ws();
  const ch = c.s[c.pos];
  if (ch === '"' || ch === "'") return parseString(c);
  if (ch === '[') {
    c.pos++;
    const arr: TomlValue[] = [];
    for (;;) {
      c.ws();
      if (c.s[c.pos] === ']') {
        c.pos++;
        return arr;
      }
      arr.push(parseValue(c, depth + 1));
      c.ws();
      if (c.s[c.pos] === ',') c.pos++;
      else if (c.s[c.pos] !== ']') throw new Error('bad array');
    }
  }
  if (ch === '{') {
    c.pos++;
    const t: TomlTable = {};
    for (;;) {
      c.ws();
      if (c.s[c.pos] === '}') {
        c.pos++;
        return t;
      }
      const key = parseKey(c);
      c.ws();
      if (c.s[c.pos] !== '=') throw new Error('bad inline table');
      c.pos++;
      setPath(t, key, parseValue(c, depth + 1));
      c.ws();
      if (c.s[c.pos] === ',') c.pos++;
    }
  }
  const m = /^(true|false|[+-]?\d[\d_]*(\.\d+)?([eE][+-]?\d+)?|[0-9T:.+-Z]+)/.exec(c.s.slice(c.pos, c.pos + 64));
  if (!m) throw new Error(`unexpected ${JSON.stringify(ch)}`);
  c.pos += m[0].length;
  if (m[0] === 'true') return true;
  if (m[0] === 'false') return false;
  const n = Number(m[0].replace(/_/g, ''));
  return Number.isFinite(n) ? n : m[0];
}

function parseKey(c: Cursor): string[] {
  const parts: string[] = [];
  for (;;) {
    c.ws();
    const ch = c.s[c.pos];
    if (ch === '"' || ch === "'") parts.push(parseString(c));
    else {
      const m = /^[A-Za-z0-9_-]+/.exec(c.s.slice(c.pos, c.pos + 256));
      if (!m) throw new Error('bad key');
      parts.push(m[0]);
      c.pos += m[0].length;
    }
    c.ws();
    if (c.s[c.pos] !== '.') return parts;
    c.pos++;
  }
}

function setPath(t: TomlTable, path: string[], v: TomlValue): void {
  let cur = t;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    if (next && typeof next === 'object' && !Array.isArray(next)) cur = next;
    else cur = cur[k] = {};
  }
  cur[path[path.length - 1]!] = v;
}

function tableAt(root: TomlTable, path: string[], arrayOfTables: boolean): TomlTable {
  let cur = root;
  path.forEach((k, i) => {
    const last = i === path.length - 1;
    let next = cur[k];
    if (last && arrayOfTables) {
      if (!Array.isArray(next)) next = cur[k] = [];
      const t: TomlTable = {};
      (next as TomlValue[]).push(t);
      cur = t;
      return;
    }
    if (Array.isArray(next)) {
      const lastEl = next[next.length - 1];
      cur = lastEl && typeof lastEl === 'object' && !Array.isArray(lastEl) ? lastEl : {};
      return;
    }
    if (!next || typeof next !== 'object') next = cur[k] = {};
    cur = next as TomlTable;
  });
  return cur;
}

/** Parses a TOML document; throws Error with a position on malformed input. */
export function parseToml(text: string): TomlTable {
  const root: TomlTable = {};
  let cur = root;
  const c = new Cursor(text);
  for (;;) {
    c.ws();
    if (c.pos >= text.length) return root;
    try {
      if (text[c.pos] === '[') {
        const aot = text[c.pos + 1] === '[';
        c.pos += aot ? 2 : 1;
        const key = parseKey(c);
        if (!text.startsWith(aot ? ']]' : ']', c.pos)) throw new Error('bad table header');
        c.pos += aot ? 2 : 1;
        cur = tableAt(root, key, aot);
        continue;
      }
      const key = parseKey(c);
      c.ws();
      if (text[c.pos] !== '=') throw new Error('expected =');
      c.pos++;
      setPath(cur, key, parseValue(c, 0));
    } catch (e) {
      const line = text.slice(0, c.pos).split('\n').length;
      throw new Error(`TOML line ${line}: ${(e as Error).message}`);
    }
  }
}
