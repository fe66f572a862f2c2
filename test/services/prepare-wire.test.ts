import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SigilError } from '../../src/core/errors.js';
import { decodeAnswers, decodeRequests, encodeAnswers, encodeRequests, type WireAnswer } from '../../src/services/log/prepare-wire.js';

test('request groups round-trip, bodies come back as views of the one buffer', () => {
  const reqs = [
    { id: 1, api: 'v2' as const, body: Buffer.from('{"hashedRekordRequestV002":{}}') },
    { id: 4_000_000_000, api: 'v1' as const, body: Buffer.alloc(0) },
    { id: 7, api: 'v2' as const, body: randomBytes(70_000) },
  ];
  const ab = encodeRequests(reqs);
  const back = decodeRequests(ab);
  assert.deepEqual(
    back.map((r) => ({ ...r, body: Buffer.from(r.body) })),
    reqs,
  );
  assert.ok(back.every((r) => r.body.buffer === ab), 'no copies');
  assert.deepEqual(decodeRequests(encodeRequests([])), []);
});

test('answer groups round-trip entries and errors', () => {
  const answers: WireAnswer[] = [
    { id: 3, entry: { kind: 'hashedrekord', version: '0.0.2', body: Buffer.from('{"a":1}'), leafHash: randomBytes(32) } },
    { id: 9, error: { code: 'SIGNATURE_INVALID', message: 'the signature does not verify — “quoted”', hint: 'check the key', kind: 'verification' } },
    { id: 10, error: { code: 'INTERNAL', message: 'internal error: x', kind: 'internal' } },
    { id: 11, entry: { kind: 'dsse', version: '0.0.2', body: randomBytes(65_535), leafHash: randomBytes(32) } },
  ];
  const back = decodeAnswers(encodeAnswers(answers));
  assert.deepEqual(
    back.map((a) => ('entry' in a ? { id: a.id, entry: { ...a.entry, body: Buffer.from(a.entry.body), leafHash: Buffer.from(a.entry.leafHash) } } : a)),
    answers,
  );
});

test('a truncated group is an internal error, not a crash or a short read', () => {
  const reqs = encodeRequests([{ id: 1, api: 'v2', body: Buffer.from('0123456789') }]);
  const answers = encodeAnswers([
    { id: 1, entry: { kind: 'k', version: 'v', body: Buffer.from('body'), leafHash: randomBytes(32) } },
    { id: 2, error: { code: 'USAGE', message: 'm', kind: 'input' } },
  ]);
  for (const [decode, ab] of [[decodeRequests, reqs], [decodeAnswers, answers]] as const) {
    for (const cut of [1, 5, ab.byteLength - 1]) {
      assert.throws(() => (decode as (b: ArrayBuffer) => unknown)(ab.slice(0, cut)), (e: unknown) => e instanceof SigilError && e.code === 'INTERNAL' && /truncated/.test(e.message));
    }
  }
});
