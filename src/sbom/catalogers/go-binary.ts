/**
 * Modules compiled into Go binaries, from the build information the Go linker stores in the
 * `.go.buildinfo` section (Go ≥ 1.18 format, as src/debug/buildinfo reads it): a 32-byte header
 * starting with the magic "\xff Go buildinf:", pointer size and flags; with the "inline strings"
 * flag (bit 1) the Go version and the module info follow as varint-length-prefixed strings. The
 * module info is `path`/`mod`/`dep`/`=>`/`build` lines between two 16-byte sentinels.
 *
 * Directory sources read the section through the ELF section table (a few small reads per
 * binary); streamed layers cannot seek, so there the magic is searched at 16-byte-aligned offsets
 * (the section's alignment) while the file streams past, and the bytes after it are kept.
 */
import type { Cataloger, RandomAccess, StreamConsumer } from './cataloger.js';
import { asRandomAccess } from './cataloger.js';
import { elfSections, isElf, SHT_NOBITS } from './elf.js';
import type { CatalogerOutput, FoundEdge, FoundPackage } from '../model.js';
import { purl } from '../purl.js';
import { selectGoBinary } from './selectors.js';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER = 32;
/** Module info of even very large programs is well below this. */
const MAX_INFO = 4 << 20;

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  replace?: { path: string; version: string; sum?: string };
}

export interface GoBuildInfo {
  goVersion: string;
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  settings: Record<string, string>;
}

function varint(buf: Buffer, pos: number): [number, number] | undefined {
  let v = 0;
  let shift = 0;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const b = buf[i]!;
    v += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return Number.isSafeInteger(v) ? [v, i + 1] : undefined;
    shift += 7;
  }
  return undefined;
}

