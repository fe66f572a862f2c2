/**
 * The binary batch form between the main thread and the SQLite writer thread: round trips keep
 * every field (including empty bodies, repeated and differing kinds), and damage is an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeEntries, decodeResult, encodeEntries, encodeResult } from '../../src/services/storage/append-wire.js';
import type { NewEntry } from '../../src/services/storage/log-store.js';

const entry = (kind: string, version: string, body: Buffer, integratedTime: number): NewEntry => ({ leafHash: randomBytes(32), body, kind, version, integratedTime });

test('entries survive the round trip, field for field', () => {
  const entries = [
    entry('hashedrekord', '0.0.2', randomBytes(700), 1700000000),
    entry('hashedrekord', '0.0.2', Buffer.alloc(0), 0),
    entry('dsse', '0.0.2', randomBytes(70000), 2 ** 40),
    entry('intoto', '0.0.1', Buffer.from('{}'), 1),
  ];
  const back = decodeEntries(encodeEntries(entries));
  assert.equal(back.length, entries.length);
  back.forEach((b, i) => {
    const e = entries[i]!;
    assert.deepEqual([b.kind, b.version, b.integratedTime], [e.kind, e.version, e.integratedTime]);
    assert.ok(b.leafHash.equals(e.leafHash) && b.body.equals(e.body), `entry ${i} bytes`);
  });
  assert.deepEqual(decodeEntries(encodeEntries([])), []);
});

test('entries that cannot be encoded, and truncated batches, are internal errors', () => {
  assert.throws(() => encodeEntries([{ ...entry('hashedrekord', '0.0.2', Buffer.alloc(1), 0), leafHash: Buffer.alloc(31) }]), /malformed leaf hash/);
  assert.throws(() => encodeEntries([entry('hashed rekord', '0.0.2', Buffer.alloc(1), 0)]), /malformed leaf hash, kind or version/);
  assert.throws(() => encodeEntries([entry('dsse', 'v\u00e9', Buffer.alloc(1), 0)]), /kind or version/);
  const whole = encodeEntries([entry('dsse', '0.0.2', Buffer.alloc(100, 7), 0)]);
  assert.throws(() => decodeEntries(whole.slice(0, whole.byteLength - 1)), /truncated/);
});

test('results survive the round trip; a wrong length is an internal error', () => {
  const outcomes = [
    { index: 0, duplicate: false, integratedTime: 5 },
    { index: 2 ** 40, duplicate: true, integratedTime: 0 },
  ];
  const nodes = [
    { level: 0, index: 7, hash: randomBytes(32) },
    { level: 3, index: 2 ** 35, hash: randomBytes(32) },
  ];
  const back = decodeResult(encodeResult(outcomes, nodes));
  assert.deepEqual(back.outcomes, outcomes);
  assert.deepEqual(back.nodes.map((n) => [n.level, n.index, n.hash.toString('hex')]), nodes.map((n) => [n.level, n.index, n.hash.toString('hex')]));
  const packed = encodeResult(outcomes, nodes);
  assert.throws(() => decodeResult(packed.slice(0, packed.byteLength - 1)), /wrong length/);
});
