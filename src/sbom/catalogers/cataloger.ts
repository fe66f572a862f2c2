/**
 * The one interface every cataloger implements. The scan engine streams each filesystem (a
 * directory, a tarball, each layer of an image) exactly once; for every regular file it asks each
 * cataloger whether it wants the file and how (`select`), hands the content over (`parse` /
 * `stream`) and keeps the small record that comes back under the file's path. Whiteouts and
 * overwrites of later layers replace or delete records by path, so at the end `finish` sees the
 * records of the final filesystem view only, without the filesystem ever being unpacked.
 */
import type { CatalogerOutput, OsIdentity } from '../model.js';

export interface FileMeta {
  /** Normalized path inside the scanned filesystem: no leading `/`, no `.`/`..` segments. */
  path: string;
  size: number;
  /** Unix permission bits (and type bits where the source has them). */
  mode: number;
}

/** Reads byte ranges of one file; short reads only at end of file. */
export interface RandomAccess {
  readonly size: number;
  read(position: number, length: number): Buffer;
}

/**
 * Limits are per file and bound peak memory: at most one file is buffered at a time, so the
 * largest limit (128 MiB: rpm databases, jars) plus its working copy stays well inside the
 * 512 MB the scan of any image may use.
 */
export type Capture =
  /** Whole content as one Buffer; files larger than `max` are skipped with a warning. */
  | { kind: 'bytes'; max: number }
  /**
   * Random access. Directory sources read the file in place; streamed sources buffer it when it is
   * at most `maxBuffered` bytes, and otherwise use the cataloger's `stream` if it has one.
   */
  | { kind: 'random'; maxBuffered: number };

export interface ParseContext {
  /** Records a warning about the current file. */
  warn(message: string): void;
}

/** Receives a file's bytes in order; `write` returns false when it needs no more of them. */
export interface StreamConsumer<R> {
  write(chunk: Buffer): boolean;
  end(): R | undefined;
}

export interface FinishContext {
  os: OsIdentity | undefined;
  warn(path: string, message: string): void;
  /** Follows symlinks of the final view (also in parent directories); undefined on a loop. */
  resolve(path: string): string | undefined;
}

export type FsEntryKind = 'file' | 'dir' | 'symlink' | 'other';

/**
 * The real filesystem behind a directory source, for catalogers that can trust an index file only
 * after checking it against the disk (paths relative to the scanned root, never followed through
 * symlinks). Archives and image layers have no probe: their mtimes are whatever the packer wrote
 * (BuildKit's rewrite-timestamp sets them all to SOURCE_DATE_EPOCH, so a stale index would look
 * current), a later layer can change a subtree without touching the index, and their bytes are
 * streamed whether or not a cataloger needs them, so skipping would save little there.
 */
export interface FsProbe {
  /** Kind and modification time (ms since the epoch); undefined when the path does not exist. */
  lstat(path: string): { kind: FsEntryKind; mtimeMs: number } | undefined;
  /** Entries of a directory (no `.`/`..`); undefined when it is not a readable directory. */
  list(path: string): { name: string; kind: FsEntryKind }[] | undefined;
  /** A regular file's bytes (not through a symlink); undefined when missing, unreadable or over `max` bytes. */
  read(path: string, max: number): Buffer | undefined;
}

/**
 * Directories whose contents a cataloger has fully described from one file it parsed, so a
 * directory walk need not list them: the walk does not descend into any of `skip` (nor below it),
 * except into the directories of `visit`, which are walked as usual (for the other catalogers)
 * and in which `skip` applies again.
 */
export interface SubtreeClaim {
  skip: readonly string[];
  visit: readonly string[];
}

export interface Cataloger<R = unknown> {
  readonly name: string;
  /** Called for every regular file; must be cheap (path and size tests only). */
  select(file: FileMeta): Capture | undefined;
  parse(file: FileMeta, content: Buffer | RandomAccess, ctx: ParseContext): R | undefined;
  /** Streaming alternative for files too large to buffer (e.g. executables in a layer). */
  stream?(file: FileMeta, ctx: ParseContext): StreamConsumer<R>;
  /**
   * Directory sources only, right after `parse` returned `record`: may check the record against
   * the real filesystem and claim the subtree it describes. Returns the record to keep (e.g. one
   * marked as verified) with the claim, or undefined to keep the record as it is and claim nothing.
   */
  claim?(file: FileMeta, record: R, fs: FsProbe, ctx: ParseContext): { record: R; claim: SubtreeClaim } | undefined;
  /** Builds packages from the records of the final view, keyed by path (sorted). */
  finish(records: ReadonlyMap<string, R>, ctx: FinishContext): CatalogerOutput;
}

/**
 * A cataloger whose parsing code loads when the first file it selects turns up: `select` is the
 * loaded cataloger's own, from catalogers/selectors.ts. Directory walks wait for the load
 * (FileSink.ready); streamed sources have every cataloger loaded before they start.
 */
export interface LazyCataloger {
  readonly name: string;
  readonly select: (file: FileMeta) => Capture | undefined;
  load(): Promise<Cataloger>;
}

export type CatalogerRef = Cataloger | LazyCataloger;

export function isLoaded(c: CatalogerRef): c is Cataloger {
  return 'parse' in c;
}

/** Bytes of a `bytes` capture, or all of a random-access file (callers bound the size). */
export function wholeContent(content: Buffer | RandomAccess): Buffer {
  return Buffer.isBuffer(content) ? content : content.read(0, content.size);
}

/** Random access over a Buffer. */
export function bufferAccess(buf: Buffer): RandomAccess {
  return {
    size: buf.length,
    read: (position, length) => buf.subarray(Math.max(0, position), Math.max(0, Math.min(buf.length, position + length))),
  };
}

export function asRandomAccess(content: Buffer | RandomAccess): RandomAccess {
  return Buffer.isBuffer(content) ? bufferAccess(content) : content;
}
