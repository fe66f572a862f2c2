/**
 * Group commit: entries submitted while a batch is being committed wait and go into the next
 * batch together, so the cost of one durable commit and one checkpoint signature is shared by
 * everything that arrived meanwhile (tessera's batching). An idle log commits a lone entry at
 * once; `batchDelayMs` > 0 deliberately waits to grow batches under light load.
 *
 * Back-pressure: more than `maxPending` waiting entries → 503 (tessera's ErrPushback), and an
 * entry not committed within `integrationTimeoutMs` is answered 503 so the client retries; the
 * entry may still be committed, and the retry then finds it as a duplicate.
 */
import { HttpError } from '../http.js';
import type { AppendResult, NewEntry } from '../storage/log-store.js';

export interface SequencerOptions {
  /** Most entries per batch (default 4096). */
  maxBatch?: number;
  /** Wait this long for more entries before committing a batch (default 0). */
  batchDelayMs?: number;
  /** Most entries waiting for a batch before new ones are refused (default 65536). */
  maxPending?: number;
  /** Longest a request waits for its entry to be committed (default 1000 ms). */
  integrationTimeoutMs?: number;
  /**
   * Batches handed to the store before the first of them is answered (default 1: one commit at a
   * time). A store that queues and merges calls itself (LogStore.appendConcurrency) takes more.
   */
  pipelineDepth?: number;
  /**
   * Hand a batch over as soon as this many entries wait, instead of at the end of the event-loop
   * turn (default 16 with a pipeline deeper than 1, otherwise only at the end of the turn). A burst
   * of requests takes the HTTP thread milliseconds to parse; without this the store would sit idle
   * until the whole burst is read, then the HTTP thread idle while the store commits it.
   */
  flushAt?: number;
}

export interface Sequenced {
  result: AppendResult;
  /** Position of the entry in the batch (index into result.outcomes). */
  position: number;
}

interface Waiter {
  entry: NewEntry;
  /** When the entry is answered 503 if it is still not committed (performance.now() ms). */
  deadline: number;
  settled: boolean;
  resolve: (s: Sequenced) => void;
  reject: (e: unknown) => void;
}

export class Sequencer {
  readonly maxBatch: number;
  readonly batchDelayMs: number;
  readonly maxPending: number;
  readonly integrationTimeoutMs: number;
  readonly pipelineDepth: number;
  readonly flushAt: number;
  #pending: Waiter[] = [];
  /** Batches handed to the store and not answered yet. */
  #inflight = 0;
  #scheduled = false;
  /**
   * Unsettled waiters in submission order, for the integration timeout: one timer sweeps them
   * (its period is a tenth of the timeout) instead of one timer per entry, which showed in
   * profiles of the HTTP thread.
   */
  #watch: Waiter[] = [];
  #watchHead = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #commit: (entries: NewEntry[]) => Promise<AppendResult>;
  /** Sizes of committed batches, for the benchmark's report. */
  readonly stats = { batches: 0, entries: 0, maxBatch: 0 };

  constructor(commit: (entries: NewEntry[]) => Promise<AppendResult>, opts: SequencerOptions = {}) {
    this.#commit = commit;
    this.maxBatch = opts.maxBatch ?? 4096;
    this.batchDelayMs = opts.batchDelayMs ?? 0;
    this.maxPending = opts.maxPending ?? 65536;
    this.integrationTimeoutMs = opts.integrationTimeoutMs ?? 1000;
    this.pipelineDepth = Math.max(1, Math.floor(opts.pipelineDepth ?? 1));
    this.flushAt = Math.max(1, opts.flushAt ?? (this.pipelineDepth > 1 ? 16 : Infinity));
  }

  submit(entry: NewEntry): Promise<Sequenced> {
    if (this.#pending.length >= this.maxPending) {
      return Promise.reject(new HttpError(503, 'STORAGE', 'the log is busy: too many entries are waiting to be sequenced', 'retry in a moment'));
    }
    return new Promise<Sequenced>((resolve, reject) => {
      const w: Waiter = {
        entry,
        deadline: performance.now() + this.integrationTimeoutMs,
        settled: false,
        resolve: (s) => {
          if (w.settled) return;
          w.settled = true;
          resolve(s);
        },
        reject: (e) => {
          if (w.settled) return;
          w.settled = true;
          reject(e);
        },
      };
      this.#pending.push(w);
      this.#watch.push(w);
      this.#sweeper ??= setInterval(() => this.#sweep(), Math.max(1, Math.floor(this.integrationTimeoutMs / 10))).unref();
      if (this.#pending.length >= this.flushAt && this.batchDelayMs === 0) this.#pump();
      else this.#schedule();
    });
  }

  /** Answers 503 to every waiter past its deadline; stops when none is left to watch. */
  #sweep(): void {
    const now = performance.now();
    const watch = this.#watch;
    let i = this.#watchHead;
    // Deadlines grow in submission order: stop at the first waiter that still has time.
    for (; i < watch.length && (watch[i]!.settled || watch[i]!.deadline <= now); i++) {
      const w = watch[i]!;
      if (!w.settled) w.reject(new HttpError(503, 'STORAGE', `the entry was not integrated within ${this.integrationTimeoutMs} ms`, 'retry; if it was integrated meanwhile the log returns it'));
    }
    if (i === watch.length) {
      this.#watch = [];
      this.#watchHead = 0;
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    } else if (i > 1024 && i > watch.length / 2) {
      this.#watch = watch.slice(i);
      this.#watchHead = 0;
    } else {
      this.#watchHead = i;
    }
  }

  /**
   * Cuts the next batch after the current turn of the event loop (or after batchDelayMs), so that
   * every request parsed in this turn joins it.
   */
  #schedule(): void {
    if (this.#scheduled || this.#pending.length === 0 || this.#inflight >= this.pipelineDepth) return;
    this.#scheduled = true;
    const run = () => {
      this.#scheduled = false;
      this.#pump();
    };
    if (this.batchDelayMs > 0) setTimeout(run, this.batchDelayMs);
    else setImmediate(run);
  }

  #pump(): void {
    while (this.#pending.length > 0 && this.#inflight < this.pipelineDepth) {
      const batch = this.#pending.splice(0, this.maxBatch);
      this.#inflight++;
      this.#commit(batch.map((w) => w.entry)).then(
        (result) => {
          this.stats.batches++;
          this.stats.entries += batch.length;
          this.stats.maxBatch = Math.max(this.stats.maxBatch, batch.length);
          batch.forEach((w, position) => w.resolve({ result, position }));
        },
        (e: unknown) => {
          for (const w of batch) w.reject(e);
        },
      ).finally(() => {
        this.#inflight--;
        this.#schedule();
      });
    }
  }

  /** Resolves once nothing is waiting or being committed. */
  async drain(): Promise<void> {
    while (this.#inflight > 0 || this.#pending.length > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
