/**
 * The SQLite log's on-disk schema: a database written by the version-1 layout (unique index on
 * entries.leaf_hash, tree nodes keyed by level and index) opens under version 2 with every entry,
 * node, checkpoint and duplicate check intact; a database from a newer sigil is refused; leaf
 * lookups give the same answers from the index, the writer's in-memory tail and a scan.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { leafHash } from '../../src/merkle/hash.js';
import { MerkleFrontier } from '../../src/merkle/frontier.js';
import { inclusionProofPlan, planNodes, resolvePlan } from '../../src/merkle/build.js';
import { verifyInclusion } from '../../src/merkle/proof.js';
import { formatCheckpoint, signNote } from '../../src/formats/checkpoint.js';
import { openLogStore } from '../../src/services/storage/open-log-store.js';
import { SqliteLogStore } from '../../src/services/storage/sqlite-log-store.js';
import type { SealFn } from '../../src/services/storage/log-store.js';

const tmp = mkdtempSync(join(tmpdir(), 'sigil-sqlite-schema-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const kp = generateKeyPairSync('ed25519');
const signer = { publicKey: kp.publicKey, keyDetails: 'PKIX_ED25519' as const, sign: (d: Uint8Array) => Promise.resolve(sign(null, d, kp.privateKey)) };
const seal: SealFn = (size, rootHash) => signNote(formatCheckpoint({ origin: 'schema.test', size, rootHash, otherLines: [] }), 'schema.test', signer);

/** The version-1 schema exactly as sigil wrote it before the change to version 2. */
const V1_SCHEMA = `
CREATE TABLE entries (idx INTEGER PRIMARY KEY, leaf_hash BLOB NOT NULL, body BLOB NOT NULL, kind TEXT NOT NULL, version TEXT NOT NULL, integrated_time INTEGER NOT NULL);
CREATE UNIQUE INDEX entries_leaf_hash ON entries(leaf_hash);
CREATE TABLE nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL);
CREATE TABLE tree (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, root BLOB NOT NULL);
`;

const body = (i: number): Buffer => Buffer.from(`old entry ${i}`);

/** Writes `n` entries the way the version-1 appender did, with a checkpoint every 50 entries and at the end. */
async function writeV1(path: string, n: number): Promise<void> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(V1_SCHEMA);
  const frontier = MerkleFrontier.empty();
  const insEntry = db.prepare('INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?)');
  const insNode = db.prepare('INSERT INTO nodes VALUES (?, ?, ?)');
  const insCheckpoint = db.prepare('INSERT INTO checkpoints VALUES (?, ?, ?)');
  for (let i = 0; i < n; i++) {
    const h = leafHash(body(i));
    insEntry.run(i, h, body(i), 'test', '0', 1700000000 + i);
    for (const node of frontier.append(h)) if (node.level > 0) insNode.run(node.level, node.index, node.hash);
    if ((i + 1) % 50 === 0 || i + 1 === n) insCheckpoint.run(i + 1, frontier.root(), await seal(i + 1, frontier.root()));
  }
  db.prepare('INSERT INTO tree VALUES (1, ?, ?)').run(n, frontier.root());
  db.close();
}

