/**
 * The transparency log: verified entries in, sequenced by group commit into a LogStore, each
 * batch sealed by a signed C2SP checkpoint; proofs and tiles out. HTTP lives in server.ts; this
 * class is what the server, the CLI and tests drive.
 */
import type { KeyObject } from 'node:crypto';
import { SigilError } from '../../core/errors.js';
import { noteKeyId, noteVerifierKey, signCheckpoint, type NoteVerifierKey } from '../../formats/checkpoint.js';
import { LocalSigner } from '../../crypto/local-signer.js';
import type { Signer } from '../../crypto/signer.js';
import { EMPTY_ROOT } from '../../merkle/hash.js';
import { consistencyProofPlan, inclusionProofPlan, planNodes, resolvePlan, type ProofPlan } from '../../merkle/build.js';
import { TILE_HEIGHT, TILE_WIDTH, tileWidthAt, encodeEntryBundle, type TileRef } from '../../merkle/tiles.js';
import type { LogStore, SealFn, StoredEntry, TreeHead } from '../storage/log-store.js';
import { NodeCache } from './node-cache.js';
import { Sequencer, type SequencerOptions } from './sequencer.js';
import type { PreparedEntry } from './kinds/prepared.js';

export interface TransparencyLogOptions extends SequencerOptions {
  store: LogStore;
  /** Signs checkpoints (and Rekor v1 signed entry timestamps). Ed25519 or ECDSA. */
  signer: Signer;
  /** Checkpoint origin line, also the key name in its signature line (no spaces, no "+"). */
  origin: string;
  /** Clock in milliseconds (Rekor v1 integrated time); injectable for tests. */
  now?: () => number;
}

export interface LoggedEntry {
  index: number;
  duplicate: boolean;
  integratedTime: number;
  body: Buffer;
  kind: string;
  version: string;
  leafHash: Buffer;
  /** The checkpoint the proof is against. */
  head: TreeHead;
  proof: Buffer[];
}

export class TransparencyLog {
  readonly store: LogStore;
  readonly signer: Signer;
  readonly origin: string;
  /** 32-byte log ID: for ECDSA keys SHA-256 of the PKIX key (Rekor v1), for Ed25519 the C2SP key ID (Rekor v2). */
  readonly logId: Buffer;
  readonly noteKey: NoteVerifierKey;
  readonly sequencer: Sequencer;
  readonly #now: () => number;
  readonly #cache = new NodeCache();
  #emptyHead: TreeHead | undefined;

  private constructor(opts: TransparencyLogOptions) {
    this.store = opts.store;
    this.signer = opts.signer;
    this.origin = opts.origin;
    this.#now = opts.now ?? Date.now;
    this.noteKey = noteVerifierKey(opts.origin, opts.signer.publicKey);
    this.logId = noteKeyId(opts.origin, opts.signer.publicKey);
    // One seal function for the life of the log: a threaded store recognises it, and signs with
    // the key itself when it is in memory (see SealFn.inMemory).
    const seal: SealFn = Object.assign((size: number, rootHash: Buffer) => this.sealCheckpoint(size, rootHash), {
      inMemory: opts.signer instanceof LocalSigner ? { origin: opts.origin, privateKey: opts.signer.privateKey } : undefined,
    });
    this.sequencer = new Sequencer(
      async (entries) => {
        const result = await this.store.appendBatch(entries, seal);
        for (const n of result.nodes) this.#cache.put(n.level, n.index, n.hash);
        return result;
      },
      { ...opts, pipelineDepth: opts.pipelineDepth ?? opts.store.appendConcurrency ?? 1 },
    );
  }

  static async open(opts: TransparencyLogOptions): Promise<TransparencyLog> {
    const log = new TransparencyLog(opts);
    const t = opts.signer.publicKey.asymmetricKeyType;
    if (t !== 'ed25519' && t !== 'ec') {
      throw new SigilError('KEY_UNSUPPORTED', `a log key must be Ed25519 or ECDSA, not ${String(t)}`, { hint: 'create one with sigil log keygen' });
    }
    // Fail at startup, not on the first write, if the database is unreachable.
    await log.store.latest();
    return log;
  }

  get publicKey(): KeyObject {
    return this.signer.publicKey;
  }

  sealCheckpoint(size: number, rootHash: Buffer): Promise<string> {
    return signCheckpoint(this.origin, size, rootHash, this.signer);
  }

