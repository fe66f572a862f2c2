import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { canonicalize } from '../../src/core/canonical-json.js';
import { fromBase64, fromBase64Url, fromHex, bytesEqual } from '../../src/core/encoding.js';
import { digestFile, digestFileSync, parseDigestString, sha256 } from '../../src/core/digest.js';
import { pae } from '../../src/core/pae.js';
import { decodePemBlocks, encodePem } from '../../src/core/pem.js';
import { parseJson } from '../../src/core/json.js';
import { SigilError } from '../../src/core/errors.js';

test('canonical JSON: RFC 8785 key order, numbers and escapes', () => {
  assert.equal(canonicalize({ b: 1, a: [true, null, 'x'], c: { z: 1e21, y: 0.1 } }), '{"a":[true,null,"x"],"b":1,"c":{"y":0.1,"z":1e+21}}');
  // RFC 8785 §3.2.3: sorting by UTF-16 code units, not code points
  assert.equal(canonicalize({ '\u20ac': 1, '\r': 2, '1': 3, '\ud83d\ude00': 4 }), '{"\\r":2,"1":3,"€":1,"😀":4}');
  assert.throws(() => canonicalize({ x: NaN }), (e: SigilError) => e.code === 'JSON_MALFORMED');
});

test('base64 and hex decoders reject malformed input instead of skipping it', () => {
  assert.deepEqual(fromBase64('aGVsbG8='), Buffer.from('hello'));
  assert.deepEqual(fromBase64('aGVsbG8'), Buffer.from('hello'));
  assert.throws(() => fromBase64('aGVs*G8='), (e: SigilError) => e.code === 'ENCODING_INVALID');
  assert.throws(() => fromBase64('a'), (e: SigilError) => e.code === 'ENCODING_INVALID');
  assert.deepEqual(fromBase64Url('aGVsbG8_-w'), Buffer.from('aGVsbG8_-w', 'base64url'));
  assert.throws(() => fromBase64Url('a+b'), (e: SigilError) => e.code === 'ENCODING_INVALID');
  assert.throws(() => fromHex('abc'), (e: SigilError) => e.code === 'ENCODING_INVALID');
  assert.ok(bytesEqual(fromHex('00ff'), Buffer.from([0, 255])));
  assert.ok(!bytesEqual(Buffer.from([1]), Buffer.from([1, 2])));
});

test('file digests equal node:crypto over the same bytes, sync and async, across chunk boundaries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-core-'));
  const data = Buffer.alloc((1 << 20) * 2 + 17, 7);
  const f = join(dir, 'f.bin');
  writeFileSync(f, data);
  const want = createHash('sha256').update(data).digest();
  assert.deepEqual(digestFileSync(f).sha256, want);
  assert.deepEqual(await digestFile(f), want);
  const both = digestFileSync(f, ['sha256', 'sha512']);
  assert.deepEqual(both.sha512, createHash('sha512').update(data).digest());
  assert.deepEqual(sha256(data), want);
  assert.throws(() => digestFileSync(join(dir, 'missing')), (e: SigilError) => e.code === 'INPUT_UNREADABLE');
});

test('digest strings: sha256:<hex> parsed, wrong length or algorithm refused', () => {
  const hex = 'a'.repeat(64);
  assert.equal(parseDigestString(`sha256:${hex}`)?.alg, 'sha256');
  assert.equal(parseDigestString(`sha256:${hex}0`), undefined);
  assert.equal(parseDigestString(`md5:${hex}`), undefined);
  assert.equal(parseDigestString('a.txt'), undefined);
});

test('DSSE PAE matches the spec example', () => {
  // DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world")
  assert.equal(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
});

test('PEM round trip and malformed JSON errors name the document', () => {
  const pem = encodePem('PUBLIC KEY', Buffer.from('abc'));
  assert.deepEqual(decodePemBlocks(pem), [{ label: 'PUBLIC KEY', der: Buffer.from('abc') }]);
  assert.throws(() => parseJson('{"a":', 'bundle.json'), (e: SigilError) => e.code === 'JSON_MALFORMED' && e.message.includes('bundle.json'));
});
