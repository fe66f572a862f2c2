import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { leafHash, nodeHash, rootFromLeafHashes, EMPTY_ROOT } from '../../src/merkle/hash.js';
import { verifyInclusion, rootFromInclusionProof, verifyConsistency } from '../../src/merkle/proof.js';
import {
  buildInclusionProof,
  buildConsistencyProof,
  rootFromStore,
  inclusionProofPlan,
  consistencyProofPlan,
  planNodes,
} from '../../src/merkle/build.js';
import { MerkleFrontier } from '../../src/merkle/frontier.js';
import { isSigilError } from '../../src/core/errors.js';
import { corpusPath } from '../helpers/paths.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// RFC 6962 reference inputs used by certificate-transparency and transparency-dev/merkle tests.
const RFC_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex);
const RFC_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** Brute force: every perfect subtree (level, index) of a list of leaf hashes. */
function nodeStore(leaves: Buffer[]): (level: number, index: number) => Buffer {
  const levels: Buffer[][] = [leaves];
  while (levels[levels.length - 1]!.length > 1) {
    const prev = levels[levels.length - 1]!;
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < prev.length; i += 2) next.push(nodeHash(prev[i]!, prev[i + 1]!));
    levels.push(next);
  }
  return (level, index) => {
    const h = levels[level]?.[index];
    if (!h) throw new Error(`node ${level}/${index} not in store`);
    return h;
  };
}

function expectCode(fn: () => unknown, codes: string[]): void {
  assert.throws(fn, (e: unknown) => isSigilError(e) && codes.includes(e.code));
}

