/**
 * The final filesystem view of a source, built from a stream of entries without unpacking
 * anything. Sources call `beginLayer` once per layer (a directory or a tarball is one layer) and
 * `entry` for each entry in archive order. Per path the view keeps only what catalogers extracted
 * (small records) and symlink targets, so memory grows with the number of package metadata files,
 * not with the size of the image.
 *
 * Layer semantics follow the OCI image spec, "Representing Changesets": a whiteout `.wh.<name>`
 * deletes `<name>` (and everything under it) from lower layers, an opaque marker `.wh..wh..opq`
 * hides every lower-layer entry of its directory, and an entry of an upper layer replaces the
 * lower one at the same path, a non-directory also hiding a lower directory's contents.
 */
import { ancestors, baseName, normalizeEntryPath, parentOf } from './paths.js';
import type { Cataloger, CatalogerRef, Capture, FileMeta, FinishContext, FsProbe, ParseContext, RandomAccess, StreamConsumer } from './catalogers/cataloger.js';
import { bufferAccess, isLoaded } from './catalogers/cataloger.js';
import type { ScanWarning } from './model.js';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface EntryHeader {
  /** Raw entry name as the source has it. */
  name: string;
  kind: EntryKind;
  size: number;
  mode: number;
  /**
   * Directory sources pass this instead of calling lstat up front: most files are rejected by
   * their path alone, and a stat per file is the largest cost of walking node_modules.
   */
  stat?: () => { size: number; mode: number };
  /** The name is already a normalized relative path (directory walks build it so). */
  normalized?: boolean;
  /** Symlink target (raw) or hardlink target (an entry name of the same archive). */
  linkTarget?: string;
}

/** Where a source sends a regular file's content. */
export interface FileSink {
  /** True when some cataloger would rather seek than stream (directory sources can). */
  readonly wantsRandom: boolean;
  /**
   * Set while a cataloger that wants this file is still loading: directory sources await it before
   * delivering content; streamed sources have `loadAll` run before their walk and never see it.
   */
  readonly ready?: Promise<void>;
  /** Directory sources: the file itself, readable in place. */
  acceptRandom(access: RandomAccess): void;
  /** Streamed sources: the next bytes; false when nothing more is needed. */
  write(chunk: Buffer): boolean;
  /** All bytes delivered (or, when `truncated`, the source ended early). */
  end(truncated?: boolean): void;
}

interface Held<T> {
  layer: number;
  value: T;
}

/** Records of the final view: per cataloger, path → record. */
export interface ViewResult {
  records: Map<string, unknown>[];
  symlinks: Map<string, string>;
  resolve(path: string): string | undefined;
}

const MAX_SYMLINK_HOPS = 40; // Linux's MAXSYMLINKS

/** FileMeta whose size and mode are read (once) only when a cataloger asks. */
function lazyMeta(path: string, stat: () => { size: number; mode: number }): FileMeta {
  let st: { size: number; mode: number } | undefined;
  return {
    path,
    get size() {
      return (st ??= stat()).size;
    },
    get mode() {
      return (st ??= stat()).mode;
    },
  };
}

export class ViewBuilder {
  private readonly records: Map<string, Held<unknown>>[];
  private readonly symlinks = new Map<string, Held<string>>();
  /** Ancestor directories of held paths: a non-directory entry at one of them hides held entries. */
  private readonly heldDirs = new Set<string>();
  private layer = 0;
  private layerLabel = '';
  /** Layer index → digest, for sources made of layers. */
  private readonly layerIds = new Map<number, string>();
  /** The real filesystem, when the source is a directory and catalogers may claim subtrees. */
  private probe: FsProbe | undefined;
  /** Subtrees claimed by catalogers (SubtreeClaim): directories not to descend into, and exceptions. */
  private readonly claimedSkip = new Set<string>();
  private readonly claimedVisit = new Set<string>();

  /** The loaded catalogers, by index of `catalogers` (lazy ones once loaded). */
  private readonly loaded: (Cataloger | undefined)[];
  private readonly loading: (Promise<void> | undefined)[];

  constructor(
    private readonly catalogers: readonly CatalogerRef[],
    private readonly warnings: ScanWarning[],
  ) {
    this.records = catalogers.map(() => new Map());
    this.loaded = catalogers.map((c) => (isLoaded(c) ? c : undefined));
    this.loading = catalogers.map(() => undefined);
  }

