/**
 * Durability for a SQLite writer that commits with synchronous=NORMAL: COMMIT returns once the
 * WAL frames are written (not flushed), and this flushes the WAL file with fdatasync. Every
 * commit that finished before an fdatasync started is on disk when it returns (the WAL is one
 * file; a checkpoint flushes it first too). SQLite's own synchronous=FULL would flush with fsync
 * (better-sqlite3 builds it without HAVE_FDATASYNC), which also writes the file's times.
 *
 * Where the fdatasync runs:
 * - `caller` (default): on the calling thread, right after the commit. It blocks the event loop
 *   for the flush (0.1–0.5 ms here), but the batch is answered at once; handing the flush to
 *   libuv's pool cost a thread wake-up and a turn of a busy event loop before the answers, and
 *   measured 4 % fewer entries/s (bench/README.md, log section).
 * - `pool`: on libuv's pool, one at a time; commits that finish meanwhile wait for the next
 *   fdatasync, which then covers all of them (group commit of the flush itself). The event loop
 *   never waits for the disk.
 *
 * A failed fdatasync leaves the disk state unknown ("fsyncgate"): every waiter and every later
 * call is refused; reopen the store.
 */
import { fdatasync as fsFdatasync, fdatasyncSync, openSync, closeSync } from 'node:fs';
import { SigilError } from '../../core/errors.js';

export type FdatasyncFn = (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void;
export type FdatasyncSyncFn = (fd: number) => void;

/** Where flushes run, and (for tests) the fdatasync they call. */
export type WalFlushMode = { on: 'caller'; fdatasync?: FdatasyncSyncFn } | { on: 'pool'; fdatasync?: FdatasyncFn };

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class WalSyncer {
  readonly #walPath: string;
  /** Exactly one of the two is set, by the mode. */
  readonly #onCaller: FdatasyncSyncFn | undefined;
  readonly #onPool: FdatasyncFn | undefined;
  #fd: number | undefined;
  #running = false;
  /** Waiters whose commits finished before the next fdatasync starts. */
  #next: Waiter[] = [];
  #failed: Error | undefined;
  #idle: (() => void)[] = [];

  constructor(walPath: string, mode: WalFlushMode = { on: 'caller' }) {
    this.#walPath = walPath;
    this.#onCaller = mode.on === 'caller' ? (mode.fdatasync ?? fdatasyncSync) : undefined;
    this.#onPool = mode.on === 'pool' ? (mode.fdatasync ?? fsFdatasync) : undefined;
  }

  /** Set once a flush has failed: committing more would only add to what is lost. */
  get failure(): Error | undefined {
    return this.#failed;
  }

  /** Resolves once everything committed before this call is on disk. */
  flush(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const onCaller = this.#onCaller;
    if (onCaller) return this.#flushHere(onCaller);
    return new Promise<void>((resolve, reject) => {
      this.#next.push({ resolve, reject });
      if (!this.#running) this.#start(this.#onPool!);
    });
  }

  #flushHere(fdatasync: FdatasyncSyncFn): Promise<void> {
    const fd = this.#open();
    if (typeof fd !== 'number') return Promise.reject(this.#fail(fd, []));
    try {
      fdatasync(fd);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(this.#fail(flushFailed(e as NodeJS.ErrnoException), []));
    }
  }

  /** The WAL's file descriptor, or the error to fail with if it cannot be opened. */
  #open(): number | SigilError {
    try {
      // The WAL exists once the first transaction has committed, which precedes any flush.
      this.#fd ??= openSync(this.#walPath, 'r+');
      return this.#fd;
    } catch (e) {
      return new SigilError('STORAGE', `cannot open the SQLite WAL ${this.#walPath} to flush it: ${(e as Error).message}`);
    }
  }

  #start(fdatasync: FdatasyncFn): void {
    const batch = this.#next;
    this.#next = [];
    const fd = this.#open();
    if (typeof fd !== 'number') {
      this.#fail(fd, batch);
      return;
    }
    this.#running = true;
    fdatasync(fd, (err) => {
      this.#running = false;
      if (err) {
        this.#fail(flushFailed(err), batch);
        return;
      }
      for (const w of batch) w.resolve();
      if (this.#next.length > 0) this.#start(fdatasync);
      else for (const f of this.#idle.splice(0)) f();
    });
  }

  #fail(e: Error, batch: Waiter[]): Error {
    this.#failed = e;
    for (const w of [...batch, ...this.#next.splice(0)]) w.reject(e);
    for (const f of this.#idle.splice(0)) f();
    return e;
  }

  /** Waits for the flush in progress, then closes the WAL file descriptor. */
  async close(): Promise<void> {
    if (this.#running || this.#next.length > 0) await new Promise<void>((r) => this.#idle.push(r));
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function flushFailed(err: NodeJS.ErrnoException): SigilError {
  return new SigilError('STORAGE', `flushing the SQLite WAL to disk failed (${err.code ?? err.message}); what is on disk is unknown`, { hint: 'check the disk, then restart the log' });
}
