/**
 * Which P-256 public keys get their own fixed-base table (native/prehash/hot.c), which makes each
 * verification with them about three times as fast (~13 µs instead of ~43 µs here).
 *
 * A table costs ~15 ms of CPU to build and ~150 KB to keep, so it pays off only for a key that
 * verifies hundreds of signatures: a CI signer's key writing to a transparency log, a release
 * key checked over and over. The policy, per thread:
 *  - a key is promoted once it has verified `after` signatures (default 256; the table is paid
 *    back after ~800 more);
 *  - tables are built one at a time on libuv's thread pool, so the verifying thread never waits,
 *    and their total build time stays within `budget` (default 0.5) of the wall-clock time since
 *    the first one: someone submitting many signatures with many fresh keys cannot make the
 *    process spend more than half a core building tables;
 *  - at most `maxTables` (default 128, ~19 MiB) are kept; the least recently used one is dropped.
 */
import { nativePrehash } from './prehash-native.js';

export interface HotKeyPolicy {
  after: number;
  budget: number;
  maxTables: number;
}

/** Per-key bookkeeping, held by the key's cached decoding (prehash.ts). */
export interface HotKey {
  /** Uncompressed point 04‖X‖Y. */
  readonly point: Buffer;
  uses: number;
  table: object | undefined;
  lastUsed: number;
  /** Whether its table is being built, or building one failed (never retried). */
  build: 'idle' | 'building' | 'failed';
}

export class HotKeys {
  readonly policy: HotKeyPolicy;
  readonly stats = { built: 0, dropped: 0, failed: 0, buildMs: 0 };
  #tables: HotKey[] = [];
  #building = false;
  #since: number | undefined;
  #clock = 0;

  constructor(policy: Partial<HotKeyPolicy> = {}) {
    this.policy = { after: 256, budget: 0.5, maxTables: 128, ...policy };
  }

  /** Bookkeeping for a P-256 key, or undefined when the native addon is not available. */
  track(point: Buffer): HotKey | undefined {
    return nativePrehash ? { point, uses: 0, table: undefined, lastUsed: 0, build: 'idle' } : undefined;
  }

  /** The key's table if it has one (and marks it used); otherwise counts the use toward promotion. */
  use(k: HotKey): object | undefined {
    if (k.table) {
      k.lastUsed = ++this.#clock;
      return k.table;
    }
    if (++k.uses >= this.policy.after && k.build === 'idle' && !this.#building) this.#promote(k);
    return undefined;
  }

  #promote(k: HotKey): void {
    const start = performance.now();
    this.#since ??= start;
    if (this.stats.buildMs > this.policy.budget * (start - this.#since)) return;
    this.#building = true;
    k.build = 'building';
    const done = (table: object | null): void => {
      this.#building = false;
      this.stats.buildMs += performance.now() - start;
      if (!table) {
        k.build = 'failed';
        this.stats.failed++;
        return;
      }
      k.build = 'idle';
      if (this.#tables.length >= this.policy.maxTables) this.#dropLeastRecent();
      k.table = table;
      k.lastUsed = ++this.#clock;
      this.#tables.push(k);
      this.stats.built++;
    };
    nativePrehash!.precomputeP256(k.point).then(done, () => done(null));
  }

  #dropLeastRecent(): void {
    let oldest = 0;
    for (let i = 1; i < this.#tables.length; i++) if (this.#tables[i]!.lastUsed < this.#tables[oldest]!.lastUsed) oldest = i;
    const [k] = this.#tables.splice(oldest, 1);
    // The table is freed when its handle is collected; start counting again toward a new one.
    k!.table = undefined;
    k!.uses = 0;
    this.stats.dropped++;
  }

  /** Tables currently kept. */
  get size(): number {
    return this.#tables.length;
  }
}

/** The process-wide (per-thread) instance prehash.ts uses. */
export const hotKeys = new HotKeys();
