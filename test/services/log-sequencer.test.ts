/**
 * The log's group commit (src/services/log/sequencer.ts): what arrives in one turn of the event
 * loop goes into one batch, no more batches are in flight than the pipeline depth allows, every
 * submitter learns its own position, and back-pressure answers 503.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequencer } from '../../src/services/log/sequencer.js';
import { HttpError } from '../../src/services/http.js';
import type { AppendResult, NewEntry } from '../../src/services/storage/log-store.js';

const entry = (i: number): NewEntry => ({ leafHash: Buffer.alloc(32, i), body: Buffer.from(String(i)), kind: 't', version: '0', integratedTime: 0 });

/** A store stand-in that records batches and answers each after `delayMs`, with consecutive indices. */
function recorder(delayMs: number) {
  let size = 0;
  let inflight = 0;
  const seen = { batches: [] as number[], maxInflight: 0 };
  const commit = async (entries: NewEntry[]): Promise<AppendResult> => {
    inflight++;
    seen.maxInflight = Math.max(seen.maxInflight, inflight);
    seen.batches.push(entries.length);
    const first = size;
    size += entries.length;
    await new Promise((r) => setTimeout(r, delayMs));
    inflight--;
    return { outcomes: entries.map((e, k) => ({ index: first + k, duplicate: false, integratedTime: e.integratedTime })), head: undefined, nodes: [] };
  };
  return { commit, seen };
}

test('entries submitted in one turn of the event loop form one batch; each learns its position', async () => {
  const r = recorder(1);
  const seq = new Sequencer(r.commit);
  const got = await Promise.all(Array.from({ length: 10 }, (_, i) => seq.submit(entry(i))));
  assert.deepEqual(r.seen.batches, [10]);
  assert.deepEqual(
    got.map((s) => s.result.outcomes[s.position]!.index),
    Array.from({ length: 10 }, (_, i) => i),
  );
});

test('depth 1 commits one batch at a time; a deeper pipeline hands over more at once', async () => {
  for (const depth of [1, 3]) {
    const r = recorder(5);
    const seq = new Sequencer(r.commit, { pipelineDepth: depth });
    const all: Promise<unknown>[] = [];
    // Six turns of the event loop, each submitting two entries, while commits take 5 ms.
    for (let t = 0; t < 6; t++) {
      all.push(seq.submit(entry(2 * t)), seq.submit(entry(2 * t + 1)));
      await new Promise((res) => setImmediate(res));
    }
    await Promise.all(all);
    await seq.drain();
    assert.equal(r.seen.maxInflight, depth, `depth ${depth}`);
    assert.equal(
      r.seen.batches.reduce((a, b) => a + b, 0),
      12,
    );
  }
});

test('with flushAt, a burst is handed over in groups while it is still arriving', async () => {
  const r = recorder(1);
  const seq = new Sequencer(r.commit, { pipelineDepth: 4, flushAt: 4 });
  const got = await Promise.all(Array.from({ length: 10 }, (_, i) => seq.submit(entry(i))));
  assert.deepEqual(r.seen.batches, [4, 4, 2]);
  assert.deepEqual(
    got.map((s) => s.result.outcomes[s.position]!.index),
    Array.from({ length: 10 }, (_, i) => i),
  );
});

test('back-pressure: too many waiting entries and a commit slower than the timeout are 503s', async () => {
  const slow = recorder(200);
  const seq = new Sequencer(slow.commit, { maxPending: 2, integrationTimeoutMs: 50 });
  const a = seq.submit(entry(1));
  const b = seq.submit(entry(2));
  await assert.rejects(seq.submit(entry(3)), (e: unknown) => e instanceof HttpError && e.status === 503 && /too many entries/.test(e.message));
  await assert.rejects(a, (e: unknown) => e instanceof HttpError && e.status === 503 && /not integrated within 50 ms/.test(e.message));
  await assert.rejects(b, (e: unknown) => e instanceof HttpError && e.status === 503);
  await seq.drain();
});

test('a failed commit rejects every entry of its batch and the next batch still runs', async () => {
  let calls = 0;
  const seq = new Sequencer(async (entries) => {
    calls++;
    if (calls === 1) throw new Error('disk full');
    return { outcomes: entries.map((_, k) => ({ index: k, duplicate: false, integratedTime: 0 })), head: undefined, nodes: [] };
  });
  const first = [seq.submit(entry(1)), seq.submit(entry(2))];
  for (const p of first) await assert.rejects(p, /disk full/);
  const ok = await seq.submit(entry(3));
  assert.equal(ok.result.outcomes[ok.position]!.index, 0);
});

test('the integration timeout answers every late entry once, spares the ones in time, and works again after an idle spell', { timeout: 10_000 }, async () => {
  // Commits finish only when the test opens the gate; `gate` is replaced for each round.
  let open: () => void = () => undefined;
  let gate = Promise.resolve();
  const hold = () => (gate = new Promise<void>((r) => (open = r)));
  const seq = new Sequencer(
    async (entries) => {
      await gate;
      return { outcomes: entries.map((e, k) => ({ index: k, duplicate: false, integratedTime: e.integratedTime })), head: undefined, nodes: [] };
    },
    { integrationTimeoutMs: 60 },
  );
  // The sweep timer is unref'd (it must not keep a server alive); something else must here.
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    for (const round of [1, 2]) {
      hold();
      const start = performance.now();
      const outcomes = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => seq.submit(entry(i))));
      const waited = performance.now() - start;
      assert.ok(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof HttpError && o.reason.status === 503), `round ${round}: all 300 answered 503 while the commit was held`);
      assert.ok(waited >= 59, `round ${round}: not before the timeout (${waited.toFixed(0)} ms)`);
      open();
      await seq.drain();
      // Entries committed in time are answered normally, never 503.
      const inTime = await Promise.all(Array.from({ length: 50 }, (_, i) => seq.submit(entry(1000 + i))));
      assert.deepEqual(inTime.map((x) => x.position), Array.from({ length: 50 }, (_, i) => i));
      await new Promise((r) => setTimeout(r, 100)); // idle: nothing left to watch
    }
  } finally {
    clearInterval(keepAlive);
  }
});