  private load(index: number): Promise<void> {
    const ref = this.catalogers[index]!;
    return (this.loading[index] ??= isLoaded(ref)
      ? Promise.resolve()
      : ref.load().then((cat) => {
          this.loaded[index] = cat;
        }));
  }

  /** Loads every lazy cataloger (for sources that cannot wait in the middle of a stream). */
  async loadAll(): Promise<void> {
    await Promise.all(this.catalogers.map((_, i) => this.load(i)));
  }

  /** The cataloger at `index` if it was loaded; one never loaded saw no file and holds no record. */
  catalogerAt(index: number): Cataloger | undefined {
    return this.loaded[index];
  }

  beginLayer(index: number, label = '', digest?: string): void {
    this.layer = index;
    this.layerLabel = label;
    if (digest) this.layerIds.set(index, digest);
  }

  /**
   * Directory sources: lets catalogers check index files against the filesystem and claim the
   * subtrees they describe (see `descend`). Single-layer only: a claim says nothing about what a
   * later layer would put into the subtree.
   */
  useFilesystem(probe: FsProbe): void {
    this.probe = probe;
  }

  /**
   * Which directories a directory walk lists for the subdirectory `dir`: `dir` itself, or, when a
   * cataloger has claimed it, only the directories the claim still wants visited inside it.
   */
  descend(dir: string): string[] {
    if (this.claimedSkip.size === 0) return [dir];
    // The nearest claimed ancestor-or-self decides: a visit re-opens a skipped subtree.
    for (let a = dir; ; a = parentOf(a)) {
      if (this.claimedVisit.has(a)) return [dir];
      if (this.claimedSkip.has(a)) break;
      if (a === '') return [dir];
    }
    const prefix = `${dir}/`;
    const inside = [...this.claimedVisit].filter((v) => v.startsWith(prefix)).sort();
    // Visits nested in another visit are reached by walking that one.
    return inside.filter((v) => !inside.some((o) => o !== v && v.startsWith(`${o}/`)));
  }

  /** Digest of the layer that provides `path` in the final view (image sources only). */
  layerOf(path: string): string | undefined {
    for (const m of this.records) {
      const h = m.get(path);
      if (h) return this.layerIds.get(h.layer);
    }
    return undefined;
  }

  /** A warning about one path of the current layer. */
  addWarning(path: string, message: string): void {
    this.warn(path, message);
  }

  private warn(path: string, message: string): void {
    this.warnings.push({ path: this.layerLabel ? `${this.layerLabel}:/${path}` : `/${path}`, message });
  }

  private removeExact(path: string, below: number): void {
    for (const m of this.records) {
      const h = m.get(path);
      if (h && h.layer < below) m.delete(path);
    }
    const s = this.symlinks.get(path);
    if (s && s.layer < below) this.symlinks.delete(path);
  }

