/**
 * LogStore on PostgreSQL (`pg`), for deployments where several stateless `sigil log serve`
 * frontends share one database.
 *
 * Sequencing is one transaction per batch that starts by locking the single `tree` row
 * (SELECT … FOR UPDATE). Every frontend's batch therefore sees the size and frontier the previous
 * batch committed, whichever frontend wrote it: no index is given twice or skipped and each tree
 * extends the last. Under READ COMMITTED each statement after the lock sees everything committed
 * before it, so the duplicate check and the frontier read are current. The checkpoint is signed
 * while the lock is held and committed in the same transaction as the entries and nodes.
 * Durability is PostgreSQL's COMMIT (synchronous_commit as configured on the server).
 */
import pg from 'pg';
import { SigilError, asSigilError } from '../../core/errors.js';
import type { NodeRef } from '../../merkle/build.js';
import { rangeNodes } from '../../merkle/build.js';
import { MerkleFrontier, type NewNode } from '../../merkle/frontier.js';
import type { AppendOutcome, AppendResult, LogStore, NewEntry, SealFn, StoredEntry, TreeHead } from './log-store.js';

// Arbitrary constant naming sigil's schema-creation advisory lock, so two frontends starting at
// once do not race on CREATE TABLE.
const SCHEMA_LOCK = 0x5161_1006;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  idx BIGINT PRIMARY KEY,
  leaf_hash BYTEA NOT NULL UNIQUE,
  body BYTEA NOT NULL,
  kind TEXT NOT NULL,
  version TEXT NOT NULL,
  integrated_time BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (
  level INTEGER NOT NULL,
  idx BIGINT NOT NULL,
  hash BYTEA NOT NULL,
  PRIMARY KEY (level, idx)
);
CREATE TABLE IF NOT EXISTS checkpoints (
  size BIGINT PRIMARY KEY,
  root BYTEA NOT NULL,
  note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tree (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size BIGINT NOT NULL
);
INSERT INTO tree (id, size) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
`;

type Row = Record<string, unknown>;
const num = (v: unknown): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new SigilError('STORAGE', `database returned a non-integer ${String(v)}`);
  return n;
};

function headOf(r: Row): TreeHead {
  return { size: num(r.size), rootHash: r.root as Buffer, checkpoint: r.note as string };
}

export interface PostgresLogStoreOptions {
  /** Maximum connections in this frontend's pool (default 8). */
  poolSize?: number;
}

export class PostgresLogStore implements LogStore {
  #pool: pg.Pool;
  #frontier: MerkleFrontier | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Connects and creates the schema if needed. `url` is a postgres:// connection string. */
  static async open(url: string, opts: PostgresLogStoreOptions = {}): Promise<PostgresLogStore> {
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 8 });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        await c.query(SCHEMA);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw asSigilError(e, 'STORAGE', `cannot open the PostgreSQL log database`);
    }
    return new PostgresLogStore(pool);
  }

  appendBatch(entries: readonly NewEntry[], seal: SealFn): Promise<AppendResult> {
    const run = this.#queue.then(() => this.#append(entries, seal));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #append(entries: readonly NewEntry[], seal: SealFn): Promise<AppendResult> {
    this.#checkOpen();
    const c = await this.#pool.connect();
    let done = false;
    try {
      await c.query('BEGIN');
      const tree = await c.query('SELECT size FROM tree WHERE id = 1 FOR UPDATE');
      const size = num((tree.rows[0] as Row | undefined)?.size ?? 0);
      let frontier = this.#frontier;
      if (!frontier || frontier.size !== size) {
        // Other frontends appended since our last batch: read the frontier they left.
        const refs = rangeNodes(0, size);
        frontier = MerkleFrontier.fromHashes(size, await readNodesWith(c, refs));
      }
      frontier = frontier.clone();

      const hashes = entries.map((e) => e.leafHash);
      const existing = new Map<string, { idx: number; t: number }>();
      if (hashes.length > 0) {
        const r = await c.query('SELECT idx, leaf_hash, integrated_time FROM entries WHERE leaf_hash = ANY($1::bytea[])', [hashes]);
        for (const row of r.rows as Row[]) existing.set((row.leaf_hash as Buffer).toString('binary'), { idx: num(row.idx), t: num(row.integrated_time) });
      }
      const outcomes: AppendOutcome[] = [];
      const created: NewNode[] = [];
      const inBatch = new Map<string, AppendOutcome>();
      const add = { idx: [] as number[], leaf: [] as Buffer[], body: [] as Buffer[], kind: [] as string[], version: [] as string[], t: [] as number[] };
      const nodes = { level: [] as number[], idx: [] as number[], hash: [] as Buffer[] };
      let next = size;
      for (const e of entries) {
        const key = e.leafHash.toString('binary');
        const seen = inBatch.get(key);
        if (seen) {
          outcomes.push({ ...seen, duplicate: true });
          continue;
        }
        const old = existing.get(key);
        if (old) {
          const o = { index: old.idx, duplicate: true, integratedTime: old.t };
          inBatch.set(key, o);
          outcomes.push(o);
          continue;
        }
        const index = next++;
        add.idx.push(index);
        add.leaf.push(e.leafHash);
        add.body.push(e.body);
        add.kind.push(e.kind);
        add.version.push(e.version);
        add.t.push(e.integratedTime);
        for (const n of frontier.append(e.leafHash)) {
          created.push(n);
          if (n.level === 0) continue;
          nodes.level.push(n.level);
          nodes.idx.push(n.index);
          nodes.hash.push(n.hash);
        }
        const o = { index, duplicate: false, integratedTime: e.integratedTime };
        inBatch.set(key, o);
        outcomes.push(o);
      }
      if (next === size) {
        await c.query('COMMIT');
        done = true;
        return { outcomes, head: await this.latest(), nodes: [] };
      }
      await c.query(
        `INSERT INTO entries (idx, leaf_hash, body, kind, version, integrated_time)
         SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::text[], $5::text[], $6::bigint[])`,
        [add.idx, add.leaf, add.body, add.kind, add.version, add.t],
      );
      if (nodes.level.length > 0) {
        await c.query('INSERT INTO nodes (level, idx, hash) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[])', [nodes.level, nodes.idx, nodes.hash]);
      }
      const root = frontier.root();
      const note = await seal(next, root);
      await c.query('INSERT INTO checkpoints (size, root, note) VALUES ($1, $2, $3)', [next, root, note]);
      await c.query('UPDATE tree SET size = $1 WHERE id = 1', [next]);
      await c.query('COMMIT');
      done = true;
      this.#frontier = frontier;
      return { outcomes, head: { size: next, rootHash: root, checkpoint: note }, nodes: created };
    } catch (e) {
      this.#frontier = undefined;
      if (!done) await c.query('ROLLBACK').catch(() => undefined);
      throw asSigilError(e, 'STORAGE', 'appending to the PostgreSQL log failed');
    } finally {
      c.release();
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new SigilError('STORAGE', 'the PostgreSQL log store is closed');
  }

  async latest(): Promise<TreeHead | undefined> {
    this.#checkOpen();
    const r = await this.#pool.query('SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1');
    const row = r.rows[0] as Row | undefined;
    return row && headOf(row);
  }

  async checkpointAt(size: number): Promise<TreeHead | undefined> {
    this.#checkOpen();
    const r = await this.#pool.query('SELECT size, root, note FROM checkpoints WHERE size = $1', [size]);
    const row = r.rows[0] as Row | undefined;
    return row && headOf(row);
  }

  async checkpoints(from: number, to: number, limit: number): Promise<TreeHead[]> {
    this.#checkOpen();
    const r = await this.#pool.query('SELECT size, root, note FROM checkpoints WHERE size >= $1 AND size <= $2 ORDER BY size LIMIT $3', [from, to, limit]);
    return (r.rows as Row[]).map(headOf);
  }

  readNodes(refs: readonly NodeRef[]): Promise<Buffer[]> {
    this.#checkOpen();
    return readNodesWith(this.#pool, refs);
  }

  async readLevel(level: number, start: number, end: number): Promise<Buffer[]> {
    this.#checkOpen();
    const r =
      level === 0
        ? await this.#pool.query('SELECT leaf_hash AS hash FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx', [start, end])
        : await this.#pool.query('SELECT hash FROM nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx', [level, start, end]);
    return (r.rows as Row[]).map((row) => row.hash as Buffer);
  }

  async readEntries(start: number, end: number): Promise<StoredEntry[]> {
    this.#checkOpen();
    const r = await this.#pool.query(
      'SELECT idx, leaf_hash, body, kind, version, integrated_time FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx',
      [start, end],
    );
    return (r.rows as Row[]).map((row) => ({
      index: num(row.idx),
      leafHash: row.leaf_hash as Buffer,
      body: row.body as Buffer,
      kind: row.kind as string,
      version: row.version as string,
      integratedTime: num(row.integrated_time),
    }));
  }

  async findLeaf(leafHash: Buffer): Promise<number | undefined> {
    this.#checkOpen();
    const r = await this.#pool.query('SELECT idx FROM entries WHERE leaf_hash = $1', [leafHash]);
    const row = r.rows[0] as Row | undefined;
    return row && num(row.idx);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    await this.#pool.end();
  }
}

interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Reads perfect nodes in one round trip (level 0 from the entries table). */
async function readNodesWith(q: Queryable, refs: readonly NodeRef[]): Promise<Buffer[]> {
  if (refs.length === 0) return [];
  const levels = refs.map((r) => r.level);
  const idxs = refs.map((r) => r.index);
  const r = await q.query(
    `SELECT q.ord, COALESCE(n.hash, e.leaf_hash) AS hash
       FROM unnest($1::int[], $2::bigint[]) WITH ORDINALITY AS q(level, idx, ord)
       LEFT JOIN nodes n ON q.level > 0 AND n.level = q.level AND n.idx = q.idx
       LEFT JOIN entries e ON q.level = 0 AND e.idx = q.idx`,
    [levels, idxs],
  );
  const out: (Buffer | undefined)[] = new Array<Buffer | undefined>(refs.length);
  for (const row of r.rows as Row[]) out[num(row.ord) - 1] = (row.hash as Buffer | null) ?? undefined;
  return out.map((h, i) => {
    if (!h) throw new SigilError('STORAGE', `tree node ${refs[i]!.level}/${refs[i]!.index} is not in the PostgreSQL log`);
    return h;
  });
}
