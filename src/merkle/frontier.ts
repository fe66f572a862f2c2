/**
 * The right edge of an append-only Merkle tree (a "compact range" over [0, size)): one perfect
 * subtree hash per set bit of the size. Appending a leaf merges equal-sized subtrees and reports
 * every perfect node that became complete, which is exactly what a log must store to serve
 * proofs and tiles later. Memory is O(log size) however large the log grows.
 */
import { SigilError } from '../core/errors.js';
import { nodeHash, HASH_SIZE } from './hash.js';
import { foldRange, rangeNodes, type NodeRef } from './build.js';

export interface NewNode extends NodeRef {
  hash: Buffer;
}

export class MerkleFrontier {
  #size: number;
  /** Perfect subtrees covering [0, size), largest (leftmost) first. */
  #nodes: NewNode[];

  private constructor(size: number, nodes: NewNode[]) {
    this.#size = size;
    this.#nodes = nodes;
  }

  static empty(): MerkleFrontier {
    return new MerkleFrontier(0, []);
  }

  /** Rebuilds the frontier of a stored tree from its perfect subtrees (rangeNodes(0, size)). */
  static fromStore(size: number, read: (level: number, index: number) => Uint8Array): MerkleFrontier {
    return MerkleFrontier.fromHashes(size, rangeNodes(0, size).map((n) => read(n.level, n.index)));
  }

  /** `hashes` are the roots of rangeNodes(0, size), in that order. */
  static fromHashes(size: number, hashes: readonly Uint8Array[]): MerkleFrontier {
    const refs = rangeNodes(0, size);
    if (refs.length !== hashes.length) {
      throw new SigilError('STORAGE', `tree of size ${size} needs ${refs.length} frontier hashes, got ${hashes.length}`);
    }
    return new MerkleFrontier(
      size,
      refs.map((r, i) => {
        const h = hashes[i]!;
        if (h.byteLength !== HASH_SIZE) throw new SigilError('STORAGE', `frontier hash ${i} is not ${HASH_SIZE} bytes`);
        return { ...r, hash: Buffer.from(h) };
      }),
    );
  }

  get size(): number {
    return this.#size;
  }

  /** The perfect subtree hashes of [0, size), leftmost first (what fromHashes takes back). */
  hashes(): Buffer[] {
    return this.#nodes.map((n) => n.hash);
  }

  /** Appends one leaf hash; returns the new perfect nodes, the leaf itself (level 0) first. */
  append(leafHash: Uint8Array): NewNode[] {
    if (leafHash.byteLength !== HASH_SIZE) throw new SigilError('INTERNAL', `leaf hash must be ${HASH_SIZE} bytes`);
    const created: NewNode[] = [];
    let node: NewNode = { level: 0, index: this.#size, hash: Buffer.from(leafHash) };
    created.push(node);
    while (this.#nodes.length > 0 && this.#nodes[this.#nodes.length - 1]!.level === node.level) {
      const left = this.#nodes.pop()!;
      node = { level: node.level + 1, index: left.index / 2, hash: nodeHash(left.hash, node.hash) };
      created.push(node);
    }
    this.#nodes.push(node);
    this.#size++;
    return created;
  }

  root(): Buffer {
    return foldRange(this.#nodes.map((n) => n.hash));
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.#size, this.#nodes.map((n) => ({ ...n })));
  }
}
