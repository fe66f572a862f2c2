/**
 * In-memory copy of the most recent perfect nodes of each tree level, so the inclusion proofs a
 * log returns with every new entry (and most proof requests, which are for recent entries) need
 * no database reads. Nodes never change once created, so caching them is always safe.
 *
 * Each level keeps a contiguous window of node hashes in one Buffer (32 bytes per node, no
 * per-node objects): level L keeps up to max(4096, 65536 >> L) nodes, ~2 MiB for level 0 and a
 * few MiB in all however large the log grows. A gap (another frontend appended in between)
 * restarts that level's window.
 */
import { HASH_SIZE } from '../../merkle/hash.js';

interface Window {
  start: number;
  count: number;
  cap: number;
  buf: Buffer;
}

export class NodeCache {
  #levels: (Window | undefined)[] = [];

  static capacity(level: number): number {
    return Math.max(4096, 65536 >> level);
  }

  put(level: number, index: number, hash: Uint8Array): void {
    let w = this.#levels[level];
    if (!w) {
      const cap = NodeCache.capacity(level);
      w = { start: index, count: 0, cap, buf: Buffer.alloc(cap * HASH_SIZE) };
      this.#levels[level] = w;
    }
    if (index !== w.start + w.count) {
      if (index >= w.start && index < w.start + w.count) return; // already cached
      w.start = index;
      w.count = 0;
    }
    if (w.count === w.cap) {
      // Drop the older half in one copy rather than shifting per insert.
      const keep = w.cap >> 1;
      w.buf.copy(w.buf, 0, (w.count - keep) * HASH_SIZE, w.count * HASH_SIZE);
      w.start += w.count - keep;
      w.count = keep;
    }
    w.buf.set(hash, w.count * HASH_SIZE);
    w.count++;
  }

  get(level: number, index: number): Buffer | undefined {
    const w = this.#levels[level];
    if (!w || index < w.start || index >= w.start + w.count) return undefined;
    const off = (index - w.start) * HASH_SIZE;
    // A copy: the window's buffer is rewritten in place when it is compacted.
    return Buffer.from(w.buf.subarray(off, off + HASH_SIZE));
  }
}
