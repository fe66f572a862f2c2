/**
 * LogStore on SQLite (better-sqlite3, WAL). The embedded default.
 *
 * Durability, one of three ways; in each, appendBatch resolves only once its batch is on disk:
 * - default: journal_mode=WAL with synchronous=FULL, so COMMIT returns only after the WAL is
 *   fsynced (LIMITS.md §5: ~140 µs per durable commit), blocking the caller's thread meanwhile;
 * - `writerThread`: the same on a worker thread (sqlite-writer-worker.ts), which merges the calls
 *   that wait for it into one transaction;
 * - `deferredSync` (sigil log serve, sigil up): COMMIT with synchronous=NORMAL on the caller's
 *   thread, then an fdatasync of the WAL, by default right away on the same thread, optionally on
 *   libuv's pool (wal-syncer.ts); WAL checkpoints run on a thread of their own
 *   (wal-checkpointer.ts) rather than inside a commit.
 * One transaction per batch holds the entries, their new tree nodes, the signed checkpoint and
 * the tree head, so a crash leaves all of a batch or none of it.
 *
 * Two connections: the writer (only appendBatch uses it, one batch at a time; see
 * sqlite-appender.ts) and a reader. WAL gives the reader the last committed snapshot, so while a
 * batch is open — including while its checkpoint is being signed — readers never see its
 * entries; with deferredSync the reader is also held to the flushed tree size.
 *
 * Several processes may open the same file: BEGIN IMMEDIATE serialises writers and each batch
 * re-reads the tree size, so sequencing stays correct; but SQLite blocks the waiting process, so
 * run one writer per file and use PostgreSQL to scale out.
 */
