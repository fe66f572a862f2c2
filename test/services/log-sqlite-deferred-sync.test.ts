/**
 * SQLite deferred sync (SqliteLogStoreOptions.deferredSync, what `sigil log serve` uses): an
 * append resolves only after the WAL flush that follows its commit, readers never see a commit
 * before it is flushed, a failed flush fails every waiting and later append; with flushes on
 * libuv's pool, one flush covers every commit made while the previous one ran.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { fdatasyncSync, mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafHash } from '../../src/merkle/hash.js';
import { formatCheckpoint, signNote } from '../../src/formats/checkpoint.js';
import { SqliteLogStore } from '../../src/services/storage/sqlite-log-store.js';
import type { NewEntry, SealFn } from '../../src/services/storage/log-store.js';
import type { FdatasyncFn } from '../../src/services/storage/wal-syncer.js';

const tmp = mkdtempSync(join(tmpdir(), 'sigil-deferred-sync-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const kp = generateKeyPairSync('ed25519');
const signer = { publicKey: kp.publicKey, keyDetails: 'PKIX_ED25519' as const, sign: (d: Uint8Array) => Promise.resolve(sign(null, d, kp.privateKey)) };
const seal: SealFn = (size, rootHash) => signNote(formatCheckpoint({ origin: 'sync.test', size, rootHash, otherLines: [] }), 'sync.test', signer);
const entry = (s: string): NewEntry => {
  const body = Buffer.from(s);
  return { leafHash: leafHash(body), body, kind: 'test', version: '0', integratedTime: 1 };
};

/** An fdatasync that holds each call until the test releases it (or fails it). */
function heldFdatasync(): { fn: FdatasyncFn; calls: number; release: (err?: NodeJS.ErrnoException) => void; waiting: () => number } {
  const held: ((err: NodeJS.ErrnoException | null) => void)[] = [];
  const h = {
    calls: 0,
    fn: ((_fd, cb) => {
      h.calls++;
      held.push(cb);
    }) as FdatasyncFn,
    release: (err?: NodeJS.ErrnoException) => held.shift()!(err ?? null),
    waiting: () => held.length,
  };
  return h;
}

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setTimeout(r, 20));
  return done;
};

test('an append waits for its flush, and readers see nothing of it before', async () => {
  const sync = heldFdatasync();
  const store = SqliteLogStore.open(join(tmp, 'held.db'), { deferredSync: true, flush: { on: 'pool', fdatasync: sync.fn } });
  try {
    const first = store.appendBatch([entry('a')], seal);
    assert.equal(await settled(first), false, 'not answered before the flush');
    assert.equal(sync.waiting(), 1);
    assert.equal(await store.latest(), undefined, 'the committed head is not published before its flush');
    assert.equal(await store.findLeaf(leafHash(Buffer.from('a'))), undefined);
    assert.deepEqual(await store.readEntries(0, 10), []);
    assert.equal(await store.checkpointAt(1), undefined);
    sync.release();
    const r = await first;
    assert.equal(r.head?.size, 1);
    assert.equal((await store.latest())?.size, 1, 'published once flushed');
    assert.equal(await store.findLeaf(leafHash(Buffer.from('a'))), 0);

    // While one flush runs, later commits wait for the next flush, which covers all of them.
    const b = store.appendBatch([entry('b')], seal);
    await new Promise((r) => setTimeout(r, 10));
    const c = store.appendBatch([entry('c'), entry('a')], seal);
    const d = store.appendBatch([entry('d')], seal);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(sync.calls, 2, 'the flush for b is running; c and d committed behind it');
    assert.equal((await store.latest())?.size, 1, 'readers still see the flushed tree only');
    sync.release();
    assert.equal((await b).head?.size, 2);
    assert.equal(await settled(c), false, 'c committed after the flush for b began');
    assert.equal(sync.calls, 3, 'one more flush for both c and d');
    sync.release();
    const [rc, rd] = await Promise.all([c, d]);
    assert.deepEqual(
      rc.outcomes.map((o) => [o.index, o.duplicate]),
      [
        [2, false],
        [0, true],
      ],
    );
    assert.equal(rd.head?.size, 4);
    assert.equal((await store.latest())?.size, 4);
  } finally {
    const closing = store.close();
    while (sync.waiting() > 0) sync.release();
    await closing;
  }
});

test('a failed flush fails the appends waiting for it and every later one', async () => {
  const sync = heldFdatasync();
  const store = SqliteLogStore.open(join(tmp, 'failing.db'), { deferredSync: true, flush: { on: 'pool', fdatasync: sync.fn } });
  try {
    const first = store.appendBatch([entry('x')], seal);
    await new Promise((r) => setTimeout(r, 10));
    sync.release(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await assert.rejects(first, (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'STORAGE');
      assert.match(e.message, /flushing the SQLite WAL to disk failed \(EIO\)/);
      assert.match(e.hint ?? '', /restart the log/);
      return true;
    });
    await assert.rejects(store.appendBatch([entry('y')], seal), /flushing the SQLite WAL to disk failed/);
    assert.equal(sync.calls, 1, 'the later append was refused before committing anything');
    assert.equal(await store.latest(), undefined, 'nothing unflushed was ever published');
  } finally {
    await store.close();
  }
});

test('on the caller\'s thread, each commit is flushed right after it, before the append resolves', async () => {
  const path = join(tmp, 'caller.db');
  const seen: number[] = [];
  let failWith: string | undefined;
  const fdatasync = (fd: number): void => {
    // The commit is in the WAL already: another connection sees the new tree size.
    const db = new Database(path, { readonly: true });
    seen.push(db.prepare('SELECT size FROM tree WHERE id = 1').pluck().get() as number);
    db.close();
    if (failWith) throw Object.assign(new Error(failWith), { code: failWith });
    fdatasyncSync(fd);
  };
  const store = SqliteLogStore.open(path, { deferredSync: true, flush: { on: 'caller', fdatasync } });
  try {
    const first = await store.appendBatch([entry('a'), entry('b')], seal);
    assert.deepEqual(seen, [2], 'one flush, after the commit of both entries');
    assert.equal(first.head?.size, 2);
    assert.equal((await store.latest())?.size, 2, 'published once flushed');
    const [second, third] = await Promise.all([store.appendBatch([entry('c')], seal), store.appendBatch([entry('d'), entry('a')], seal)]);
    assert.deepEqual(seen, [2, 3, 4], 'a flush per commit, each after its own commit');
    assert.equal(second.head?.size, 3);
    assert.deepEqual(
      third.outcomes.map((o) => [o.index, o.duplicate]),
      [
        [3, false],
        [0, true],
      ],
    );

    failWith = 'EIO';
    await assert.rejects(store.appendBatch([entry('e')], seal), /flushing the SQLite WAL to disk failed \(EIO\)/);
    await assert.rejects(store.appendBatch([entry('f')], seal), /flushing the SQLite WAL to disk failed/);
    assert.deepEqual(seen, [2, 3, 4, 5], 'the later append was refused before committing anything');
    assert.equal((await store.latest())?.size, 4, 'the unflushed commit was never published');
  } finally {
    await store.close();
  }
});

test('deferred sync and a writer thread are refused together', () => {
  assert.throws(() => SqliteLogStore.open(join(tmp, 'both.db'), { deferredSync: true, writerThread: true }), /deferredSync or writerThread, not both/);
});
