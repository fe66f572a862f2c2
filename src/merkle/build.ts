/**
 * Building inclusion and consistency proofs (RFC 6962 §2.1.1 PATH and §2.1.2 SUBPROOF) from a
 * store of *perfect* subtree hashes: the node at (level L, index i) is the root of leaves
 * [i·2^L, (i+1)·2^L). Such nodes never change once the log has grown past them, which is what lets
 * a log keep them in an append-only table or in immutable tiles (C2SP tlog-tiles).
 *
 * Every proof hash is the root of a range of leaves; a range that is not itself a perfect subtree
 * (the ragged right edge of the tree) is the fold of the perfect subtrees it decomposes into.
 * Building is split into a *plan* (which nodes are needed) and a *resolve* step, so a store that
 * reads asynchronously can fetch all nodes of a proof in one query.
 */
import { SigilError } from '../core/errors.js';
import { nodeHash, EMPTY_ROOT, HASH_SIZE } from './hash.js';

/** A perfect subtree: level 0 is a leaf hash. */
export interface NodeRef {
  level: number;
  index: number;
}

/** One proof hash = the fold (right to left) of these perfect subtrees, listed left to right. */
export type ProofPlan = NodeRef[][];

/** Reads the hash of a perfect subtree; must throw if the node is not stored. */
export type NodeReader = (level: number, index: number) => Uint8Array;

function badArgs(msg: string): SigilError {
  return new SigilError('PROOF_MALFORMED', msg, { hint: 'ask for a leaf index below the tree size, and sizes that only grow' });
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw badArgs(`${what} must be a non-negative integer, got ${String(n)}`);
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect subtrees that make up leaves [start, end), left to right. In RFC 6962's recursion
 * every range starts at a multiple of a power of two at least as large as the range, so the
 * decomposition is the binary expansion of its length, largest part first.
 */
export function rangeNodes(start: number, end: number): NodeRef[] {
  const out: NodeRef[] = [];
  let pos = start;
  while (pos < end) {
    let size = 1;
    let level = 0;
    // Grow while the doubled subtree stays aligned at pos and inside the range.
    while (pos % (size * 2) === 0 && pos + size * 2 <= end) {
      size *= 2;
      level++;
    }
    out.push({ level, index: pos / size });
    pos += size;
  }
  return out;
}

/** Which nodes an inclusion proof for leaf `index` in a tree of `size` leaves consists of, leaf end first. */
export function inclusionProofPlan(index: number, size: number): ProofPlan {
  checkCount(index, 'leaf index');
  checkCount(size, 'tree size');
  if (index >= size) throw badArgs(`leaf index ${index} is not below tree size ${size}`);
  const siblings: ProofPlan = [];
  let start = 0;
  let end = size;
  let m = index;
  // Walk down from the root; the sibling recorded at each step goes to the end of the proof.
  while (end - start > 1) {
    const k = largestPowerOfTwoBelow(end - start);
    if (m < k) {
      siblings.push(rangeNodes(start + k, end));
      end = start + k;
    } else {
      siblings.push(rangeNodes(start, start + k));
      start += k;
      m -= k;
    }
  }
  return siblings.reverse();
}

/** Which nodes a consistency proof from `size1` to `size2` consists of (RFC 6962 §2.1.2 PROOF). */
export function consistencyProofPlan(size1: number, size2: number): ProofPlan {
  checkCount(size1, 'first tree size');
  checkCount(size2, 'second tree size');
  if (size1 > size2) throw badArgs(`first tree size ${size1} is larger than second tree size ${size2}`);
  if (size1 === 0 || size1 === size2) return [];
  const out: ProofPlan = [];
  let start = 0;
  let end = size2;
  let m = size1;
  let whole = true;
  while (m !== end - start) {
    const n = end - start;
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      out.push(rangeNodes(start + k, end));
      end = start + k;
    } else {
      out.push(rangeNodes(start, start + k));
      start += k;
      m -= k;
      whole = false;
    }
  }
  if (!whole) out.push(rangeNodes(start, end));
  return out.reverse();
}

/** All distinct nodes a plan needs, for a batched read. */
export function planNodes(plan: ProofPlan): NodeRef[] {
  const seen = new Set<string>();
  const out: NodeRef[] = [];
  for (const part of plan) {
    for (const n of part) {
      const key = `${n.level}/${n.index}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(n);
      }
    }
  }
  return out;
}

/** Folds perfect-subtree hashes (left to right) into the root of their range, right to left. */
export function foldRange(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  let acc: Buffer = Buffer.from(hashes[hashes.length - 1]!);
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

/** Turns a plan into proof hashes with a node reader. */
export function resolvePlan(plan: ProofPlan, read: NodeReader): Buffer[] {
  return plan.map((part) =>
    foldRange(
      part.map((n) => {
        const h = read(n.level, n.index);
        if (h.byteLength !== HASH_SIZE) {
          throw new SigilError('STORAGE', `stored node ${n.level}/${n.index} is ${h.byteLength} bytes, not ${HASH_SIZE}`);
        }
        return h;
      }),
    ),
  );
}

export function buildInclusionProof(index: number, size: number, read: NodeReader): Buffer[] {
  return resolvePlan(inclusionProofPlan(index, size), read);
}

export function buildConsistencyProof(size1: number, size2: number, read: NodeReader): Buffer[] {
  return resolvePlan(consistencyProofPlan(size1, size2), read);
}

/** Root of the tree of `size` leaves from stored perfect subtrees. */
export function rootFromStore(size: number, read: NodeReader): Buffer {
  checkCount(size, 'tree size');
  return foldRange(rangeNodes(0, size).map((n) => read(n.level, n.index)));
}