import Database from 'better-sqlite3';
import { resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { SigilError } from '../../core/errors.js';
import type { NodeRef } from '../../merkle/build.js';
import type { AppendResult, LogStore, NewEntry, SealFn, StoredEntry, TreeHead } from './log-store.js';
import { SqliteAppender, nodeKey } from './sqlite-appender.js';
import { decodeResult, encodeEntries } from './append-wire.js';
import { WalSyncer, type WalFlushMode } from './wal-syncer.js';
import { WalCheckpointer, type WalCheckpointerOptions } from './wal-checkpointer.js';
import { spawnWorker } from '../spawn-worker.js';

/** Tail of the batch queue of each database file open in this process. */
const WRITERS = new Map<string, Promise<unknown>>();

interface EntryRow {
  idx: number;
  leaf_hash: Buffer;
  body: Buffer;
  kind: string;
  version: string;
  integrated_time: number;
}

export interface SqliteLogStoreOptions {
  /** synchronous=FULL (default, durable) or NORMAL (faster; a power loss may drop the last commits). */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * Run the writer connection on a worker thread, so the fsync of every durable commit does not
   * block the caller's event loop; the thread merges the calls waiting for it. Default false.
   */
  writerThread?: boolean;
  /** See SqliteAppenderOptions.leafIndexMergeAt. */
  leafIndexMergeAt?: number;
  /**
   * Commit on the caller's thread with synchronous=NORMAL and flush the WAL with fdatasync before
   * an append resolves (wal-syncer.ts; `flush` says where). Readers of this store see only flushed
   * state, so a checkpoint is never published before it is on disk. Made for one writer process
   * per file (what `sigil log serve` is); not combined with writerThread.
   */
  deferredSync?: boolean;
  /** With deferredSync: where the fdatasync runs (default on the caller's thread; tests also replace it). */
  flush?: WalFlushMode;
  /**
   * With deferredSync, WAL checkpoints run on a thread of their own (wal-checkpointer.ts) instead
   * of inside the writer's commits; false keeps SQLite's automatic checkpoints. Default on.
   */
  backgroundCheckpoints?: boolean | Omit<WalCheckpointerOptions, 'onFailure'>;
}

/** appendBatch through the writer worker (see sqlite-writer-worker.ts for the protocol). */
class WorkerAppender {
  #worker: Worker;
  #ready: Promise<void>;
  #next = 1;
  #pending = new Map<number, { seal: SealFn; resolve: (r: AppendResult) => void; reject: (e: unknown) => void }>();
  /** Sealer numbers by seal function; the worker merges queued calls only when they share one. */
  #sealers = new WeakMap<SealFn, number>();
  #nextSealer = 1;

  constructor(path: string, opts: SqliteLogStoreOptions) {
    this.#worker = spawnWorker(import.meta.url, 'sqlite-writer-worker', { path, opts: { synchronous: opts.synchronous, leafIndexMergeAt: opts.leafIndexMergeAt } });
    this.#ready = new Promise((ok, fail) => {
      this.#worker.once('message', (m: { type: string; message?: string }) => (m.type === 'ready' ? ok() : fail(new SigilError('STORAGE', `SQLite writer thread: ${m.message ?? 'failed'}`))));
      this.#worker.once('error', (e) => fail(new SigilError('STORAGE', `SQLite writer thread: ${e.message}`)));
    });
    this.#worker.on('error', (e) => {
      for (const p of this.#pending.values()) p.reject(new SigilError('STORAGE', `SQLite writer thread died: ${e.message}`));
      this.#pending.clear();
    });
    this.#worker.on('message', (m: WorkerReply) => this.#onMessage(m));
  }

  #onMessage(m: WorkerReply): void {
    if (m.type === 'seal') {
      const p = this.#pending.get(m.id);
      if (!p) return;
      p.seal(m.size, Buffer.from(m.root)).then(
        (note) => this.#worker.postMessage({ type: 'sealed', id: m.id, note }),
        (e: unknown) => this.#worker.postMessage({ type: 'sealFailed', id: m.id, message: (e as Error).message }),
      );
      return;
    }
    if (m.type !== 'done' && m.type !== 'failed') return;
    const calls = m.ids.map((id) => {
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      return p;
    });
    if (m.type === 'failed') {
      for (const p of calls) p?.reject(new SigilError('STORAGE', m.message || 'appending to the SQLite log failed'));
      return;
    }
    const { outcomes, nodes } = decodeResult(m.result);
    const head = m.head && { size: m.head.size, rootHash: Buffer.from(m.head.rootHash.buffer, m.head.rootHash.byteOffset, m.head.rootHash.byteLength), checkpoint: m.head.checkpoint };
    let offset = 0;
    calls.forEach((p, i) => {
      const count = m.counts[i]!;
      p?.resolve({ outcomes: calls.length === 1 ? outcomes : outcomes.slice(offset, offset + count), head, nodes });
      offset += count;
    });
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  #sealerFor(seal: SealFn): number {
    let n = this.#sealers.get(seal);
    if (n === undefined) {
      n = this.#nextSealer++;
      this.#sealers.set(seal, n);
      // KeyObjects cross to worker threads by structured clone; the key stays in this process.
      if (seal.inMemory) this.#worker.postMessage({ type: 'sealer', sealer: n, origin: seal.inMemory.origin, privateKey: seal.inMemory.privateKey });
    }
    return n;
  }

  async append(entries: readonly NewEntry[], seal: SealFn): Promise<AppendResult> {
    await this.#ready;
    const id = this.#next++;
    const sealer = this.#sealerFor(seal);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { seal, resolve, reject });
      const packed = encodeEntries(entries);
      this.#worker.postMessage({ type: 'append', id, sealer, entries: packed }, [packed]);
    });
  }

  async close(): Promise<void> {
    await this.#ready.catch(() => undefined);
    this.#worker.postMessage({ type: 'close' });
    await new Promise((r) => this.#worker.once('exit', r));
  }
}

