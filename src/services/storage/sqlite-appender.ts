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

export const SQLITE_SCHEMA = `
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

export interface SqliteAppenderOptions {
  /** synchronous=FULL (default, durable) or NORMAL (faster; a power loss may drop the last commits). */
  synchronous?: 'FULL' | 'NORMAL';
}

export class SqliteAppender {
  #w: Database.Database;
  #frontier: MerkleFrontier | undefined;
  #st;

  constructor(path: string, opts: SqliteAppenderOptions = {}) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.#w = new Database(path);
      this.#w.pragma('journal_mode = WAL');
      this.#w.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
      this.#w.pragma('busy_timeout = 10000');
      // 64 MiB page cache: the unique leaf-hash index takes random-page writes; keep it in memory.
      this.#w.pragma('cache_size = -65536');
      this.#w.exec(SQLITE_SCHEMA);
    } catch (e) {
      throw asSigilError(e, 'STORAGE', `cannot open SQLite log database ${path}`);
    }
    const w = this.#w;
    this.#st = {
      tree: w.prepare<[], { size: number; root: Buffer }>('SELECT size, root FROM tree WHERE id = 1'),
      setTree: w.prepare('INSERT INTO tree (id, size, root) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET size = excluded.size, root = excluded.root'),
      leafByHash: w.prepare<[Buffer], { idx: number; integrated_time: number }>('SELECT idx, integrated_time FROM entries WHERE leaf_hash = ?'),
      node: w.prepare<[number, number], { hash: Buffer }>('SELECT hash FROM nodes WHERE level = ? AND idx = ?'),
      leaf: w.prepare<[number], { leaf_hash: Buffer }>('SELECT leaf_hash FROM entries WHERE idx = ?'),
      insEntry: w.prepare('INSERT INTO entries (idx, leaf_hash, body, kind, version, integrated_time) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (leaf_hash) DO NOTHING'),
      insNode: w.prepare('INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)'),
      insCheckpoint: w.prepare('INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?)'),
    };
  }

  #node(level: number, index: number): Buffer {
    const row = level === 0 ? this.#st.leaf.get(index) : this.#st.node.get(level, index);
    if (!row) throw new SigilError('STORAGE', `tree node ${level}/${index} is missing from the SQLite log`);
    return 'hash' in row ? row.hash : row.leaf_hash;
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
    let committed = false;
    try {
      const tree = st.tree.get();
      const size = tree?.size ?? 0;
      let frontier = this.#frontier;
      if (!frontier || frontier.size !== size) {
        // Another process appended (or first batch since open): rebuild from committed nodes.
        frontier = MerkleFrontier.fromStore(size, (level, index) => this.#node(level, index));
      }
      frontier = frontier.clone();
      const outcomes: AppendOutcome[] = [];
      const created: NewNode[] = [];
      let next = size;
      for (const e of entries) {
        // The unique leaf-hash index finds duplicates (stored, or earlier in this batch) during
        // the insert itself: no separate lookup for the common case of a new entry.
        if (st.insEntry.run(next, e.leafHash, e.body, e.kind, e.version, e.integratedTime).changes === 0) {
          const existing = st.leafByHash.get(e.leafHash)!;
          outcomes.push({ index: existing.idx, duplicate: true, integratedTime: existing.integrated_time });
          continue;
        }
        const index = next++;
        for (const n of frontier.append(e.leafHash)) {
          created.push(n);
          if (n.level > 0) st.insNode.run(n.level, n.index, n.hash);
        }
        outcomes.push({ index, duplicate: false, integratedTime: e.integratedTime });
      }
      if (next === size) {
        w.exec('COMMIT');
        committed = true;
        return { outcomes, head: undefined, nodes: [] };
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

  close(): void {
    this.#w.close();
  }
}
