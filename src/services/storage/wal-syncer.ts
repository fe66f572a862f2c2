/**
 * Durability for a SQLite writer that commits with synchronous=NORMAL: COMMIT returns once the
 * WAL frames are written (not flushed), and this flushes the WAL file with fdatasync on libuv's
 * thread pool, off the caller's event loop. Every commit that finished before an fdatasync
 * started is on disk when it returns (the WAL is one file; a checkpoint flushes it first too).
 *
 * One fdatasync runs at a time; commits that finish meanwhile wait for the next one, which then
 * covers all of them (group commit of the flush itself). A failed fdatasync leaves the disk state
 * unknown ("fsyncgate"): every waiter and every later call is refused; reopen the store.
 */
import { fdatasync as fsFdatasync, openSync, closeSync } from 'node:fs';
import { SigilError } from '../../core/errors.js';

export type FdatasyncFn = (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void;

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class WalSyncer {
  readonly #walPath: string;
  readonly #fdatasync: FdatasyncFn;
  #fd: number | undefined;
  #running = false;
  /** Waiters whose commits finished before the next fdatasync starts. */
  #next: Waiter[] = [];
  #failed: Error | undefined;
  #idle: (() => void)[] = [];

  constructor(walPath: string, fdatasync: FdatasyncFn = fsFdatasync) {
    this.#walPath = walPath;
    this.#fdatasync = fdatasync;
  }

  /** Set once a flush has failed: committing more would only add to what is lost. */
  get failure(): Error | undefined {
    return this.#failed;
  }

  /** Resolves once everything committed before this call is on disk. */
  flush(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise<void>((resolve, reject) => {
      this.#next.push({ resolve, reject });
      if (!this.#running) this.#start();
    });
  }

  #start(): void {
    const batch = this.#next;
    this.#next = [];
    try {
      // The WAL exists once the first transaction has committed, which precedes any flush.
      this.#fd ??= openSync(this.#walPath, 'r+');
    } catch (e) {
      this.#fail(new SigilError('STORAGE', `cannot open the SQLite WAL ${this.#walPath} to flush it: ${(e as Error).message}`), batch);
      return;
    }
    this.#running = true;
    this.#fdatasync(this.#fd, (err) => {
      this.#running = false;
      if (err) {
        this.#fail(new SigilError('STORAGE', `flushing the SQLite WAL to disk failed (${err.code ?? err.message}); what is on disk is unknown`, { hint: 'check the disk, then restart the log' }), batch);
        return;
      }
      for (const w of batch) w.resolve();
      if (this.#next.length > 0) this.#start();
      else for (const f of this.#idle.splice(0)) f();
    });
  }

  #fail(e: Error, batch: Waiter[]): void {
    this.#failed = e;
    for (const w of [...batch, ...this.#next.splice(0)]) w.reject(e);
    for (const f of this.#idle.splice(0)) f();
  }

  /** Waits for the flush in progress, then closes the WAL file descriptor. */
  async close(): Promise<void> {
    if (this.#running || this.#next.length > 0) await new Promise<void>((r) => this.#idle.push(r));
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
