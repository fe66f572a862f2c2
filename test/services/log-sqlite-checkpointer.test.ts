/**
 * WAL checkpoints on their own thread (wal-checkpointer.ts), which a deferred-sync SQLite log
 * store runs instead of SQLite's automatic checkpoints inside commits: the database file takes the
 * committed pages while the WAL stays small, the RESTART fallback keeps appends going, and a failed
 * thread hands checkpoints back to the writer with a warning.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafHash } from '../../src/merkle/hash.js';
import { formatCheckpoint, signNote } from '../../src/formats/checkpoint.js';
import { SqliteLogStore, type SqliteLogStoreOptions } from '../../src/services/storage/sqlite-log-store.js';
import type { NewEntry, SealFn } from '../../src/services/storage/log-store.js';

const tmp = mkdtempSync(join(tmpdir(), 'sigil-checkpointer-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const kp = generateKeyPairSync('ed25519');
const signer = { publicKey: kp.publicKey, keyDetails: 'PKIX_ED25519' as const, sign: (d: Uint8Array) => Promise.resolve(sign(null, d, kp.privateKey)) };
const seal: SealFn = (size, rootHash) => signNote(formatCheckpoint({ origin: 'ckpt.test', size, rootHash, otherLines: [] }), 'ckpt.test', signer);
const batch = (n: number): NewEntry[] =>
  Array.from({ length: n }, () => {
    const body = randomBytes(600);
    return { leafHash: leafHash(body), body, kind: 'test', version: '0', integratedTime: 1 };
  });
const size = (p: string): number => statSync(p, { throwIfNoEntry: false })?.size ?? 0;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Appends `batches` batches of 20 entries (~12 KB each), letting the checkpoint thread tick between them. */
async function fill(path: string, opts: SqliteLogStoreOptions, batches: number): Promise<{ store: SqliteLogStore; db: number; wal: number }> {
  const store = SqliteLogStore.open(path, { deferredSync: true, ...opts });
  await store.checkpointer?.ready;
  for (let i = 0; i < batches; i++) {
    await store.appendBatch(batch(20), seal);
    if (i % 10 === 0) await pause(12);
  }
  await pause(40);
  return { store, db: size(path), wal: size(`${path}-wal`) };
}

test('the checkpoint thread moves committed pages into the database file; without it they stay in the WAL', async () => {
  // ~1.2 MB of entries: below the 1,000 pages (~4 MB) at which SQLite would checkpoint by itself.
  const on = await fill(join(tmp, 'on.db'), { backgroundCheckpoints: { intervalMs: 5 } }, 100);
  const off = await fill(join(tmp, 'off.db'), { backgroundCheckpoints: false }, 100);
  try {
    assert.ok(on.store.checkpointer, 'deferred sync starts a checkpoint thread');
    assert.equal(off.store.checkpointer, undefined);
    assert.ok(on.db > 1_000_000, `the database file took the pages (${on.db} bytes)`);
    assert.ok(on.wal < on.db, `the WAL was restarted rather than grown (${on.wal} bytes)`);
    assert.ok(off.db < 100_000, `without the thread nothing was checkpointed yet (${off.db} bytes)`);
    assert.ok(off.wal > 1_000_000);
    // What readers see is the same either way.
    assert.equal((await on.store.latest())?.size, 2000);
    assert.equal((await on.store.readEntries(1999, 2000)).length, 1);
  } finally {
    await on.store.close();
    await off.store.close();
  }
});

test('a RESTART checkpoint at every tick does not block appends', async () => {
  const { store, wal } = await fill(join(tmp, 'restart.db'), { backgroundCheckpoints: { intervalMs: 2, restartAtFrames: 1 } }, 60);
  try {
    assert.equal((await store.latest())?.size, 1200);
    assert.ok(wal < 1_000_000, `the WAL stays small (${wal} bytes)`);
    assert.equal(store.checkpointer?.failed, false);
  } finally {
    await store.close();
  }
});

test('a failed checkpoint thread hands checkpoints back to the writer, with a warning', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  const path = join(tmp, 'failed.db');
  const store = SqliteLogStore.open(path, { deferredSync: true });
  try {
    await store.checkpointer!.ready;
    await store.checkpointer!.terminate();
    await pause(10);
    assert.equal(store.checkpointer!.failed, true);
    assert.match(warnings.join('\n'), /checkpoint thread .* failed .*checkpoints run in the writer again/);
    // ~7 MB: past SQLite's own threshold, so the writer checkpoints and the database file grows.
    for (let i = 0; i < 600; i++) await store.appendBatch(batch(20), seal);
    assert.ok(size(path) > 2_000_000, `the writer checkpointed (${size(path)} bytes)`);
  } finally {
    process.off('warning', onWarning);
    await store.close(); // must not wait for the dead thread
  }
});