/** Module info lines → structured build info (cmd/go/internal/version's format). */
export function parseModInfo(goVersion: string, info: string): GoBuildInfo {
  // Strip the 16-byte sentinels (runtime/debug.modinfo): present when the text is long enough
  // and the byte before the closing sentinel is a newline.
  let text = info;
  if (text.length >= 33 && text[text.length - 17] === '\n') text = text.slice(16, -16);
  const out: GoBuildInfo = { goVersion, deps: [], settings: {} };
  let last: GoModule | undefined;
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    switch (f[0]) {
      case 'path':
        out.path = f[1];
        break;
      case 'mod':
        out.main = { path: f[1] ?? '', version: f[2] ?? '', ...(f[3] ? { sum: f[3] } : {}) };
        last = out.main;
        break;
      case 'dep':
        last = { path: f[1] ?? '', version: f[2] ?? '', ...(f[3] ? { sum: f[3] } : {}) };
        out.deps.push(last);
        break;
      case '=>':
        if (last) last.replace = { path: f[1] ?? '', version: f[2] ?? '', ...(f[3] ? { sum: f[3] } : {}) };
        break;
      case 'build': {
        const kv = f.slice(1).join('\t');
        const eq = kv.indexOf('=');
        if (eq > 0) out.settings[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** Decodes the bytes starting at the magic; undefined when incomplete or not the inline format. */
export function decodeBuildInfo(buf: Buffer): GoBuildInfo | 'old-format' | undefined {
  if (buf.length < HEADER || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const flags = buf[15]!;
  if ((flags & 2) === 0) return 'old-format';
  const v = varint(buf, HEADER);
  if (!v || v[1] + v[0] > buf.length) return undefined;
  const goVersion = buf.toString('utf8', v[1], v[1] + v[0]);
  const m = varint(buf, v[1] + v[0]);
  if (!m || m[0] > MAX_INFO || m[1] + m[0] > buf.length) return undefined;
  return parseModInfo(goVersion, buf.toString('utf8', m[1], m[1] + m[0]));
}

function fromSections(file: RandomAccess): GoBuildInfo | 'old-format' | undefined {
  const sections = elfSections(file);
  const s = sections?.find((x) => x.name === '.go.buildinfo');
  if (!s || s.type === SHT_NOBITS || s.offset + s.size > file.size) return undefined;
  return decodeBuildInfo(file.read(s.offset, Math.min(s.size, MAX_INFO)));
}

/** Scans a stream for the aligned magic, keeping only the bytes after it. */
class BuildInfoScanner implements StreamConsumer<GoBuildInfo> {
  private pos = 0;
  private tail = Buffer.alloc(0);
  private head = Buffer.alloc(0);
  private capture: Buffer[] | undefined;
  private captured = 0;
  private result: GoBuildInfo | undefined;
  private checked = false;

  constructor(private readonly warn: (m: string) => void) {}

  write(chunk: Buffer): boolean {
    if (!this.checked) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 4) return this.advance(chunk);
      this.checked = true;
      if (!isElf(this.head)) return false;
    }
    if (this.capture) return this.feedCapture(chunk);
    // The magic may straddle chunks: look at the seam (the last bytes before this chunk and its
    // first bytes), then inside the chunk; chunks are never copied whole, so a 400 MiB
    // executable costs one pass of Buffer.indexOf.
    const base = this.pos;
    if (this.tail.length) {
      const seam = Buffer.concat([this.tail, chunk.subarray(0, MAGIC.length - 1)]);
      for (let j = seam.indexOf(MAGIC); j >= 0 && j < this.tail.length; j = seam.indexOf(MAGIC, j + 1)) {
        if ((base - this.tail.length + j) % 16 !== 0) continue;
        this.capture = [];
        this.pos += chunk.length;
        return this.feedCapture(Buffer.concat([seam.subarray(j, this.tail.length), chunk]));
      }
    }
    let i = chunk.indexOf(MAGIC);
    while (i >= 0 && (base + i) % 16 !== 0) i = chunk.indexOf(MAGIC, i + 1);
    if (i >= 0) {
      this.capture = [];
      this.pos += chunk.length;
      return this.feedCapture(chunk.subarray(i));
    }
    return this.advance(chunk);
  }

  /** Moves past a chunk, keeping the last bytes that could begin a magic split by the next one. */
  private advance(chunk: Buffer): boolean {
    this.pos += chunk.length;
    const keep = MAGIC.length - 1;
    this.tail = chunk.length >= keep ? Buffer.from(chunk.subarray(chunk.length - keep)) : Buffer.concat([this.tail, chunk]).subarray(-keep);
    return true;
  }

  private feedCapture(chunk: Buffer): boolean {
    this.capture!.push(chunk);
    this.captured += chunk.length;
    const all = Buffer.concat(this.capture!);
    this.capture = [all];
    const r = decodeBuildInfo(all);
    if (r === 'old-format') {
      this.warn('Go build info in the pre-1.18 format is not read');
      return false;
    }
    if (r) {
      this.result = r;
      return false;
    }
    return this.captured < MAX_INFO;
  }

  end(): GoBuildInfo | undefined {
    return this.result;
  }
}

function modulePurl(path: string, version: string | undefined): string | undefined {
  const i = path.lastIndexOf('/');
  const v = version && version !== '(devel)' ? version : undefined;
  return i > 0 ? purl('golang', path.slice(0, i), path.slice(i + 1), v) : purl('golang', undefined, path, v);
}

/** Packages of one binary: the main module, each dependency (replacements applied), the toolchain. */
export function goBinaryPackages(location: string, info: GoBuildInfo, keyPrefix: string): CatalogerOutput {
  const packages: FoundPackage[] = [];
  const edges: FoundEdge[] = [];
  const props = (m: GoModule): Record<string, string> => ({
    ...(m.sum ? { 'sigil:go-sum': m.sum } : {}),
    ...(m.replace ? { 'sigil:go-replaced-by': `${m.replace.path}${m.replace.version && m.replace.version !== '(devel)' ? `@${m.replace.version}` : ''}` } : {}),
    'sigil:go-toolchain': info.goVersion,
  });
  const mainKey = `${keyPrefix}main`;
  const mainPath = info.main?.path || info.path;
  if (mainPath) {
    packages.push({
      key: mainKey,
      kind: 'golang',
      name: mainPath,
      version: info.main?.version || '(devel)',
      purl: modulePurl(mainPath, info.main?.version),
      locations: [location],
      properties: {
        ...(info.main ? props(info.main) : { 'sigil:go-toolchain': info.goVersion }),
        ...(info.path && info.path !== mainPath ? { 'sigil:go-command': info.path } : {}),
        ...Object.fromEntries(['GOOS', 'GOARCH', 'vcs.revision', 'vcs.time'].filter((k) => info.settings[k]).map((k) => [`sigil:go-build-${k}`, info.settings[k]!])),
      },
    });
  }
  for (const d of info.deps) {
    // What is compiled in is the replacement's code; the original path stays the identity when the
    // replacement is a local directory (it has no version of its own).
    const local = d.replace && (d.replace.path.startsWith('.') || d.replace.path.startsWith('/'));
    const path = d.replace && !local ? d.replace.path : d.path;
    const version = d.replace && !local ? d.replace.version : d.version;
    const key = `${keyPrefix}${d.path}@${d.version}`;
    packages.push({
      key,
      kind: 'golang',
      name: path,
      version,
      purl: modulePurl(path, version),
      locations: [location],
      properties: props(d),
    });
    if (mainPath) edges.push({ from: mainKey, to: key, type: 'DEPENDS_ON' });
  }
  const std = `${keyPrefix}stdlib`;
  const goVer = /^go(\d+(\.\d+)*)/.exec(info.goVersion)?.[0];
  if (goVer) {
    packages.push({ key: std, kind: 'golang', name: 'stdlib', version: goVer, purl: purl('golang', undefined, 'stdlib', goVer), locations: [location], properties: { 'sigil:go-toolchain': info.goVersion } });
    if (mainPath) edges.push({ from: mainKey, to: std, type: 'DEPENDS_ON' });
  }
  return { packages, edges };
}

export const goBinaryCataloger: Cataloger<GoBuildInfo> = {
  name: 'go-binary',
  // Executables only (mode bits; tar and directories both have them): go build sets 0755. Names
  // with a source/text/data extension are skipped before the mode is looked at, which saves a stat
  // per file in trees such as node_modules where scripts are often marked executable.
  select: selectGoBinary,
  parse(_f, content, ctx) {
    const r = fromSections(asRandomAccess(content));
    if (r === 'old-format') {
      ctx.warn('Go build info in the pre-1.18 format is not read');
      return undefined;
    }
    return r;
  },
  stream: (_f, ctx) => new BuildInfoScanner((m) => ctx.warn(m)),
  finish(records): CatalogerOutput {
    const out: CatalogerOutput = { packages: [], edges: [] };
    for (const [path, info] of records) {
      const r = goBinaryPackages(`/${path}`, info, `${path}#`);
      out.packages.push(...r.packages);
      out.edges.push(...r.edges);
    }
    return out;
  },
};