  /** Sequences a verified entry; resolves once it is durable and covered by a signed checkpoint. */
  async add(entry: PreparedEntry): Promise<LoggedEntry> {
    const integratedTime = Math.floor(this.#now() / 1000);
    const { result, position } = await this.sequencer.submit({
      leafHash: entry.leafHash,
      body: entry.body,
      kind: entry.kind,
      version: entry.version,
      integratedTime,
    });
    const outcome = result.outcomes[position]!;
    let head = result.head;
    if (!head || head.size <= outcome.index) head = await this.head();
    return {
      index: outcome.index,
      duplicate: outcome.duplicate,
      integratedTime: outcome.integratedTime,
      body: entry.body,
      kind: entry.kind,
      version: entry.version,
      leafHash: entry.leafHash,
      head,
      proof: await this.#resolve(inclusionProofPlan(outcome.index, head.size)),
    };
  }

  /** The newest published checkpoint (a signed checkpoint of the empty tree before the first entry). */
  async head(): Promise<TreeHead> {
    const latest = await this.store.latest();
    if (latest) return latest;
    this.#emptyHead ??= { size: 0, rootHash: EMPTY_ROOT, checkpoint: await this.sealCheckpoint(0, EMPTY_ROOT) };
    return this.#emptyHead;
  }

  async #resolve(plan: ProofPlan): Promise<Buffer[]> {
    // Fast path, taken for the proof answered with every new entry: all nodes are cached, and
    // resolving synchronously means no other batch can move the cache's windows meanwhile.
    let complete = true;
    const cached = resolvePlan(plan, (level, index) => {
      const h = this.#cache.get(level, index);
      if (h) return h;
      complete = false;
      return EMPTY_ROOT;
    });
    if (complete) return cached;
    // Copy what the cache holds now: while the store read below is awaited, other batches may
    // move the cache's windows and drop nodes this plan needs.
    const known = new Map<string, Buffer>();
    const missing = planNodes(plan).filter((r) => {
      const h = this.#cache.get(r.level, r.index);
      if (h) known.set(`${r.level}/${r.index}`, h);
      return !h;
    });
    if (missing.length > 0) {
      const hashes = await this.store.readNodes(missing);
      missing.forEach((r, i) => known.set(`${r.level}/${r.index}`, hashes[i]!));
    }
    return resolvePlan(plan, (level, index) => {
      const h = known.get(`${level}/${index}`);
      if (!h) throw new SigilError('INTERNAL', `proof node ${level}/${index} was neither cached nor read`);
      return h;
    });
  }

  /** Inclusion proof of `index` against the checkpoint of `size` (default: the newest). */
  async inclusionProof(index: number, size?: number): Promise<{ head: TreeHead; proof: Buffer[] }> {
    const head = size === undefined ? await this.head() : await this.headAt(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= head.size) {
      throw new SigilError('NOT_FOUND', `entry ${index} is not in the tree of size ${head.size}`, { hint: 'ask for an index below the tree size' });
    }
    return { head, proof: await this.#resolve(inclusionProofPlan(index, head.size)) };
  }

  /** Consistency proof between two published sizes (0 ≤ size1 ≤ size2 ≤ newest). */
  async consistencyProof(size1: number, size2?: number): Promise<{ first: TreeHead; second: TreeHead; proof: Buffer[] }> {
    const second = size2 === undefined ? await this.head() : await this.headAt(size2);
    const first = size1 === 0 ? { size: 0, rootHash: EMPTY_ROOT, checkpoint: '' } : await this.headAt(size1);
    if (first.size > second.size) {
      throw new SigilError('USAGE', `first size ${first.size} is larger than second size ${second.size}`, { hint: 'firstSize must not exceed lastSize' });
    }
    return { first, second, proof: await this.#resolve(consistencyProofPlan(first.size, second.size)) };
  }

  /** The checkpoint published for exactly `size`. */
  async headAt(size: number): Promise<TreeHead> {
    if (!Number.isSafeInteger(size) || size < 0) throw new SigilError('USAGE', `tree size ${String(size)} is not a non-negative integer`);
    if (size === 0) {
      const h = await this.head();
      return h.size === 0 ? h : { size: 0, rootHash: EMPTY_ROOT, checkpoint: '' };
    }
    const h = await this.store.checkpointAt(size);
    if (!h) throw new SigilError('NOT_FOUND', `the log never published a checkpoint for size ${size}`, { hint: 'use a size from a checkpoint this log signed' });
    return h;
  }

  async entry(index: number): Promise<StoredEntry> {
    const [e] = Number.isSafeInteger(index) && index >= 0 ? await this.store.readEntries(index, index + 1) : [];
    if (!e) throw new SigilError('NOT_FOUND', `no entry at index ${index}`, { hint: 'ask for an index below the tree size' });
    return e;
  }

  async entryByLeafHash(leafHash: Buffer): Promise<StoredEntry> {
    const index = await this.store.findLeaf(leafHash);
    if (index === undefined) throw new SigilError('NOT_FOUND', `no entry with leaf hash ${leafHash.toString('hex')}`);
    return this.entry(index);
  }

  /**
   * Body of a C2SP tile, or undefined when the published tree does not contain it yet. A partial
   * tile of width W is served while the tree holds at least W of its entries (a prefix never changes).
   */
  async tile(t: TileRef): Promise<{ body: Buffer; full: boolean } | undefined> {
    const head = await this.head();
    const available = tileWidthAt(t.kind === 'entries' ? 0 : t.level, t.index, head.size);
    if (available < t.width) return undefined;
    const start = t.index * TILE_WIDTH;
    if (t.kind === 'entries') {
      const entries = await this.store.readEntries(start, start + t.width);
      return { body: encodeEntryBundle(entries.map((e) => e.body)), full: t.width === TILE_WIDTH };
    }
    const hashes = await this.store.readLevel(t.level * TILE_HEIGHT, start, start + t.width);
    if (hashes.length !== t.width) throw new SigilError('STORAGE', `tile ${t.level}/${t.index} has ${hashes.length} stored hashes, expected ${t.width}`);
    return { body: Buffer.concat(hashes), full: t.width === TILE_WIDTH };
  }

  async close(): Promise<void> {
    await this.sequencer.drain();
    await this.store.close();
  }
}
