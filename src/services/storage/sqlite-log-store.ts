/**
 * LogStore on SQLite (better-sqlite3, WAL). The embedded default.
 *
 * Durability: journal_mode=WAL with synchronous=FULL, so COMMIT returns only after the WAL is
 * fsynced (LIMITS.md §5: ~140 µs per durable commit; batching 100+ rows per commit gives ~90 k
 * rows/s). One transaction per batch holds the entries, their new tree nodes, the signed
 * checkpoint and the tree head, so a crash leaves all of a batch or none of it.
 *
 * Two connections: the writer (only appendBatch uses it, one batch at a time) and a reader. WAL
 * gives the reader the last committed snapshot, so while a batch is open — including while its
 * checkpoint is being signed — readers never see entries that are not durable yet.
 *
 * Several processes may open the same file: BEGIN IMMEDIATE serialises writers and each batch
 * re-reads the tree size, so sequencing stays correct; but SQLite blocks the waiting process, so
 * run one writer per file and use PostgreSQL to scale out.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SigilError, asSigilError } from '../../core/errors.js';
import type { NodeRef } from '../../merkle/build.js';
import { MerkleFrontier, type NewNode } from '../../merkle/frontier.js';
import type { AppendOutcome, AppendResult, LogStore, NewEntry, SealFn, StoredEntry, TreeHead } from './log-store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  idx INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL,
  body BLOB NOT NULL,
  kind TEXT NOT NULL,
  version TEXT NOT NULL,
  integrated_time INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS entries_leaf_hash ON entries(leaf_hash);
CREATE TABLE IF NOT EXISTS nodes (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tree (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL,
  root BLOB NOT NULL
);
`;

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
}

export class SqliteLogStore implements LogStore {
  readonly path: string;
  #w: Database.Database;
  #r: Database.Database;
  #frontier: MerkleFrontier | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #st: ReturnType<SqliteLogStore['prepare']>;

  private constructor(path: string, opts: SqliteLogStoreOptions) {
    this.path = resolve(path);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.#w = new Database(path);
      this.#w.pragma('journal_mode = WAL');
      this.#w.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
      this.#w.pragma('busy_timeout = 10000');
      this.#w.exec(SCHEMA);
      this.#r = new Database(path, { readonly: true, fileMustExist: true });
      this.#r.pragma('busy_timeout = 10000');
    } catch (e) {
      throw asSigilError(e, 'STORAGE', `cannot open SQLite log database ${path}`);
    }
    this.#st = this.prepare();
  }

  static open(path: string, opts: SqliteLogStoreOptions = {}): SqliteLogStore {
    if (path === ':memory:') {
      throw new SigilError('USAGE', 'an in-memory SQLite log cannot be shared between its writer and reader', {
        hint: 'give a file path (sqlite:/path/log.db)',
      });
    }
    return new SqliteLogStore(path, opts);
  }

  private prepare() {
    const w = this.#w;
    const r = this.#r;
    return {
      tree: w.prepare<[], { size: number; root: Buffer }>('SELECT size, root FROM tree WHERE id = 1'),
      setTree: w.prepare('INSERT INTO tree (id, size, root) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET size = excluded.size, root = excluded.root'),
      wLeafByHash: w.prepare<[Buffer], { idx: number; integrated_time: number }>('SELECT idx, integrated_time FROM entries WHERE leaf_hash = ?'),
      wNode: w.prepare<[number, number], { hash: Buffer }>('SELECT hash FROM nodes WHERE level = ? AND idx = ?'),
      wLeaf: w.prepare<[number], { leaf_hash: Buffer }>('SELECT leaf_hash FROM entries WHERE idx = ?'),
      insEntry: w.prepare('INSERT INTO entries (idx, leaf_hash, body, kind, version, integrated_time) VALUES (?, ?, ?, ?, ?, ?)'),
      insNode: w.prepare('INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)'),
      insCheckpoint: w.prepare('INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?)'),
      latest: r.prepare<[], { size: number; root: Buffer; note: string }>('SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1'),
      checkpointAt: r.prepare<[number], { size: number; root: Buffer; note: string }>('SELECT size, root, note FROM checkpoints WHERE size = ?'),
      checkpoints: r.prepare<[number, number, number], { size: number; root: Buffer; note: string }>(
        'SELECT size, root, note FROM checkpoints WHERE size >= ? AND size <= ? ORDER BY size LIMIT ?',
      ),
      node: r.prepare<[number, number], { hash: Buffer }>('SELECT hash FROM nodes WHERE level = ? AND idx = ?'),
      leaf: r.prepare<[number], { leaf_hash: Buffer }>('SELECT leaf_hash FROM entries WHERE idx = ?'),
      level: r.prepare<[number, number, number], { hash: Buffer }>('SELECT hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx'),
      leaves: r.prepare<[number, number], { leaf_hash: Buffer }>('SELECT leaf_hash FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx'),
      entries: r.prepare<[number, number], EntryRow>('SELECT idx, leaf_hash, body, kind, version, integrated_time FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx'),
      findLeaf: r.prepare<[Buffer], { idx: number }>('SELECT idx FROM entries WHERE leaf_hash = ?'),
    };
  }

  appendBatch(entries: readonly NewEntry[], seal: SealFn): Promise<AppendResult> {
    // One batch at a time per file in this process: a second BEGIN IMMEDIATE on the same file
    // would block the event loop (busy_timeout) while the first batch waits for its seal.
    const prev = WRITERS.get(this.path) ?? Promise.resolve();
    const run = prev.then(() => this.#append(entries, seal));
    const tail = run.catch(() => undefined);
    WRITERS.set(this.path, tail);
    this.#queue = tail;
    void tail.then(() => {
      if (WRITERS.get(this.path) === tail) WRITERS.delete(this.path);
    });
    return run;
  }

  async #append(entries: readonly NewEntry[], seal: SealFn): Promise<AppendResult> {
    this.#checkOpen();
    const st = this.#st;
    const w = this.#w;
    w.exec('BEGIN IMMEDIATE');
    let committed = false;
    try {
      const tree = st.tree.get();
      const size = tree?.size ?? 0;
      let frontier = this.#frontier;
      if (!frontier || frontier.size !== size) {
        // Another process appended (or first batch since open): rebuild from committed nodes.
        frontier = MerkleFrontier.fromStore(size, (level, index) => this.#wNode(level, index));
      }
      frontier = frontier.clone();
      const outcomes: AppendOutcome[] = [];
      const created: NewNode[] = [];
      const inBatch = new Map<string, AppendOutcome>();
      let next = size;
      for (const e of entries) {
        const key = e.leafHash.toString('binary');
        const seen = inBatch.get(key);
        if (seen) {
          outcomes.push({ ...seen, duplicate: true });
          continue;
        }
        const existing = st.wLeafByHash.get(e.leafHash);
        if (existing) {
          const o = { index: existing.idx, duplicate: true, integratedTime: existing.integrated_time };
          inBatch.set(key, o);
          outcomes.push(o);
          continue;
        }
        const index = next++;
        st.insEntry.run(index, e.leafHash, e.body, e.kind, e.version, e.integratedTime);
        for (const n of frontier.append(e.leafHash)) {
          created.push(n);
          if (n.level > 0) st.insNode.run(n.level, n.index, n.hash);
        }
        const o = { index, duplicate: false, integratedTime: e.integratedTime };
        inBatch.set(key, o);
        outcomes.push(o);
      }
      if (next === size) {
        w.exec('COMMIT');
        committed = true;
        return { outcomes, head: await this.latest(), nodes: [] };
      }
      const root = frontier.root();
      const note = await seal(next, root);
      st.insCheckpoint.run(next, root, note);
      st.setTree.run(next, root);
      w.exec('COMMIT');
      committed = true;
      this.#frontier = frontier;
      return { outcomes, head: { size: next, rootHash: root, checkpoint: note }, nodes: created };
    } catch (e) {
      this.#frontier = undefined;
      throw asSigilError(e, 'STORAGE', 'appending to the SQLite log failed');
    } finally {
      if (!committed && w.inTransaction) w.exec('ROLLBACK');
    }
  }

  #wNode(level: number, index: number): Buffer {
    const row = level === 0 ? this.#st.wLeaf.get(index) : this.#st.wNode.get(level, index);
    if (!row) throw new SigilError('STORAGE', `tree node ${level}/${index} is missing from the SQLite log`);
    return 'hash' in row ? row.hash : row.leaf_hash;
  }

  #checkOpen(): void {
    if (this.#closed) throw new SigilError('STORAGE', 'the SQLite log store is closed');
  }

  async latest(): Promise<TreeHead | undefined> {
    this.#checkOpen();
    const row = this.#st.latest.get();
    return row && { size: row.size, rootHash: row.root, checkpoint: row.note };
  }

  /** Synchronous form of latest() for the hot read path. */
  latestSync(): TreeHead | undefined {
    const row = this.#st.latest.get();
    return row && { size: row.size, rootHash: row.root, checkpoint: row.note };
  }

  async checkpointAt(size: number): Promise<TreeHead | undefined> {
    this.#checkOpen();
    const row = this.#st.checkpointAt.get(size);
    return row && { size: row.size, rootHash: row.root, checkpoint: row.note };
  }

  async checkpoints(from: number, to: number, limit: number): Promise<TreeHead[]> {
    this.#checkOpen();
    return this.#st.checkpoints.all(from, to, limit).map((r) => ({ size: r.size, rootHash: r.root, checkpoint: r.note }));
  }

  async readNodes(refs: readonly NodeRef[]): Promise<Buffer[]> {
    this.#checkOpen();
    return refs.map((n) => this.readNodeSync(n.level, n.index));
  }

  readNodeSync(level: number, index: number): Buffer {
    const row = level === 0 ? this.#st.leaf.get(index) : this.#st.node.get(level, index);
    if (!row) throw new SigilError('STORAGE', `tree node ${level}/${index} is not in the log`);
    return 'hash' in row ? row.hash : row.leaf_hash;
  }

  async readLevel(level: number, start: number, end: number): Promise<Buffer[]> {
    this.#checkOpen();
    const rows = level === 0 ? this.#st.leaves.all(start, end).map((r) => r.leaf_hash) : this.#st.level.all(level, start, end).map((r) => r.hash);
    return rows;
  }

  async readEntries(start: number, end: number): Promise<StoredEntry[]> {
    this.#checkOpen();
    return this.#st.entries.all(start, end).map((r) => ({
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
    return this.#st.findLeaf.get(leafHash)?.idx;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    this.#r.close();
    this.#w.close();
  }
}

