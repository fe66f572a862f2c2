/**
 * Where a transparency log keeps its state. Two implementations: SQLite (embedded default,
 * sqlite-log-store.ts) and PostgreSQL (several stateless frontends on one database,
 * postgres-log-store.ts). The contract below is what every implementation promises; the shared
 * test (test/services/log-store-contract.test.ts) holds each one to it.
 *
 * The tree is stored as its perfect subtrees: level 0 is each entry's leaf hash, and a node at
 * (level L, index i) is the root of leaves [i·2^L, (i+1)·2^L). Those nodes never change once
 * written, so proofs for any published size and C2SP tiles are served straight from them.
 */
import type { KeyObject } from 'node:crypto';
import type { NodeRef } from '../../merkle/build.js';
import type { NewNode } from '../../merkle/frontier.js';

export interface NewEntry {
  /** RFC 6962 leaf hash of `body`. */
  leafHash: Buffer;
  /** The canonicalized entry body (what tiles/entries serve). At most 65535 bytes. */
  body: Buffer;
  kind: string;
  version: string;
  /** Seconds since the epoch when the log accepted it (Rekor v1 semantics; 0 when unused). */
  integratedTime: number;
}

export interface StoredEntry extends NewEntry {
  index: number;
}

export interface TreeHead {
  size: number;
  rootHash: Buffer;
  /** The signed C2SP checkpoint for this size. */
  checkpoint: string;
}

export interface AppendOutcome {
  index: number;
  /** True when the leaf was already in the log; `index` is then where it already was. */
  duplicate: boolean;
  integratedTime: number;
}

export interface AppendResult {
  outcomes: AppendOutcome[];
  head: TreeHead | undefined;
  nodes: NewNode[];
}

/** Signs the checkpoint for a new tree head; called inside the sequencing transaction. */
export type SealFn = ((size: number, rootHash: Buffer) => Promise<string>) & {
  /**
   * Set when the checkpoint is `signCheckpoint(origin, size, rootHash, LocalSigner(privateKey))`
   * with a key held in memory: a store that sequences on another thread may then sign there (the
   * same bytes) instead of calling back into the caller's busy event loop once per batch.
   */
  readonly inMemory?: { origin: string; privateKey: KeyObject };
};

export interface LogStore {
  /**
   * How many appendBatch calls the store usefully takes at once (default 1). The SQLite writer
   * thread queues calls and merges those waiting into one transaction, so the sequencer can hand
   * it every batch at once instead of waiting for the previous commit.
   */
  readonly appendConcurrency?: number;

  /**
   * Sequences a batch of entries.
   *
   * Contract:
   * - The promise MUST NOT resolve until the new entries, every perfect node they complete and
   *   the signed checkpoint `seal` returned for the new size are durably committed, together, in
   *   one transaction: after a crash at any moment, the store holds either all of them or none.
   * - New entries get consecutive indices starting at the stored tree size, in batch order. Across
   *   concurrent callers, processes or machines sharing the store no index is given twice or
   *   skipped, and every appended tree is an extension of the previous one.
   * - An entry whose leaf hash is already stored (or earlier in the same batch) is not appended;
   *   its outcome reports the existing index with `duplicate: true`.
   * - `seal` is called at most once per call, with the size and root of the tree including the
   *   batch, and not at all when nothing new was appended. If it throws, nothing is committed.
   *   A store that merges concurrent calls into one transaction (appendConcurrency > 1) seals it
   *   once with the first call's seal; the calls of one log all sign for that log.
   * Resolves with one outcome per input entry (same order), the head after the batch and the
   * perfect nodes the batch created (level 0 = the new leaves; for merged calls, those of the
   * whole transaction), so callers can cache them.
   */
  appendBatch(entries: readonly NewEntry[], seal: SealFn): Promise<AppendResult>;

  /** The newest committed tree head, or undefined for an empty log. */
  latest(): Promise<TreeHead | undefined>;

  /** The checkpoint that was published for exactly this size, if any. */
  checkpointAt(size: number): Promise<TreeHead | undefined>;

  /** Checkpoints with size in [from, to], oldest first (for audits and monitors). */
  checkpoints(from: number, to: number, limit: number): Promise<TreeHead[]>;

  /** Hashes of committed perfect nodes, in the order asked. Throws STORAGE if one is missing. */
  readNodes(refs: readonly NodeRef[]): Promise<Buffer[]>;

  /** Hashes of nodes [start, end) of one level (a tile row). Only committed nodes. */
  readLevel(level: number, start: number, end: number): Promise<Buffer[]>;

  /** Committed entries with index in [start, end), in index order. */
  readEntries(start: number, end: number): Promise<StoredEntry[]>;

  /** Index of a committed entry by leaf hash. */
  findLeaf(leafHash: Buffer): Promise<number | undefined>;

  close(): Promise<void>;
}