  private removeUnder(dir: string, below: number): void {
    if (dir !== '' && !this.heldDirs.has(dir)) return;
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const m of [...this.records, this.symlinks] as Map<string, Held<unknown>>[]) {
      for (const [p, h] of m) if (p.startsWith(prefix) && h.layer < below) m.delete(p);
    }
  }

  private hold<T>(m: Map<string, Held<T>>, path: string, value: T): void {
    m.set(path, { layer: this.layer, value });
    for (const a of ancestors(path)) this.heldDirs.add(a);
  }

  /**
   * One entry of the current layer. Returns a sink for regular files some cataloger wants; the
   * source then delivers the content (or skips it when undefined is returned).
   */
  entry(h: EntryHeader): FileSink | undefined {
    const path = h.normalized ? h.name : normalizeEntryPath(h.name);
    if (path === undefined) {
      this.warn(h.name.replace(/^\/+/, ''), 'entry path climbs above the root ("../"); entry ignored');
      return undefined;
    }
    if (path === '') return undefined;
    const base = baseName(path);
    if (base.startsWith('.wh.')) {
      if (base === '.wh..wh..opq') this.removeUnder(parentOf(path), this.layer);
      else if (!base.startsWith('.wh..wh.')) {
        const target = `${parentOf(path) ? `${parentOf(path)}/` : ''}${base.slice(4)}`;
        this.removeExact(target, this.layer);
        this.removeUnder(target, this.layer);
      }
      return undefined;
    }
    if (h.kind === 'dir') {
      // A directory replaces a lower symlink at the same path, but keeps lower directory contents.
      const s = this.symlinks.get(path);
      if (s && s.layer < this.layer) this.symlinks.delete(path);
      return undefined;
    }
    // A directory walk names each path once and has no lower layer: nothing to replace.
    if (!h.normalized) {
      this.removeExact(path, this.layer + 1);
      if (this.heldDirs.has(path)) this.removeUnder(path, this.layer);
    }
    switch (h.kind) {
      case 'symlink':
        this.hold(this.symlinks, path, h.linkTarget ?? '');
        return undefined;
      case 'hardlink': {
        const target = normalizeEntryPath(h.linkTarget ?? '');
        if (target === undefined) {
          this.warn(path, `hard link target "${h.linkTarget ?? ''}" climbs above the root; entry ignored`);
          return undefined;
        }
        for (const m of this.records) {
          const t = m.get(target);
          if (t) this.hold(m, path, t.value);
        }
        const ts = this.symlinks.get(target);
        if (ts) this.hold(this.symlinks, path, ts.value);
        return undefined;
      }
      case 'file':
        return this.fileSink(h.stat ? lazyMeta(path, h.stat) : { path, size: h.size, mode: h.mode });
      default:
        return undefined;
    }
  }

  private fileSink(meta: FileMeta): FileSink | undefined {
    let picks: { index: number; capture: Capture }[] | undefined;
    for (let index = 0; index < this.catalogers.length; index++) {
      const capture = this.catalogers[index]!.select(meta);
      if (capture) (picks ??= []).push({ index, capture });
    }
    if (!picks) return undefined;
    const loadedPicks = () => picks.map((p) => ({ ...p, cat: this.loaded[p.index]! }));
    if (picks.every((p) => this.loaded[p.index])) return this.contentSink(meta, loadedPicks());
    let sink: FileSink | undefined;
    const waiting = (): FileSink => {
      if (!sink) throw new Error(`internal: content of ${meta.path} delivered before its catalogers loaded`);
      return sink;
    };
    const ready = Promise.all(picks.map((p) => this.load(p.index))).then(() => {
      sink = this.contentSink(meta, loadedPicks());
    });
    return {
      wantsRandom: picks.some((p) => p.capture.kind === 'random'),
      ready,
      acceptRandom: (access) => waiting().acceptRandom(access),
      write: (chunk) => waiting().write(chunk),
      end: (truncated) => waiting().end(truncated),
    };
  }

  private contentSink(meta: FileMeta, picks: { index: number; cat: Cataloger; capture: Capture }[]): FileSink {
    const ctxFor = (cat: Cataloger): ParseContext => ({ warn: (m) => this.warn(meta.path, `${cat.name}: ${m}`) });
    const store = (index: number, rec: unknown): void => {
      if (rec !== undefined) this.hold(this.records[index]!, meta.path, rec);
    };
    const run = (index: number, cat: Cataloger, content: Buffer | RandomAccess): void => {
      try {
        let rec = cat.parse(meta, content, ctxFor(cat));
        if (rec !== undefined && this.probe && cat.claim) {
          const claimed = cat.claim(meta, rec, this.probe, ctxFor(cat));
          if (claimed) {
            rec = claimed.record;
            for (const d of claimed.claim.skip) this.claimedSkip.add(d);
            for (const d of claimed.claim.visit) this.claimedVisit.add(d);
          }
        }
        store(index, rec);
      } catch (e) {
        this.warn(meta.path, `${cat.name}: ${(e as Error).message}`);
      }
    };
    // Decide per pick: bytes within limit → buffer; random within limit → buffer (when streamed);
    // random above limit → stream consumer when the cataloger has one; otherwise skip with a warning.
    const bytesMax = Math.max(0, ...picks.map((p) => (p.capture.kind === 'bytes' ? p.capture.max : p.capture.maxBuffered)));
    const wantsRandom = picks.some((p) => p.capture.kind === 'random');
    let buf: Buffer | undefined;
    let filled = 0;
    let consumers: { index: number; cat: Cataloger; c: StreamConsumer<unknown>; open: boolean }[] | undefined;
    let started = false;
    const start = (): void => {
      started = true;
      if (meta.size <= bytesMax) buf = Buffer.allocUnsafe(meta.size);
      consumers = [];
      for (const p of picks) {
        const limit = p.capture.kind === 'bytes' ? p.capture.max : p.capture.maxBuffered;
        if (meta.size <= limit) continue;
        if (p.capture.kind === 'random' && p.cat.stream) {
          consumers.push({ index: p.index, cat: p.cat, c: p.cat.stream(meta, ctxFor(p.cat)), open: true });
        } else {
          this.warn(meta.path, `${p.cat.name}: file of ${meta.size} bytes is larger than the ${limit}-byte limit; skipped`);
        }
      }
    };
    return {
      wantsRandom,
      acceptRandom: (access: RandomAccess): void => {
        for (const p of picks) {
          if (p.capture.kind === 'random') run(p.index, p.cat, access);
          else if (meta.size <= p.capture.max) {
            const limit = p.capture.max;
            run(p.index, p.cat, access.size <= limit ? access.read(0, access.size) : access.read(0, limit));
          } else this.warn(meta.path, `${p.cat.name}: file of ${meta.size} bytes is larger than the ${p.capture.max}-byte limit; skipped`);
        }
      },
      write: (chunk: Buffer): boolean => {
        if (!started) start();
        let more = false;
        if (buf) {
          const n = Math.min(chunk.length, buf.length - filled);
          chunk.copy(buf, filled, 0, n);
          filled += n;
          more = filled < buf.length;
        }
        for (const c of consumers!) {
          if (!c.open) continue;
          try {
            c.open = c.c.write(chunk);
          } catch (e) {
            c.open = false;
            this.warn(meta.path, `${c.cat.name}: ${(e as Error).message}`);
          }
          more ||= c.open;
        }
        return more;
      },
      end: (truncated = false): void => {
        if (!started) start();
        if (truncated || (buf && filled < buf.length)) {
          this.warn(meta.path, `file is truncated (${filled} of ${meta.size} bytes); not catalogued`);
          return;
        }
        for (const c of consumers!) {
          try {
            store(c.index, c.c.end());
          } catch (e) {
            this.warn(meta.path, `${c.cat.name}: ${(e as Error).message}`);
          }
        }
        if (!buf) return;
        for (const p of picks) {
          const limit = p.capture.kind === 'bytes' ? p.capture.max : p.capture.maxBuffered;
          if (meta.size > limit) continue;
          run(p.index, p.cat, p.capture.kind === 'random' ? bufferAccess(buf) : buf);
        }
      },
    };
  }

  /** Follows symlinks of the view in every component of `path`. */
  resolve(path: string): string | undefined {
    let parts = path.split('/').filter((s) => s !== '');
    let hops = 0;
    for (let i = 0; i < parts.length; ) {
      const prefix = parts.slice(0, i + 1).join('/');
      const link = this.symlinks.get(prefix);
      if (!link) {
        i++;
        continue;
      }
      if (++hops > MAX_SYMLINK_HOPS) return undefined;
      const base = link.value.startsWith('/') ? '' : parts.slice(0, i).join('/');
      const joined = normalizeEntryPath(`${base}/${link.value}`);
      // A link climbing above the root stays at the root, as it would in a chroot.
      const target = joined ?? normalizeEntryPath(link.value.replace(/^(\.\.\/)+/, '')) ?? '';
      parts = [...target.split('/').filter((s) => s !== ''), ...parts.slice(i + 1)];
      i = 0;
    }
    return parts.join('/');
  }

  result(): ViewResult {
    const records = this.records.map((m) => {
      const out = new Map<string, unknown>();
      for (const p of [...m.keys()].sort()) out.set(p, m.get(p)!.value);
      return out;
    });
    const symlinks = new Map<string, string>();
    for (const [p, h] of this.symlinks) symlinks.set(p, h.value);
    return { records, symlinks, resolve: (p) => this.resolve(p) };
  }

  finishContext(os: FinishContext['os']): FinishContext {
    return {
      os,
      warn: (path, message) => this.warnings.push({ path: path.startsWith('/') ? path : `/${path}`, message }),
      resolve: (p) => {
        const r = this.resolve(p);
        if (r === undefined) this.warnings.push({ path: `/${p}`, message: 'symlink loop (more than 40 links followed)' });
        return r;
      },
    };
  }
}
