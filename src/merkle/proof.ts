/**
 * Verification of Merkle inclusion and consistency proofs (RFC 9162 §2.1.3.2 and §2.1.4.2).
 *
 * Verifiers fail closed: every failure throws a SigilError, so a caller that forgets to look at a
 * return value cannot accept a bad proof. Malformed numbers or hash sizes are PROOF_MALFORMED; a
 * well-formed proof that does not lead to the expected root (including one with too many or too
 * few hashes for the index and size) is TLOG_INCLUSION_INVALID or CONSISTENCY_INVALID.
 *
 * Indices and sizes are JavaScript numbers; the walk uses arithmetic halving instead of bit
 * operators so it stays exact up to 2^53 (bitwise operators would truncate at 2^32).
 */
import { SigilError } from '../core/errors.js';
import { bytesEqual } from '../core/encoding.js';
import { HASH_SIZE, EMPTY_ROOT, nodeHash } from './hash.js';

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new SigilError('PROOF_MALFORMED', `${what} must be a non-negative integer below 2^53, got ${String(n)}`, {
      hint: 'the proof or log entry was altered',
    });
  }
}

function checkHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.byteLength !== HASH_SIZE) {
    throw new SigilError('PROOF_MALFORMED', `${what} must be a ${HASH_SIZE}-byte SHA-256 hash`, {
      hint: 'the proof was truncated or altered',
    });
  }
}

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

/**
 * Recomputes the root of a tree of `size` leaves from the leaf hash at `index` and its audit path
 * (RFC 9162 §2.1.3.2 steps 1–5). Throws TLOG_INCLUSION_INVALID when the proof has the wrong
 * number of hashes for this index and size.
 */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): Buffer {
  checkCount(index, 'leaf index');
  checkCount(size, 'tree size');
  checkHash(leafHash, 'leaf hash');
  proof.forEach((p, i) => checkHash(p, `inclusion proof hash ${i}`));
  if (index >= size) {
    throw new SigilError('TLOG_INCLUSION_INVALID', `leaf index ${index} is not below tree size ${size}`, {
      hint: 'the entry claims a position outside the tree its proof is for',
    });
  }
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) {
      throw new SigilError('TLOG_INCLUSION_INVALID', `inclusion proof has ${proof.length} hashes, more than index ${index} in size ${size} needs`, {
        hint: 'the proof does not belong to this index and tree size',
      });
    }
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) {
    throw new SigilError('TLOG_INCLUSION_INVALID', `inclusion proof has ${proof.length} hashes, fewer than index ${index} in size ${size} needs`, {
      hint: 'the proof does not belong to this index and tree size',
    });
  }
  return r;
}

/** Throws TLOG_INCLUSION_INVALID unless `proof` shows the leaf at `index` is in the tree of `size` leaves with `root`. */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  checkHash(root, 'root hash');
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  if (!bytesEqual(computed, root)) {
    throw new SigilError('TLOG_INCLUSION_INVALID', `inclusion proof for index ${index} leads to a different root than the one for tree size ${size}`, {
      hint: 'the entry, its proof or the checkpoint was altered',
    });
  }
}

function inconsistent(msg: string): SigilError {
  return new SigilError('CONSISTENCY_INVALID', msg, {
    hint: 'the log presented two views that are not one append-only history (or the proof was altered)',
  });
}

/**
 * Throws CONSISTENCY_INVALID unless `proof` shows the tree of `size1` leaves with `root1` is a
 * prefix of the tree of `size2` leaves with `root2` (RFC 9162 §2.1.4.2).
 */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  checkCount(size1, 'first tree size');
  checkCount(size2, 'second tree size');
  checkHash(root1, 'first root hash');
  checkHash(root2, 'second root hash');
  proof.forEach((p, i) => checkHash(p, `consistency proof hash ${i}`));
  if (size2 < size1) throw inconsistent(`tree size went down from ${size1} to ${size2}`);
  if (size1 === size2) {
    if (proof.length !== 0) throw inconsistent(`consistency proof between equal sizes ${size1} must be empty, has ${proof.length} hashes`);
    if (!bytesEqual(root1, root2)) throw inconsistent(`two different roots for the same tree size ${size1}`);
    return;
  }
  if (size1 === 0) {
    // Every tree extends the empty tree; the proof is empty (RFC 9162 §2.1.4.1 defines none for m = 0).
    if (proof.length !== 0) throw inconsistent(`consistency proof from the empty tree must be empty, has ${proof.length} hashes`);
    if (!bytesEqual(root1, EMPTY_ROOT)) throw inconsistent('the root given for tree size 0 is not the empty-tree hash');
    return;
  }
  if (proof.length === 0) throw inconsistent(`consistency proof from ${size1} to ${size2} is empty`);

  // Step 2: when size1 is an exact power of two, its root is a node of the new tree and is not sent.
  const path: Uint8Array[] = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) throw inconsistent(`consistency proof from ${size1} to ${size2} has more hashes than needed`);
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw inconsistent(`consistency proof from ${size1} to ${size2} has fewer hashes than needed`);
  if (!bytesEqual(fr, root1)) throw inconsistent(`consistency proof does not lead to the root of tree size ${size1}`);
  if (!bytesEqual(sr, root2)) throw inconsistent(`consistency proof does not lead to the root of tree size ${size2}`);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}
