/**
 * WAL checkpoints off the writer's thread, for a SQLite log store with deferred sync.
 *
 * SQLite checkpoints automatically inside the COMMIT that pushes the WAL past 1,000 pages: that
 * commit copies ~4 MB into the database file and fsyncs it, a 10–30 ms stall of the thread that
 * also serves HTTP (measured with the event-loop delay monitor). Here the writer's automatic
 * checkpoints are turned off and a worker thread with its own connection runs
 * `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs` after new commits. PASSIVE never waits for
 * the writer or the readers; the writer restarts the WAL from its beginning once a checkpoint has
 * caught up, so the file stays small (13.6 MiB after 140,000 entries at 14k entries/s).
 *
 * Should checkpoints keep falling behind (the WAL past `restartAtFrames`), the thread runs a
 * RESTART checkpoint, which makes the writer wait a moment but bounds the file. Should the thread
 * fail, the writer's automatic checkpoints are turned back on: never an unbounded WAL.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The checkpoint thread, a classic script run with new Worker({ eval: true }). It is source text
 * rather than a module so that it starts in a few milliseconds without a TypeScript loader (tests
 * open many stores) and has nothing to import but the SQLite driver.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { path, intervalMs, restartAtFrames, commits, driver } = workerData;
const Database = require(driver);
const db = new Database(path, { fileMustExist: true });
let seen = Atomics.load(commits, 0);
function tick() {
  const now = Atomics.load(commits, 0);
  if (now === seen) return;
  seen = now;
  const [r] = db.pragma('wal_checkpoint(PASSIVE)');
  if (r && r.log > restartAtFrames) {
    // Waits (busy_timeout) for the writer and the readers, then lets the WAL start over.
    db.pragma('busy_timeout = 2000');
    db.pragma('wal_checkpoint(RESTART)');
    db.pragma('busy_timeout = 0');
  }
}
const timer = setInterval(() => {
  try {
    tick();
  } catch (e) {
    clearInterval(timer);
    parentPort.postMessage({ type: 'failed', message: e.message });
    db.close();
    parentPort.close();
  }
}, intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage({ type: 'ready' });
`;

export interface WalCheckpointerOptions {
  /** How often the thread looks for new commits (default 20 ms). */
  intervalMs?: number;
  /** WAL frames (pages) past which a RESTART checkpoint bounds the file (default 16,384: 64 MiB of 4 KiB pages). */
  restartAtFrames?: number;
  /** Called once if the thread fails or exits unexpectedly; the caller turns automatic checkpoints back on. */
  onFailure: (message: string) => void;
}

export class WalCheckpointer {
  readonly #worker: Worker;
  /** Commits since start, shared with the thread: counting one costs the writer no message. */
  readonly #commits = new Int32Array(new SharedArrayBuffer(4));
  #closing = false;
  #failed = false;
  #exited = false;
  readonly ready: Promise<void>;

  constructor(dbPath: string, opts: WalCheckpointerOptions) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { path: dbPath, intervalMs: opts.intervalMs ?? 20, restartAtFrames: opts.restartAtFrames ?? 16384, commits: this.#commits, driver },
    });
    // The thread must not keep a finished process alive; close() stops it when the store closes.
    this.#worker.unref();
    const fail = (message: string): void => {
      if (this.#closing || this.#failed) return;
      this.#failed = true;
      opts.onFailure(message);
    };
    this.ready = new Promise((resolve) => {
      this.#worker.on('message', (m: { type: string; message?: string }) => {
        if (m.type === 'ready') resolve();
        if (m.type === 'failed') fail(m.message ?? 'failed');
      });
      // A thread that dies before it is ready must not leave the caller waiting.
      this.#worker.once('exit', () => resolve());
    });
    this.#worker.on('error', (e) => fail(e.message));
    this.#worker.on('exit', (code) => {
      this.#exited = true;
      fail(`the checkpoint thread exited (code ${code})`);
    });
  }

  /** Counts a commit: the thread checkpoints at its next tick. */
  noteCommit(): void {
    Atomics.add(this.#commits, 0, 1);
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** Stops the thread (tests also use it to simulate a failure before calling close on the store). */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#exited) return;
    const exited = new Promise((r) => this.#worker.once('exit', r));
    // Waiting for the thread must keep the process alive until it has closed its connection.
    this.#worker.ref();
    this.#worker.postMessage('close');
    await exited;
  }
}