test('leaf and node hashes use the RFC 6962 0x00/0x01 prefixes', () => {
  assert.deepEqual(leafHash(Buffer.from('abc')), createHash('sha256').update(Buffer.from([0, 0x61, 0x62, 0x63])).digest());
  const a = Buffer.alloc(32, 1);
  const b = Buffer.alloc(32, 2);
  assert.deepEqual(nodeHash(a, b), createHash('sha256').update(Buffer.concat([Buffer.from([1]), a, b])).digest());
  assert.equal(EMPTY_ROOT.toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('RFC 6962 reference roots for sizes 1..8', () => {
  const leaves = RFC_LEAVES.map(leafHash);
  for (let n = 1; n <= 8; n++) {
    assert.equal(rootFromLeafHashes(leaves.slice(0, n)).toString('hex'), RFC_ROOTS[n - 1], `size ${n}`);
    const f = MerkleFrontier.empty();
    for (const l of leaves.slice(0, n)) f.append(l);
    assert.equal(f.root().toString('hex'), RFC_ROOTS[n - 1], `frontier size ${n}`);
  }
});

test('every inclusion and consistency proof of trees of size 1..64 verifies against brute-force roots', () => {
  const leaves = Array.from({ length: 64 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
  const read = nodeStore(leaves);
  const roots = [EMPTY_ROOT, ...Array.from({ length: 64 }, (_, i) => rootFromLeafHashes(leaves.slice(0, i + 1)))];
  const f = MerkleFrontier.empty();
  for (let size = 1; size <= 64; size++) {
    f.append(leaves[size - 1]!);
    assert.deepEqual(f.root(), roots[size], `frontier root ${size}`);
    assert.deepEqual(rootFromStore(size, read), roots[size], `store root ${size}`);
    assert.deepEqual(MerkleFrontier.fromStore(size, read).root(), roots[size]);
    for (let i = 0; i < size; i++) {
      const proof = buildInclusionProof(i, size, read);
      verifyInclusion(i, size, leaves[i]!, proof, roots[size]!);
      assert.deepEqual(rootFromInclusionProof(i, size, leaves[i]!, proof), roots[size]);
    }
    for (let m = 0; m <= size; m++) {
      const proof = buildConsistencyProof(m, size, read);
      verifyConsistency(m, size, proof, roots[m]!, roots[size]!);
    }
  }
});

test('frontier reports every perfect node it completes', () => {
  const leaves = Array.from({ length: 300 }, (_, i) => leafHash(Buffer.from([i & 0xff, i >> 8])));
  const read = nodeStore(leaves);
  const f = MerkleFrontier.empty();
  let count = 0;
  for (const l of leaves) {
    for (const n of f.append(l)) {
      assert.deepEqual(n.hash, read(n.level, n.index), `node ${n.level}/${n.index}`);
      count++;
    }
  }
  // A tree of n leaves has n leaves plus (n - popcount(n)) perfect interior nodes.
  assert.equal(count, 300 + 300 - 4);
  const copy = MerkleFrontier.fromHashes(f.size, f.hashes());
  assert.deepEqual(copy.root(), f.root());
});

test('altered proofs, wrong index, wrong size and wrong lengths are rejected', () => {
  const leaves = Array.from({ length: 21 }, (_, i) => leafHash(Buffer.from(`x${i}`)));
  const read = nodeStore(leaves);
  const size = 21;
  const root = rootFromLeafHashes(leaves);
  const rootPlus = rootFromLeafHashes([...leaves, leafHash(Buffer.from('extra'))]);
  const rootMinus = rootFromLeafHashes(leaves.slice(0, -1));
  for (let i = 0; i < size; i++) {
    const proof = buildInclusionProof(i, size, read);
    for (let j = 0; j < proof.length; j++) {
      const bad = proof.map((p) => Buffer.from(p));
      bad[j]![7]! ^= 1;
      expectCode(() => verifyInclusion(i, size, leaves[i]!, bad, root), ['TLOG_INCLUSION_INVALID']);
    }
    const altered = Buffer.from(leaves[i]!);
    altered[0]! ^= 0x80;
    expectCode(() => verifyInclusion(i, size, altered, proof, root), ['TLOG_INCLUSION_INVALID']);
    expectCode(() => verifyInclusion((i + 1) % size, size, leaves[i]!, proof, root), ['TLOG_INCLUSION_INVALID']);
    // The size is bound to the root by the checkpoint signature, so a wrong size comes with that size's root.
    expectCode(() => verifyInclusion(i, size + 1, leaves[i]!, proof, rootPlus), ['TLOG_INCLUSION_INVALID']);
    if (i < size - 1) expectCode(() => verifyInclusion(i, size - 1, leaves[i]!, proof, rootMinus), ['TLOG_INCLUSION_INVALID']);
    expectCode(() => verifyInclusion(i, size, leaves[i]!, [...proof, Buffer.alloc(32)], root), ['TLOG_INCLUSION_INVALID']);
    expectCode(() => verifyInclusion(i, size, leaves[i]!, proof.slice(0, -1), root), ['TLOG_INCLUSION_INVALID']);
  }
  const p0 = buildInclusionProof(0, size, read);
  expectCode(() => verifyInclusion(-1, size, leaves[0]!, p0, root), ['PROOF_MALFORMED']);
  expectCode(() => verifyInclusion(0.5, size, leaves[0]!, p0, root), ['PROOF_MALFORMED']);
  expectCode(() => verifyInclusion(size, size, leaves[0]!, p0, root), ['TLOG_INCLUSION_INVALID']);
  expectCode(() => verifyInclusion(0, 0, leaves[0]!, [], root), ['TLOG_INCLUSION_INVALID']);
  expectCode(() => verifyInclusion(0, size, leaves[0]!, [Buffer.alloc(31), ...p0.slice(1)], root), ['PROOF_MALFORMED']);
  expectCode(() => verifyInclusion(0, size, leaves[0]!.subarray(1), p0, root), ['PROOF_MALFORMED']);
  expectCode(() => verifyInclusion(0, size, leaves[0]!, p0, root.subarray(0, 16)), ['PROOF_MALFORMED']);
  // A single-leaf tree has an empty proof; anything more is too long.
  verifyInclusion(0, 1, leaves[0]!, [], leaves[0]!);
  expectCode(() => verifyInclusion(0, 1, leaves[0]!, [leaves[1]!], leaves[0]!), ['TLOG_INCLUSION_INVALID']);
  expectCode(() => buildInclusionProof(size, size, read), ['PROOF_MALFORMED']);
});

test('bad consistency proofs are rejected', () => {
  const leaves = Array.from({ length: 41 }, (_, i) => leafHash(Buffer.from(`c${i}`)));
  const read = nodeStore(leaves);
  const root = (n: number): Buffer => rootFromLeafHashes(leaves.slice(0, n));
  for (const [m, n] of [
    [1, 2],
    [3, 7],
    [4, 8],
    [5, 40],
    [16, 33],
    [32, 40],
    [39, 40],
  ] as const) {
    const proof = buildConsistencyProof(m, n, read);
    verifyConsistency(m, n, proof, root(m), root(n));
    for (let j = 0; j < proof.length; j++) {
      const bad = proof.map((p) => Buffer.from(p));
      bad[j]![0]! ^= 1;
      expectCode(() => verifyConsistency(m, n, bad, root(m), root(n)), ['CONSISTENCY_INVALID']);
    }
    expectCode(() => verifyConsistency(m, n, [...proof, Buffer.alloc(32)], root(m), root(n)), ['CONSISTENCY_INVALID']);
    expectCode(() => verifyConsistency(m, n, proof.slice(0, -1), root(m), root(n)), ['CONSISTENCY_INVALID']);
    expectCode(() => verifyConsistency(m, n, proof, root(m + 1), root(n)), ['CONSISTENCY_INVALID']);
    expectCode(() => verifyConsistency(m, n, proof, root(m), root(n - 1)), ['CONSISTENCY_INVALID']);
    expectCode(() => verifyConsistency(m, n - 1, proof, root(m), root(n - 1)), ['CONSISTENCY_INVALID']);
    expectCode(() => verifyConsistency(n, m, proof, root(n), root(m)), ['CONSISTENCY_INVALID']);
  }
  expectCode(() => verifyConsistency(5, 5, [root(5)], root(5), root(5)), ['CONSISTENCY_INVALID']);
  expectCode(() => verifyConsistency(5, 5, [], root(5), root(6)), ['CONSISTENCY_INVALID']);
  expectCode(() => verifyConsistency(3, 8, [], root(3), root(8)), ['CONSISTENCY_INVALID']);
  expectCode(() => verifyConsistency(0, 8, [root(1)], EMPTY_ROOT, root(8)), ['CONSISTENCY_INVALID']);
  expectCode(() => verifyConsistency(-1, 8, [], EMPTY_ROOT, root(8)), ['PROOF_MALFORMED']);
  expectCode(() => buildConsistencyProof(9, 8, read), ['PROOF_MALFORMED']);
});

test('proof plans name each needed node once and stay logarithmic at 2^40 leaves', () => {
  const plan = inclusionProofPlan(2 ** 40 - 3, 2 ** 40 - 1);
  assert.ok(plan.length <= 41);
  const nodes = planNodes(consistencyProofPlan(1_000_003, 2 ** 40 - 1));
  assert.equal(new Set(nodes.map((n) => `${n.level}/${n.index}`)).size, nodes.length);
  assert.ok(nodes.length < 200);
});

// Real Rekor v1 and v2 entries from the conformance corpus: the proofs verify against the roots of
// their checkpoints, and a proof from a "_fail" case that corrupts a hash does not.
test('corpus Rekor inclusion proofs verify against their checkpoint roots', () => {
  const dir = corpusPath('sigstore-conformance', 'bundle-verify');
  let checked = 0;
  for (const name of readdirSync(dir)) {
    const file = `${dir}/${name}/bundle.sigstore.json`;
    if (!existsSync(file) || !(name.startsWith('happy-path') || name.startsWith('rekor2-happy') || name === 'inclusion-proof-corrupted-hash_fail')) continue;
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as {
      verificationMaterial: { tlogEntries: { canonicalizedBody: string; inclusionProof?: { logIndex: string; treeSize: string; rootHash: string; hashes: string[] } }[] };
    };
    for (const e of bundle.verificationMaterial.tlogEntries) {
      const p = e.inclusionProof;
      if (!p) continue;
      const args = [
        Number(p.logIndex),
        Number(p.treeSize),
        leafHash(Buffer.from(e.canonicalizedBody, 'base64')),
        p.hashes.map((h) => Buffer.from(h, 'base64')),
        Buffer.from(p.rootHash, 'base64'),
      ] as const;
      if (name.endsWith('_fail')) expectCode(() => verifyInclusion(...args), ['TLOG_INCLUSION_INVALID']);
      else verifyInclusion(...args);
      checked++;
    }
  }
  assert.ok(checked >= 5, `checked ${checked} corpus proofs`);
});
