/**
 * A directory tree as one layer. The walk never follows symlinks (lstat + readlink), so symlink
 * loops cannot trap it, and it opens regular files only (opening a FIFO would block). Files a
 * cataloger wants are read in place: metadata files whole, executables and archives by random
 * access, so a Go binary costs a few reads of its ELF headers rather than a full read.
 */
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, constants as fsc } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { FsEntryKind, FsProbe, RandomAccess } from '../catalogers/cataloger.js';
import type { FileSink, ViewBuilder } from '../view.js';
import type { ProgressSink, ScanTarget, SourceInfo } from './source.js';
import { SigilError } from '../../core/errors.js';

const CHUNK = 1 << 20;

/** Random access over an open file descriptor. */
export function fdAccess(fd: number, size: number): RandomAccess {
  return {
    size,
    read(position: number, length: number): Buffer {
      const len = Math.max(0, Math.min(length, size - position));
      const buf = Buffer.allocUnsafe(len);
      let off = 0;
      while (off < len) {
        const n = readSync(fd, buf, off, len - off, position + off);
        if (n === 0) break;
        off += n;
      }
      return off === len ? buf : buf.subarray(0, off);
    },
  };
}

/**
 * Sends one regular file to the view; unreadable files become warnings naming the file. `stat`
 * is called only if a cataloger needs the size or mode, and at most once. Returns a promise only
 * when a cataloger that wants the file is still loading (await it before the next file).
 */
export function feedFile(view: ViewBuilder, abs: string, rel: string, stat: () => { size: number; mode: number }, warn: (m: string) => void): Promise<void> | undefined {
  let st: { size: number; mode: number } | undefined;
  const once = () => (st ??= stat());
  const sink = view.entry({ name: rel, kind: 'file', size: 0, mode: 0, stat: once, normalized: true });
  if (!sink) return undefined;
  if (sink.ready) return sink.ready.then(() => deliver(sink, abs, once, warn));
  deliver(sink, abs, once, warn);
  return undefined;
}

function deliver(sink: FileSink, abs: string, once: () => { size: number; mode: number }, warn: (m: string) => void): void {
  let fd: number;
  try {
    fd = openSync(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch (e) {
    warn(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return;
  }
  try {
    const { size } = once();
    if (sink.wantsRandom) {
      sink.acceptRandom(fdAccess(fd, size));
      return;
    }
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
    let done = 0;
    let more = true;
    while (more && done < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - done), done);
      if (n === 0) break;
      done += n;
      more = sink.write(buf.subarray(0, n));
    }
    sink.end(more && done < size);
  } catch (e) {
    warn(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

type Dirent = { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean };

function kindOf(d: Dirent): FsEntryKind {
  return d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : 'other';
}

/** The directory's filesystem for catalogers that check an index file against it (lstat only). */
function probeOf(root: string): FsProbe {
  const abs = (rel: string) => (rel ? `${root === '/' ? '' : root}/${rel}` : root);
  return {
    lstat(rel) {
      try {
        const st = lstatSync(abs(rel), { throwIfNoEntry: false });
        return st ? { kind: kindOf(st), mtimeMs: st.mtimeMs } : undefined;
      } catch {
        return undefined;
      }
    },
    list(rel) {
      try {
        return readdirSync(abs(rel), { withFileTypes: true }).map((d) => ({ name: d.name, kind: kindOf(d) }));
      } catch {
        return undefined;
      }
    },
    read(rel, max) {
      let fd;
      try {
        fd = openSync(abs(rel), fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
      } catch {
        return undefined;
      }
      try {
        const st = fstatSync(fd);
        return st.isFile() && st.size <= max ? fdAccess(fd, st.size).read(0, st.size) : undefined;
      } catch {
        return undefined;
      } finally {
        closeSync(fd);
      }
    },
  };
}

export interface DirectoryOptions {
  /** Name of the root package in the SBOM (default: the directory's name). */
  display?: string;
  /**
   * List every directory, even subtrees a cataloger has described from an index file it checked
   * against the disk (npm's hidden lockfile for node_modules). Slower; for audits and tests.
   */
  fullWalk?: boolean;
}

export function directoryTarget(dir: string, opts: DirectoryOptions = {}): ScanTarget {
  const { display, fullWalk = false } = opts;
  const root = resolve(dir);
  const info: SourceInfo = { kind: 'directory', name: display ?? basename(root), location: dir };
  return {
    info,
    awaitsFileSinks: true,
    async walk(view: ViewBuilder, progress: ProgressSink): Promise<void> {
      let st;
      try {
        st = lstatSync(root);
      } catch (e) {
        throw new SigilError('INPUT_UNREADABLE', `cannot read directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
          hint: 'check the path and its permissions',
        });
      }
      if (!st.isDirectory()) throw new SigilError('INPUT_UNREADABLE', `${dir} is not a directory`);
      view.beginLayer(0);
      const probe = fullWalk ? undefined : probeOf(root);
      if (probe) view.useFilesystem(probe);
      progress.expect(0, 'files'); // the total is unknown until the walk ends: count files
      const fileWarn = (rel: string) => (m: string) => warn(view, rel, m);
      const stack: string[] = [''];
      while (stack.length) {
        const rel = stack.pop()!;
        const abs = rel ? `${root === '/' ? '' : root}/${rel}` : root;
        let names;
        try {
          names = readdirSync(abs, { withFileTypes: true });
        } catch (e) {
          warn(view, rel, `cannot list directory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
          continue;
        }
        names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        const subdirs: string[] = [];
        for (const d of names) {
          const childRel = rel ? `${rel}/${d.name}` : d.name;
          const childAbs = `${abs}/${d.name}`; // readdir names have no "/": no normalization needed
          if (d.isDirectory()) {
            view.entry({ name: childRel, kind: 'dir', size: 0, mode: 0o755, normalized: true });
            subdirs.push(childRel);
          } else if (d.isSymbolicLink()) {
            try {
              view.entry({ name: childRel, kind: 'symlink', size: 0, mode: 0o777, linkTarget: readlinkSync(childAbs), normalized: true });
            } catch (e) {
              warn(view, childRel, `cannot read symlink: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
            }
          } else if (d.isFile()) {
            progress.advance(1);
            const stat = () => {
              try {
                const st = lstatSync(childAbs);
                return { size: st.size, mode: st.mode };
              } catch (e) {
                warn(view, childRel, `cannot stat: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
                return { size: 0, mode: 0 };
              }
            };
            const loading = feedFile(view, childAbs, childRel, stat, fileWarn(childRel));
            if (loading) await loading;
          }
        }
        // Asked only now: a file of this listing (e.g. node_modules/.package-lock.json) may have
        // let a cataloger claim the subdirectories listed before it.
        for (let i = subdirs.length - 1; i >= 0; i--) {
          const next = view.descend(subdirs[i]!);
          for (let j = next.length - 1; j >= 0; j--) {
            const n = next[j]!;
            // A claim names directories from an index file: walk only real ones, never through links.
            if (n === subdirs[i] || probe?.lstat(n)?.kind === 'dir') stack.push(n);
          }
        }
      }
    },
  };
}

function warn(view: ViewBuilder, rel: string, message: string): void {
  view.addWarning(rel, message);
}
