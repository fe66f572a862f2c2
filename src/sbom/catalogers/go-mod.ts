/**
 * Go modules of a source tree: `go.mod` requirements (with `replace` directives applied, as the
 * go command resolves them; https://go.dev/ref/mod#go-mod-file) and the `h1:` hashes of `go.sum`.
 */
import type { Cataloger } from './cataloger.js';
import { wholeContent } from './cataloger.js';
import type { CatalogerOutput, FoundEdge, FoundPackage } from '../model.js';
import { baseName, parentOf } from '../paths.js';
import { purl } from '../purl.js';
import { selectGoMod } from './selectors.js';

interface GoMod {
  module?: string;
  goVersion?: string;
  requires: { path: string; version: string; indirect: boolean }[];
  replaces: { from: string; fromVersion?: string; to: string; toVersion?: string }[];
}

type GoModRecord = { kind: 'mod'; mod: GoMod } | { kind: 'sum'; sums: Map<string, string> };

function unquote(s: string): string {
  const t = s.trim();
  if (t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  if (t.startsWith('`') && t.endsWith('`')) return t.slice(1, -1);
  return t;
}

export function parseGoMod(text: string): GoMod {
  const out: GoMod = { requires: [], replaces: [] };
  let block: string | undefined;
  for (const raw of text.split('\n')) {
    const comment = raw.indexOf('//');
    const indirect = comment >= 0 && /\/\/\s*indirect\b/.test(raw.slice(comment));
    const line = (comment >= 0 ? raw.slice(0, comment) : raw).trim();
    if (!line) continue;
    if (block) {
      if (line === ')') {
        block = undefined;
        continue;
      }
      directive(block, line, indirect);
      continue;
    }
    const m = /^(\w+)\s*(.*)$/.exec(line);
    if (!m) continue;
    if (m[2] === '(') {
      block = m[1];
      continue;
    }
    directive(m[1]!, m[2]!, indirect);
  }
  return out;

  function directive(verb: string, args: string, indirect: boolean): void {
    const f = args.split(/\s+/).map(unquote).filter(Boolean);
    if (verb === 'module' && f[0]) out.module = f[0];
    else if (verb === 'go' && f[0]) out.goVersion = f[0];
    else if (verb === 'require' && f.length >= 2) out.requires.push({ path: f[0]!, version: f[1]!, indirect });
    else if (verb === 'replace') {
      const arrow = f.indexOf('=>');
      if (arrow < 1 || arrow + 1 >= f.length) return;
      out.replaces.push({
        from: f[0]!,
        ...(arrow === 2 ? { fromVersion: f[1]! } : {}),
        to: f[arrow + 1]!,
        ...(f[arrow + 2] ? { toVersion: f[arrow + 2]! } : {}),
      });
    }
  }
}

/** go.sum: `<module> <version>[/go.mod] h1:<hash>`; only the module-content lines are kept. */
export function parseGoSum(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3 || f[1]!.endsWith('/go.mod')) continue;
    out.set(`${f[0]}@${f[1]}`, f[2]!);
  }
  return out;
}

function modulePurl(path: string, version: string | undefined): string | undefined {
  const i = path.lastIndexOf('/');
  return i > 0 ? purl('golang', path.slice(0, i), path.slice(i + 1), version) : purl('golang', undefined, path, version);
}

export const goModCataloger: Cataloger<GoModRecord> = {
  name: 'go-mod',
  select: selectGoMod,
  parse(f, content) {
    const text = wholeContent(content).toString('utf8');
    return baseName(f.path) === 'go.mod' ? { kind: 'mod', mod: parseGoMod(text) } : { kind: 'sum', sums: parseGoSum(text) };
  },
  finish(records): CatalogerOutput {
    const packages: FoundPackage[] = [];
    const edges: FoundEdge[] = [];
    for (const [path, rec] of records) {
      if (rec.kind !== 'mod' || !rec.mod.module) continue;
      const dir = parentOf(path);
      const sumRec = records.get(dir ? `${dir}/go.sum` : 'go.sum');
      const sums = sumRec?.kind === 'sum' ? sumRec.sums : new Map<string, string>();
      const mainKey = `${path}#main`;
      packages.push({
        key: mainKey,
        kind: 'golang',
        name: rec.mod.module,
        purl: modulePurl(rec.mod.module, undefined),
        locations: [`/${path}`],
        ...(rec.mod.goVersion ? { properties: { 'sigil:go-version': rec.mod.goVersion } } : {}),
      });
      for (const r of rec.mod.requires) {
        const rep = rec.mod.replaces.find((x) => x.from === r.path && (!x.fromVersion || x.fromVersion === r.version));
        const local = rep && !rep.toVersion;
        const name = rep && !local ? rep.to : r.path;
        const version = rep && !local ? rep.toVersion! : r.version;
        const sum = sums.get(`${name}@${version}`);
        const key = `${path}#${r.path}`;
        packages.push({
          key,
          kind: 'golang',
          name,
          version,
          purl: modulePurl(name, version),
          locations: [`/${path}`, ...(sum ? [`/${dir ? `${dir}/` : ''}go.sum`] : [])],
          properties: {
            ...(sum ? { 'sigil:go-sum': sum } : {}),
            ...(r.indirect ? { 'sigil:go-indirect': 'true' } : {}),
            ...(rep ? { 'sigil:go-replaced-by': `${rep.to}${rep.toVersion ? `@${rep.toVersion}` : ''}` } : {}),
          },
        });
        edges.push({ from: mainKey, to: key, type: 'DEPENDS_ON' });
      }
    }
    return { packages, edges };
  },
};
