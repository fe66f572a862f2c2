/**
 * Holds every LogStore implementation to the contract written on the interface
 * (src/services/storage/log-store.ts): consecutive indices, duplicates, atomic batches (a failing
 * seal commits nothing), durability under SIGKILL, and correct sequencing with two writers on one
 * database.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafHash, rootFromLeafHashes } from '../../src/merkle/hash.js';
import { buildConsistencyProof, consistencyProofPlan, inclusionProofPlan, planNodes, resolvePlan } from '../../src/merkle/build.js';
import { verifyInclusion, verifyConsistency } from '../../src/merkle/proof.js';
import { formatCheckpoint, signNote, parseSignedNote, verifySignedNote, noteVerifierKey } from '../../src/formats/checkpoint.js';
import type { LogStore, NewEntry, SealFn } from '../../src/services/storage/log-store.js';
import { openLogStore, type OpenLogStoreOptions } from '../../src/services/storage/open-log-store.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { REPO_ROOT } from '../helpers/paths.js';

const kp = generateKeyPairSync('ed25519');
const signer = { publicKey: kp.publicKey, keyDetails: 'PKIX_ED25519' as const, sign: (d: Uint8Array) => Promise.resolve(sign(null, d, kp.privateKey)) };
const noteKey = noteVerifierKey('contract.test', kp.publicKey);
const seal: SealFn = (size, rootHash) => signNote(formatCheckpoint({ origin: 'contract.test', size, rootHash, otherLines: [] }), 'contract.test', signer);

const entry = (s: string): NewEntry => {
  const body = Buffer.from(s);
  return { leafHash: leafHash(body), body, kind: 'test', version: '0', integratedTime: 1700000000 };
};

/** Full audit: indices 0..size-1 present, root and every stored checkpoint consistent and signed. */
async function audit(store: LogStore): Promise<number> {
  const head = await store.latest();
  if (!head) return 0;
  const entries = await store.readEntries(0, head.size);
  assert.equal(entries.length, head.size, 'no index skipped');
  entries.forEach((e, i) => {
    assert.equal(e.index, i);
    assert.deepEqual(e.leafHash, leafHash(e.body));
  });
  const leaves = entries.map((e) => e.leafHash);
  // Every entry is found by its leaf hash, whether already in an index or still in a recent tail.
  const found = await Promise.all(leaves.map((h) => store.findLeaf(h)));
  found.forEach((index, i) => assert.equal(index, i, `findLeaf of entry ${i}`));
  assert.equal(await store.findLeaf(leafHash(Buffer.from('never appended'))), undefined);
  assert.deepEqual(head.rootHash, rootFromLeafHashes(leaves), 'root of all stored leaves');
  const cps = await store.checkpoints(0, head.size, 1_000_000);
  const nodes = new Map<string, Buffer>();
  const read = (level: number, index: number): Buffer => {
    const k = `${level}/${index}`;
    const h = nodes.get(k);
    if (!h) throw new Error(`node ${k} not loaded`);
    return h;
  };
  for (const cp of cps) {
    const note = parseSignedNote(cp.checkpoint);
    verifySignedNote(note, [noteKey]);
    assert.equal(note.size, cp.size);
    assert.deepEqual(note.rootHash, cp.rootHash);
    assert.deepEqual(cp.rootHash, rootFromLeafHashes(leaves.slice(0, cp.size)), `checkpoint ${cp.size}`);
  }
  // Proofs from stored nodes: consistency from every checkpoint to the head, inclusion of a sample.
  const want = new Map<string, { level: number; index: number }>();
  for (const cp of cps) for (const n of planNodes(consistencyProofPlan(cp.size, head.size))) want.set(`${n.level}/${n.index}`, n);
  const refs = [...want.values()];
  const got = await store.readNodes(refs);
  refs.forEach((r, i) => nodes.set(`${r.level}/${r.index}`, got[i]!));
  for (const cp of cps) verifyConsistency(cp.size, head.size, buildConsistencyProof(cp.size, head.size, read), cp.rootHash, head.rootHash);
  for (const i of [0, Math.floor(head.size / 2), head.size - 1]) {
    const plan = inclusionProofPlan(i, head.size);
    const hs = await store.readNodes(planNodes(plan));
    const m = new Map(planNodes(plan).map((n, k) => [`${n.level}/${n.index}`, hs[k]!]));
    verifyInclusion(i, head.size, leaves[i]!, resolvePlan(plan, (l, x) => m.get(`${l}/${x}`)!), head.rootHash);
  }
  return head.size;
}