type WorkerReply =
  | { type: 'ready' | 'fatal'; message?: string }
  | { type: 'seal'; id: number; size: number; root: Uint8Array }
  | { type: 'done'; ids: number[]; counts: number[]; result: ArrayBuffer; head?: { size: number; rootHash: Uint8Array; checkpoint: string } }
  | { type: 'failed'; ids: number[]; code: string; message: string };

export class SqliteLogStore implements LogStore {
  readonly path: string;
  #appender: SqliteAppender | WorkerAppender;
  #r: Database.Database;
  #queue: Promise<unknown> = Promise.resolve();
  /** Calls handed to the writer thread and not answered yet (close waits for them). */
  #inflight = new Set<Promise<void>>();
  #closed = false;
  /** With deferredSync: flushes the WAL; #committed / #durable are the tree sizes this process committed / knows flushed. */
  #syncer: WalSyncer | undefined;
  #checkpointer: WalCheckpointer | undefined;
  #committed = 0;
  #durable = 0;
  #st;

  private constructor(path: string, opts: SqliteLogStoreOptions) {
    this.path = resolve(path);
    if (opts.deferredSync && opts.writerThread) {
      throw new SigilError('USAGE', 'a SQLite log store takes deferredSync or writerThread, not both', { hint: 'use one of the two: deferredSync for a server, writerThread to keep every fsync off the calling thread' });
    }
    // The in-thread appender creates the file and schema before the reader opens it; the worker
    // appender does the same in its thread, so a first reader is opened only after it is ready.
    this.#appender = new SqliteAppender(
      this.path,
      opts.deferredSync ? { ...opts, synchronous: 'NORMAL', onCommit: (before, after) => this.#onCommit(before, after) } : opts,
    );
    if (opts.deferredSync) this.#syncer = new WalSyncer(`${this.path}-wal`, opts.flush);
    if (opts.deferredSync && opts.backgroundCheckpoints !== false) this.#startCheckpointer(opts.backgroundCheckpoints === true ? {} : (opts.backgroundCheckpoints ?? {}));
    if (opts.writerThread) {
      this.#appender.close();
      this.#appender = new WorkerAppender(this.path, opts);
    }
    try {
      this.#r = new Database(this.path, { readonly: true, fileMustExist: true });
      this.#r.pragma('busy_timeout = 10000');
    } catch (e) {
      throw new SigilError('STORAGE', `cannot open SQLite log database ${path} for reading: ${(e as Error).message}`);
    }
    const r = this.#r;
    this.#st = {
      latest: r.prepare<[number], { size: number; root: Buffer; note: string }>('SELECT size, root, note FROM checkpoints WHERE size <= ? ORDER BY size DESC LIMIT 1'),
      checkpointAt: r.prepare<[number], { size: number; root: Buffer; note: string }>('SELECT size, root, note FROM checkpoints WHERE size = ?'),
      checkpoints: r.prepare<[number, number, number], { size: number; root: Buffer; note: string }>(
        'SELECT size, root, note FROM checkpoints WHERE size >= ? AND size <= ? ORDER BY size LIMIT ?',
      ),
      node: r.prepare<[number], { hash: Buffer }>('SELECT hash FROM tree_nodes WHERE k = ?'),
      leaf: r.prepare<[number], { leaf_hash: Buffer }>('SELECT leaf_hash FROM entries WHERE idx = ?'),
      leaves: r.prepare<[number, number], { leaf_hash: Buffer }>('SELECT leaf_hash FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx'),
      entries: r.prepare<[number, number], EntryRow>('SELECT idx, leaf_hash, body, kind, version, integrated_time FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx'),
      // The index and, from the same snapshot, the tree size and where the unindexed tail starts.
      findIndexed: r.prepare<[Buffer], { idx: number | null; size: number; indexed: number }>(
        'SELECT (SELECT idx FROM leaf_index WHERE leaf_hash = ?) AS idx, size, indexed FROM tree WHERE id = 1',
      ),
      scanTail: r.prepare<[number, Buffer], { idx: number }>('SELECT idx FROM entries WHERE idx >= ? AND leaf_hash = ?'),
    };
    // Everything committed before this store opened is on disk (or recovered from it).
    this.#committed = this.#durable = this.#st.latest.get(Number.MAX_SAFE_INTEGER)?.size ?? 0;
  }

  /**
   * With a writer thread, every batch can be handed over at once: the thread queues and merges
   * them. Otherwise one at a time: with deferredSync, entries that arrive during a commit and its
   * flush gather into the next batch, and larger batches measured faster than committing a second
   * batch during the flush (12.6 k vs 11.8 k entries/s, bench/README.md).
   */
  get appendConcurrency(): number {
    return this.#appender instanceof WorkerAppender ? 64 : 1;
  }

  #startCheckpointer(opts: Omit<WalCheckpointerOptions, 'onFailure'>): void {
    const appender = this.#appender as SqliteAppender;
    appender.autoCheckpoint(0);
    this.#checkpointer = new WalCheckpointer(this.path, {
      ...opts,
      onFailure: (message) => {
        if (this.#closed) return;
        // Back to checkpoints inside commits: slower, but the WAL stays bounded.
        appender.autoCheckpoint(1000);
        process.emitWarning(`sigil: the SQLite checkpoint thread of ${this.path} failed (${message}); checkpoints run in the writer again`);
      },
    });
  }

  /** The checkpoint thread, when this store runs one (tests). */
  get checkpointer(): WalCheckpointer | undefined {
    return this.#checkpointer;
  }

  #onCommit(before: number, after: number): void {
    this.#checkpointer?.noteCommit();
    // With nothing of ours waiting for a flush, readers saw every committed size up to `before`
    // (the tree this transaction grew): keep showing them that much, never less.
    if (this.#committed <= this.#durable) this.#durable = Math.max(this.#durable, before);
    this.#committed = Math.max(this.#committed, after);
  }

  /** Largest tree size readers may see: with commits of this process not flushed yet, the flushed size. */
  get #visible(): number {
    return this.#committed > this.#durable ? this.#durable : Number.MAX_SAFE_INTEGER;
  }

  /** Resolves once the writer is ready (at once in-thread; when its worker has opened the database otherwise). */
  async ready(): Promise<void> {
    if (this.#appender instanceof WorkerAppender) await this.#appender.ready();
  }

  static open(path: string, opts: SqliteLogStoreOptions = {}): SqliteLogStore {
    if (path === ':memory:') {
      throw new SigilError('USAGE', 'an in-memory SQLite log cannot be shared between its writer and reader', {
        hint: 'give a file path (sqlite:/path/log.db)',
      });
    }
    return new SqliteLogStore(path, opts);
  }

  appendBatch(entries: readonly NewEntry[], seal: SealFn): Promise<AppendResult> {
    if (this.#appender instanceof WorkerAppender) {
      // The writer thread queues calls itself and commits them in order (merged when they wait together).
      this.#checkOpen();
      const run = this.#appender.append(entries, seal).then((r) => this.#withHead(r));
      const settled = run.then(
        () => undefined,
        () => undefined,
      );
      this.#inflight.add(settled);
      void settled.then(() => this.#inflight.delete(settled));
      return run;
    }
    // One batch at a time per file in this process: a second BEGIN IMMEDIATE on the same file
    // would block the event loop (busy_timeout) while the first batch waits for its seal.
    const prev = WRITERS.get(this.path) ?? Promise.resolve();
    const committed = prev.then(() => {
      this.#checkOpen();
      if (this.#syncer?.failure) throw this.#syncer.failure;
      return this.#appender.append(entries, seal);
    });
    // The next batch may commit as soon as this one has (its flush, if any, runs meanwhile).
    const tail = committed.catch(() => undefined);
    WRITERS.set(this.path, tail);
    const run = committed.then(async (r) => {
      if (this.#syncer) {
        // Every commit so far, including the ones holding this batch's duplicates, is flushed after this.
        const target = this.#committed;
        await this.#syncer.flush();
        this.#durable = Math.max(this.#durable, target);
      }
      return this.#withHead(r);
    });
    this.#queue = run.catch(() => undefined);
    void tail.then(() => {
      if (WRITERS.get(this.path) === tail) WRITERS.delete(this.path);
    });
    return run;
  }

  /** A batch of only duplicates sealed nothing: its head is the newest committed one. */
  async #withHead(r: AppendResult): Promise<AppendResult> {
    return r.head ? r : { ...r, head: await this.latest() };
  }

  #checkOpen(): void {
    if (this.#closed) throw new SigilError('STORAGE', 'the SQLite log store is closed');
  }

  async latest(): Promise<TreeHead | undefined> {
    this.#checkOpen();
    const row = this.#st.latest.get(this.#visible);
    return row && { size: row.size, rootHash: row.root, checkpoint: row.note };
  }

  async checkpointAt(size: number): Promise<TreeHead | undefined> {
    this.#checkOpen();
    if (size > this.#visible) return undefined;
    const row = this.#st.checkpointAt.get(size);
    return row && { size: row.size, rootHash: row.root, checkpoint: row.note };
  }

  async checkpoints(from: number, to: number, limit: number): Promise<TreeHead[]> {
    this.#checkOpen();
    return this.#st.checkpoints.all(from, Math.min(to, this.#visible), limit).map((r) => ({ size: r.size, rootHash: r.root, checkpoint: r.note }));
  }

  async readNodes(refs: readonly NodeRef[]): Promise<Buffer[]> {
    this.#checkOpen();
    return refs.map((n) => {
      const row = n.level === 0 ? this.#st.leaf.get(n.index) : this.#st.node.get(nodeKey(n.level, n.index));
      if (!row) throw new SigilError('STORAGE', `tree node ${n.level}/${n.index} is not in the log`);
      return 'hash' in row ? row.hash : row.leaf_hash;
    });
  }

  async readLevel(level: number, start: number, end: number): Promise<Buffer[]> {
    this.#checkOpen();
    if (level === 0) return this.#st.leaves.all(start, end).map((r) => r.leaf_hash);
    // Nodes of one level are not adjacent in tree_nodes (keyed by creation order): look each up.
    const out: Buffer[] = [];
    for (let i = start; i < end; i++) {
      const row = this.#st.node.get(nodeKey(level, i));
      if (!row) break;
      out.push(row.hash);
    }
    return out;
  }

  async readEntries(start: number, end: number): Promise<StoredEntry[]> {
    this.#checkOpen();
    return this.#st.entries.all(start, Math.min(end, this.#visible)).map((r) => ({
      index: r.idx,
      leafHash: r.leaf_hash,
      body: r.body,
      kind: r.kind,
      version: r.version,
      integratedTime: r.integrated_time,
    }));
  }

  async findLeaf(leafHash: Buffer): Promise<number | undefined> {
    this.#checkOpen();
    const row = this.#st.findIndexed.get(leafHash);
    if (!row) return undefined;
    let idx = row.idx ?? undefined;
    if (idx === undefined && row.size > row.indexed) {
      // The writer on this thread holds the unindexed tail in memory; scanning it costs ~0.35 ms
      // when it is full (8,191 rows), which a stream of lookups for unknown hashes would multiply.
      const fromTail = this.#appender instanceof SqliteAppender ? this.#appender.tailLookup(leafHash, row.size) : null;
      idx = fromTail === null ? this.#st.scanTail.get(row.indexed, leafHash)?.idx : fromTail;
    }
    return idx !== undefined && idx < row.size && idx < this.#visible ? idx : undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    await Promise.all(this.#inflight);
    this.#closed = true;
    await this.#syncer?.close();
    await this.#checkpointer?.close();
    this.#r.close();
    await this.#appender.close();
  }
}
