/**
 * The write side of the SQLite log store: one connection that sequences batches (see LogStore's
 * contract). It runs either on the caller's thread or inside sqlite-writer-worker.ts, so that the
 * fsync of each durable COMMIT (synchronous=FULL) does not stall an HTTP server's event loop.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SigilError, asSigilError } from '../../core/errors.js';
import { MerkleFrontier, type NewNode } from '../../merkle/frontier.js';
import type { AppendOutcome, AppendResult, NewEntry, SealFn } from './log-store.js';

/**
 * Schema version 2 (PRAGMA user_version). Every table the hot path writes is keyed so that a
 * batch lands at the end of its B-tree: a commit then writes a handful of WAL pages, not one
 * random page per entry (measured in bench/README.md, log section).
 * - entries: by index.
 * - tree_nodes: the perfect nodes above the leaves (level ≥ 1; level 0 is entries.leaf_hash),
 *   keyed by nodeKey(): in the order the frontier creates them.
 * - leaf_index: leaf hash → index for the entries below tree.indexed. The newer ones ("the
 *   tail", fewer than LEAF_INDEX_MERGE_AT) are found by the writer in memory and by readers with a
 *   scan of entries from tree.indexed; the writer merges the tail in sorted order, in the same
 *   transaction as a batch, once it is large enough.
 */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  idx INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL,
  body BLOB NOT NULL,
  kind TEXT NOT NULL,
  version TEXT NOT NULL,
  integrated_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tree_nodes (
  k INTEGER PRIMARY KEY,
  hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS leaf_index (
  leaf_hash BLOB PRIMARY KEY,
  idx INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tree (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  indexed INTEGER NOT NULL DEFAULT 0
);
`;

export const SQLITE_SCHEMA_VERSION = 2;

/** How many unindexed entries the writer keeps in memory before merging them into leaf_index. */
export const LEAF_INDEX_MERGE_AT = 8192;

/**
 * Row key of the perfect node (level ≥ 1, index): the node is completed by leaf
 * (index+1)·2^level − 1, so keys grow in the order nodes are created. Exact up to 2^47 leaves.
 */
export function nodeKey(level: number, index: number): number {
  return ((index + 1) * 2 ** level - 1) * 64 + level;
}

/** SQL for nodeKey over columns `level` and `idx` (the version-1 schema's node table). */
const NODE_KEY_SQL = '((idx + 1) * (1 << level) - 1) * 64 + level';

/**
 * Brings a version-1 database (unique index on entries.leaf_hash, nodes keyed by level and
 * index) to version 2, in one transaction: nothing changes unless all of it does.
 */
function migrate(w: Database.Database): void {
  const version = w.pragma('user_version', { simple: true }) as number;
  if (version === SQLITE_SCHEMA_VERSION) return;
  if (version > SQLITE_SCHEMA_VERSION) {
    throw new SigilError('STORAGE', `the SQLite log has schema version ${version}; this sigil knows up to ${SQLITE_SCHEMA_VERSION}`, { hint: 'upgrade sigil' });
  }
  const has = (table: string): boolean => w.prepare('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get('table', table) !== undefined;
  w.transaction(() => {
    if (has('nodes')) {
      w.exec(`CREATE TABLE IF NOT EXISTS tree_nodes (k INTEGER PRIMARY KEY, hash BLOB NOT NULL);
        INSERT INTO tree_nodes (k, hash) SELECT ${NODE_KEY_SQL}, hash FROM nodes ORDER BY 1;
        DROP TABLE nodes;
        DROP INDEX IF EXISTS entries_leaf_hash;
        CREATE TABLE IF NOT EXISTS leaf_index (leaf_hash BLOB PRIMARY KEY, idx INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO leaf_index (leaf_hash, idx) SELECT leaf_hash, idx FROM entries ORDER BY leaf_hash;
        ALTER TABLE tree ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;
        UPDATE tree SET indexed = size;`);
    }
    w.exec(SQLITE_SCHEMA);
    w.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  })();
}

export interface SqliteAppenderOptions {
  /** synchronous=FULL (default, durable) or NORMAL (faster; a power loss may drop the last commits). */
  synchronous?: 'FULL' | 'NORMAL';
  /** Merge the unindexed tail into leaf_index once it holds this many entries (default LEAF_INDEX_MERGE_AT; tests use small values). */
  leafIndexMergeAt?: number;
  /** Called right after each COMMIT that grew the tree (before any other code runs), with the sizes before and after it. */
  onCommit?: (before: number, after: number) => void;
}

export class SqliteAppender {
  #w: Database.Database;
  #frontier: MerkleFrontier | undefined;
  /**
   * Leaf hashes (as latin1 strings) → index of the committed entries not yet in leaf_index, valid
   * for the tree size of #frontier; dropped with it whenever that may be stale.
   */
  #tail: Map<string, number> | undefined;
  readonly #mergeAt: number;
  readonly #onCommit: ((before: number, after: number) => void) | undefined;
  /** Between BEGIN and COMMIT/ROLLBACK (append awaits its seal in between). */
  #inTransaction = false;
  #st;

  constructor(path: string, opts: SqliteAppenderOptions = {}) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.#w = new Database(path);
      this.#w.pragma('journal_mode = WAL');
      this.#w.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
      this.#w.pragma('busy_timeout = 10000');
      // 64 MiB page cache: leaf_index lookups and merges touch random pages; keep them in memory.
      this.#w.pragma('cache_size = -65536');
      migrate(this.#w);
    } catch (e) {
      throw asSigilError(e, 'STORAGE', `cannot open SQLite log database ${path}`);
    }
    this.#mergeAt = opts.leafIndexMergeAt ?? LEAF_INDEX_MERGE_AT;
    this.#onCommit = opts.onCommit;
    const w = this.#w;
    this.#st = {
      tree: w.prepare<[], { size: number; root: Buffer; indexed: number }>('SELECT size, root, indexed FROM tree WHERE id = 1'),
      setTree: w.prepare('INSERT INTO tree (id, size, root, indexed) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET size = excluded.size, root = excluded.root, indexed = excluded.indexed'),
      indexed: w.prepare<[Buffer], { idx: number }>('SELECT idx FROM leaf_index WHERE leaf_hash = ?'),
      tail: w.prepare<[number], { idx: number; leaf_hash: Buffer }>('SELECT idx, leaf_hash FROM entries WHERE idx >= ? ORDER BY idx'),
      integratedTime: w.prepare<[number], { integrated_time: number }>('SELECT integrated_time FROM entries WHERE idx = ?'),
      node: w.prepare<[number], { hash: Buffer }>('SELECT hash FROM tree_nodes WHERE k = ?'),
      leaf: w.prepare<[number], { leaf_hash: Buffer }>('SELECT leaf_hash FROM entries WHERE idx = ?'),
      insEntry: w.prepare('INSERT INTO entries (idx, leaf_hash, body, kind, version, integrated_time) VALUES (?, ?, ?, ?, ?, ?)'),
      insNode: w.prepare('INSERT INTO tree_nodes (k, hash) VALUES (?, ?)'),
      insIndex: w.prepare('INSERT INTO leaf_index (leaf_hash, idx) VALUES (?, ?)'),
      insCheckpoint: w.prepare('INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?)'),
    };
  }

  #node(level: number, index: number): Buffer {
    const row = level === 0 ? this.#st.leaf.get(index) : this.#st.node.get(nodeKey(level, index));
    if (!row) throw new SigilError('STORAGE', `tree node ${level}/${index} is missing from the SQLite log`);
    return 'hash' in row ? row.hash : row.leaf_hash;
  }

  /**
   * Index of a committed entry in the in-memory tail, undefined when it is not there, or null
   * when the tail is not known to describe the tree of `size` (a transaction is open, or another
   * process appended since this appender's last commit): readers then scan instead.
   */
  tailLookup(leafHash: Buffer, size: number): number | undefined | null {
    if (this.#inTransaction) return null;
    if (!this.#tail || this.#frontier?.size !== size) {
      // Not loaded yet (no append since open): load it as the next append would, if the caller's
      // snapshot is the newest tree.
      const tree = this.#st.tree.get();
      if (!tree || tree.size !== size) return null;
      ({ frontier: this.#frontier, tail: this.#tail } = this.#loadState(size, tree.indexed));
    }
    return this.#tail.get(leafHash.toString('latin1'));
  }

  /** The frontier of the committed tree of `size`, and its unindexed tail (entries from `indexed` on). */
  #loadState(size: number, indexed: number): { frontier: MerkleFrontier; tail: Map<string, number> } {
    const tail = new Map<string, number>();
    for (const r of this.#st.tail.iterate(indexed)) tail.set(r.leaf_hash.toString('latin1'), r.idx);
    return { frontier: MerkleFrontier.fromStore(size, (level, index) => this.#node(level, index)), tail };
  }

  /** Index of a committed entry with this leaf hash (key = its latin1 string), if any. */
  #find(tail: Map<string, number>, leafHash: Buffer, key: string): number | undefined {
    return tail.get(key) ?? this.#st.indexed.get(leafHash)?.idx;
  }

  /**
   * One batch in one transaction (BEGIN IMMEDIATE … COMMIT). Callers must not start another
   * batch on this appender before the returned promise settles. `head` is left undefined when
   * nothing new was appended; the store fills it from its reader.
   */
  async append(entries: readonly NewEntry[], seal: SealFn): Promise<AppendResult> {
    const st = this.#st;
    const w = this.#w;
    w.exec('BEGIN IMMEDIATE');
    this.#inTransaction = true;
    let committed = false;
    try {
      const tree = st.tree.get();
      const size = tree?.size ?? 0;
      let indexed = tree?.indexed ?? 0;
      // Another process appended (or first batch since open): rebuild from committed rows.
      const { frontier, tail } = this.#frontier && this.#tail && this.#frontier.size === size ? { frontier: this.#frontier, tail: this.#tail } : this.#loadState(size, indexed);
      // Both are changed in place below; forget them until COMMIT succeeds.
      this.#frontier = undefined;
      this.#tail = undefined;
      const outcomes: AppendOutcome[] = [];
      const created: NewNode[] = [];
      let next = size;
      for (const e of entries) {
        const key = e.leafHash.toString('latin1');
        const existing = this.#find(tail, e.leafHash, key);
        if (existing !== undefined) {
          // Stored, or inserted earlier in this transaction (which this connection sees).
          outcomes.push({ index: existing, duplicate: true, integratedTime: st.integratedTime.get(existing)!.integrated_time });
          continue;
        }
        const index = next++;
        st.insEntry.run(index, e.leafHash, e.body, e.kind, e.version, e.integratedTime);
        tail.set(key, index);
        for (const n of frontier.append(e.leafHash)) {
          created.push(n);
          if (n.level > 0) st.insNode.run(nodeKey(n.level, n.index), n.hash);
        }
        outcomes.push({ index, duplicate: false, integratedTime: e.integratedTime });
      }
      if (next === size) {
        w.exec('COMMIT');
        committed = true;
        this.#frontier = frontier;
        this.#tail = tail;
        return { outcomes, head: undefined, nodes: [] };
      }
      if (tail.size >= this.#mergeAt) {
        // Sorted inserts fill leaf_index's pages in order: each page is written once per merge.
        for (const key of [...tail.keys()].sort()) st.insIndex.run(Buffer.from(key, 'latin1'), tail.get(key)!);
        tail.clear();
        indexed = next;
      }
      const root = frontier.root();
      const note = await seal(next, root);
      st.insCheckpoint.run(next, root, note);
      st.setTree.run(next, root, indexed);
      w.exec('COMMIT');
      committed = true;
      this.#onCommit?.(size, next);
      this.#frontier = frontier;
      this.#tail = tail;
      return { outcomes, head: { size: next, rootHash: root, checkpoint: note }, nodes: created };
    } catch (e) {
      throw asSigilError(e, 'STORAGE', 'appending to the SQLite log failed');
    } finally {
      if (!committed && w.inTransaction) w.exec('ROLLBACK');
      this.#inTransaction = false;
    }
  }

  /** SQLite's automatic WAL checkpoint threshold in pages (0: off, when a WalCheckpointer runs them). */
  autoCheckpoint(pages: number): void {
    this.#w.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(pages))}`);
  }

  close(): void {
    this.#w.close();
  }
}