function crashOnce(target: string, seed: string, killAfterAcks: number, opts: OpenLogStoreOptions): Promise<Map<number, string>> {
  const args = [target, seed, JSON.stringify(opts)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/services/fixtures/append-child.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, SIGIL_TEST_KEY: kp.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acks = new Map<number, string>();
    let buf = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const m = /^ack (\d+) ([0-9a-f]{64})$/.exec(l);
        if (m) acks.set(Number(m[1]), m[2]!);
      }
      if (!killed && acks.size >= killAfterAcks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', () => (killed ? resolve(acks) : reject(new Error('append child exited by itself'))));
  });
}

function contract(name: string, open: () => Promise<string>, opts: OpenLogStoreOptions = {}) {
  describe(`LogStore contract: ${name}`, () => {
    let target: string;
    before(async () => {
      target = await open();
    });

    test('appends get consecutive indices; duplicates report the existing index', async () => {
      const store = await openLogStore(target, opts);
      try {
        const before = (await store.latest())?.size ?? 0;
        const r1 = await store.appendBatch([entry('a'), entry('b'), entry('a'), entry('c')], seal);
        assert.deepEqual(
          r1.outcomes.map((o) => [o.index - before, o.duplicate]),
          [
            [0, false],
            [1, false],
            [0, true],
            [2, false],
          ],
        );
        assert.equal(r1.head?.size, before + 3);
        const r2 = await store.appendBatch([entry('b'), entry('d')], seal);
        assert.deepEqual(
          r2.outcomes.map((o) => [o.index - before, o.duplicate]),
          [
            [1, true],
            [3, false],
          ],
        );
        const r3 = await store.appendBatch([entry('d')], () => Promise.reject(new Error('must not seal without new entries')));
        assert.equal(r3.head?.size, before + 4);
        assert.equal(await store.findLeaf(entry('c').leafHash), before + 2);
        assert.equal(await store.findLeaf(entry('zzz').leafHash), undefined);
        const [e] = await store.readEntries(before + 3, before + 4);
        assert.equal(e?.body.toString(), 'd');
        assert.equal((await store.checkpointAt(before + 3))?.size, before + 3);
        assert.equal(await store.checkpointAt(before + 2), undefined);
        const lvl0 = await store.readLevel(0, before, before + 4);
        assert.deepEqual(lvl0, ['a', 'b', 'c', 'd'].map((s) => entry(s).leafHash));
        await assert.rejects(store.readNodes([{ level: 0, index: before + 100 }]), (e: unknown) => (e as { code?: string }).code === 'STORAGE');
        await audit(store);
      } finally {
        await store.close();
      }
    });

    test('a failing seal commits nothing', async () => {
      const store = await openLogStore(target, opts);
      try {
        const head = await store.latest();
        await assert.rejects(store.appendBatch([entry('never-1'), entry('never-2')], () => Promise.reject(new Error('HSM unavailable'))));
        assert.deepEqual((await store.latest())?.size, head?.size);
        assert.equal(await store.findLeaf(entry('never-1').leafHash), undefined);
        // The store keeps working afterwards and the same entries can be appended.
        const r = await store.appendBatch([entry('never-1')], seal);
        assert.equal(r.outcomes[0]?.index, head?.size ?? 0);
        await audit(store);
      } finally {
        await store.close();
      }
    });

    test('two writers on one database sequence into one tree', async () => {
      const a = await openLogStore(target, opts);
      const b = await openLogStore(target, opts);
      try {
        const start = (await a.latest())?.size ?? 0;
        const write = async (s: LogStore, tag: string) => {
          const got: number[] = [];
          for (let i = 0; i < 25; i++) {
            const { outcomes } = await s.appendBatch([entry(`${tag}-${i}-x`), entry(`${tag}-${i}-y`), entry(`shared-${i}`)], seal);
            got.push(...outcomes.filter((o) => !o.duplicate).map((o) => o.index));
          }
          return got;
        };
        const [ia, ib] = await Promise.all([write(a, 'A'), write(b, 'B')]);
        const all = [...ia, ...ib].sort((x, y) => x - y);
        assert.equal(new Set(all).size, all.length, 'no index given twice');
        assert.deepEqual(all, Array.from({ length: all.length }, (_, k) => start + k), 'no index skipped');
        assert.equal(all.length, 25 * 2 * 2 + 25, 'shared entries appended once');
        await audit(a);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('concurrent calls each get their own outcomes, across merged transactions', async () => {
      const store = await openLogStore(target, opts);
      try {
        const start = (await store.latest())?.size ?? 0;
        // A seal whose key is in memory: a threaded store signs with the key and never calls back.
        let calledBack = 0;
        const memSeal: SealFn = Object.assign((size: number, root: Buffer) => (calledBack++, seal(size, root)), { inMemory: { origin: 'contract.test', privateKey: kp.privateKey } });
        const batches = Array.from({ length: 20 }, (_, i) => [entry(`cc-${i}-a`), entry(`cc-shared-${i % 5}`), entry(`cc-${i}-a`)]);
        const results = await Promise.all(batches.map((b, i) => store.appendBatch(b, i % 7 === 6 ? seal : memSeal)));
        const fresh: number[] = [];
        const firstIndex = new Map<string, number>();
        results.forEach((r, i) => {
          assert.equal(r.outcomes.length, 3, `call ${i} gets one outcome per entry`);
          const [a, shared, again] = r.outcomes;
          assert.equal(a!.duplicate, false);
          assert.deepEqual(again, { ...a!, duplicate: true }, 'the repeat within a call points at its first copy');
          const key = `shared-${i % 5}`;
          if (!shared!.duplicate) firstIndex.set(key, shared!.index);
          fresh.push(...r.outcomes.filter((o) => !o.duplicate).map((o) => o.index));
          assert.ok(r.head && r.outcomes.every((o) => o.index < r.head!.size), `call ${i}'s head covers its entries`);
        });
        results.forEach((r, i) => assert.equal(r.outcomes[1]!.index, firstIndex.get(`shared-${i % 5}`), `shared entry ${i % 5} has one index`));
        fresh.sort((x, y) => x - y);
        assert.deepEqual(fresh, Array.from({ length: 25 }, (_, k) => start + k), 'consecutive, no index twice');
        if (opts.sqliteWriterThread) {
          // The writer thread merges the calls waiting for it (other stores commit them one by one).
          assert.ok(new Set(results.map((r) => r.head!.size)).size < results.length, 'calls waiting together were merged');
          assert.equal(calledBack, 0, 'the in-memory key signed on the writer thread');
        }
        await audit(store);
      } finally {
        await store.close();
      }
    });

    test('every acknowledged entry survives SIGKILL of the writer', async () => {
      for (let round = 0; round < 3; round++) {
        const acks = await crashOnce(target, `crash-${round}`, 40 + round * 37, opts);
        const store = await openLogStore(target, opts);
        try {
          for (const [index, hash] of acks) {
            const [e] = await store.readEntries(index, index + 1);
            assert.equal(e?.leafHash.toString('hex'), hash, `acknowledged entry ${index} present`);
          }
          await audit(store);
        } finally {
          await store.close();
        }
      }
    });
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'sigil-logstore-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
contract('SQLite', () => Promise.resolve(`sqlite:${join(tmp, 'log.db')}`));
contract('SQLite, writer thread', () => Promise.resolve(`sqlite:${join(tmp, 'log-wt.db')}`), { sqliteWriterThread: true });
// Merging the leaf-hash tail every 5 entries puts merges (and a crash between them) in every test.
contract('SQLite, writer thread, leaf index merged every 5 entries', () => Promise.resolve(`sqlite:${join(tmp, 'log-merge.db')}`), { sqliteWriterThread: true, sqliteLeafIndexMergeAt: 5 });
contract('SQLite, deferred sync', () => Promise.resolve(`sqlite:${join(tmp, 'log-ds.db')}`), { sqliteDeferredSync: true });
contract('SQLite, deferred sync, leaf index merged every 5 entries', () => Promise.resolve(`sqlite:${join(tmp, 'log-ds-merge.db')}`), { sqliteDeferredSync: true, sqliteLeafIndexMergeAt: 5 });

let cluster: PgCluster | undefined;
after(() => cluster?.stop());
contract('PostgreSQL', async () => {
  cluster = await startPostgres();
  return cluster.createDatabase('contract');
});