test('a version-1 database is migrated: entries, proofs, checkpoints and duplicates intact', async () => {
  const path = join(tmp, 'v1.db');
  const n = 300;
  await writeV1(path, n);
  const store = await openLogStore(`sqlite:${path}`, { sqliteWriterThread: true });
  try {
    const head = await store.latest();
    assert.equal(head?.size, n);
    assert.equal((await store.checkpoints(0, n, 100)).length, 6, 'checkpoints at 50, 100, …, 300');
    for (const i of [0, 1, 127, 128, 255, 299]) {
      const plan = inclusionProofPlan(i, n);
      const refs = planNodes(plan);
      const hashes = await store.readNodes(refs);
      const m = new Map(refs.map((r, k) => [`${r.level}/${r.index}`, hashes[k]!]));
      verifyInclusion(i, n, leafHash(body(i)), resolvePlan(plan, (l, x) => m.get(`${l}/${x}`)!), head!.rootHash);
      assert.equal(await store.findLeaf(leafHash(body(i))), i);
    }
    assert.equal((await store.readLevel(8, 0, 1)).length, 1, 'a level-8 node (tile 1/0) is readable');
    const more = await store.appendBatch(
      [
        { leafHash: leafHash(body(7)), body: body(7), kind: 'test', version: '0', integratedTime: 1 },
        { leafHash: leafHash(Buffer.from('new')), body: Buffer.from('new'), kind: 'test', version: '0', integratedTime: 1 },
      ],
      seal,
    );
    assert.deepEqual(more.outcomes, [
      { index: 7, duplicate: true, integratedTime: 1700000007 },
      { index: n, duplicate: false, integratedTime: 1 },
    ]);
  } finally {
    await store.close();
  }
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.pragma('user_version', { simple: true }), 2);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name").pluck().all();
    assert.ok(!tables.includes('nodes') && !tables.includes('entries_leaf_hash'), `old tables are gone: ${tables.join(', ')}`);
  } finally {
    db.close();
  }
});

test('a database from a newer sigil is refused with a hint, and left as it was', async () => {
  const path = join(tmp, 'future.db');
  const db = new Database(path);
  db.pragma('user_version = 99');
  db.close();
  await assert.rejects(openLogStore(`sqlite:${path}`), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'STORAGE');
    assert.match(e.message, /schema version 99/);
    assert.match(e.hint ?? '', /upgrade sigil/);
    return true;
  });
  const again = new Database(path, { readonly: true });
  try {
    assert.equal(again.pragma('user_version', { simple: true }), 99);
    assert.equal(again.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get(), 0, 'no tables created');
  } finally {
    again.close();
  }
});

test('leaf lookups agree whether an entry is indexed, in the writer’s in-memory tail, or appended by another writer', async () => {
  const path = join(tmp, 'lookups.db');
  const a = SqliteLogStore.open(path, { leafIndexMergeAt: 10 });
  const b = SqliteLogStore.open(path, { leafIndexMergeAt: 10 });
  const e = (s: string) => ({ leafHash: leafHash(Buffer.from(s)), body: Buffer.from(s), kind: 'test', version: '0', integratedTime: 1 });
  try {
    for (let i = 0; i < 25; i += 5) await a.appendBatch(Array.from({ length: 5 }, (_, k) => e(`a${i + k}`)), seal);
    // 0-19 are in leaf_index (merged at 10 and 20), 20-24 in a's in-memory tail.
    for (let i = 0; i < 25; i++) assert.equal(await a.findLeaf(leafHash(Buffer.from(`a${i}`))), i, `a${i}`);
    assert.equal(await a.findLeaf(leafHash(Buffer.from('nowhere'))), undefined);

    // While a transaction waits for its seal, its entry is not found, and older tail entries still are.
    let release: () => void = () => undefined;
    const held: SealFn = (size, root) => new Promise<void>((r) => (release = r)).then(() => seal(size, root));
    const open = a.appendBatch([e('pending')], held);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await a.findLeaf(leafHash(Buffer.from('pending'))), undefined, 'not committed yet');
    assert.equal(await a.findLeaf(leafHash(Buffer.from('a22'))), 22);
    release();
    assert.equal((await open).outcomes[0]!.index, 25);
    assert.equal(await a.findLeaf(leafHash(Buffer.from('pending'))), 25);

    // Another writer appends: a's tail no longer describes the tree, and a still finds b's entry.
    await b.appendBatch([e('from b')], seal);
    assert.equal(await a.findLeaf(leafHash(Buffer.from('from b'))), 26);
    assert.equal(await b.findLeaf(leafHash(Buffer.from('a24'))), 24);
  } finally {
    await a.close();
    await b.close();
  }
});
