import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeTileIndex,
  tilePath,
  parseTilePath,
  tileForNode,
  tileWidthAt,
  encodeEntryBundle,
  decodeEntryBundle,
  decodeHashTile,
} from '../../src/merkle/tiles.js';
import { isSigilError } from '../../src/core/errors.js';

test('C2SP tlog-tiles index encoding (1234067 → x001/x234/067)', () => {
  assert.equal(encodeTileIndex(1234067), 'x001/x234/067');
  assert.equal(encodeTileIndex(0), '000');
  assert.equal(encodeTileIndex(999), '999');
  assert.equal(encodeTileIndex(1000), 'x001/000');
  assert.equal(tilePath({ kind: 'hash', level: 0, index: 1234067, width: 256 }), 'tile/0/x001/x234/067');
  assert.equal(tilePath({ kind: 'hash', level: 1, index: 5, width: 17 }), 'tile/1/005.p/17');
  assert.equal(tilePath({ kind: 'entries', level: 0, index: 1234067, width: 3 }), 'tile/entries/x001/x234/067.p/3');
});

test('tile paths round-trip and malformed paths are rejected', () => {
  for (const t of [
    { kind: 'hash', level: 0, index: 0, width: 256 },
    { kind: 'hash', level: 2, index: 1234067, width: 1 },
    { kind: 'entries', level: 0, index: 999999, width: 255 },
    { kind: 'entries', level: 0, index: 1000, width: 256 },
  ] as const) {
    assert.deepEqual(parseTilePath(tilePath(t)), t);
    assert.deepEqual(parseTilePath('/' + tilePath(t)), t);
  }
  for (const bad of [
    'tile/0/1',
    'tile/0/0001',
    'tile/0/001/002',
    'tile/0/x001',
    'tile/00/001',
    'tile/64/001',
    'tile/-1/001',
    'tile/0/001.p/0',
    'tile/0/001.p/256',
    'tile/0/001.p/017',
    'tile/0/001.p/',
    'tile/entries/abc',
    'tiles/0/001',
    'tile/0',
    'tile/0/x001/x002',
  ]) {
    assert.throws(() => parseTilePath(bad), (e: unknown) => isSigilError(e) && e.code === 'NOT_FOUND', bad);
  }
});

test('tile coordinates of nodes and tile widths at a tree size', () => {
  assert.deepEqual(tileForNode(0, 300), { tileLevel: 0, tileIndex: 1, levelInTile: 0, offset: 44 });
  assert.deepEqual(tileForNode(3, 40), { tileLevel: 0, tileIndex: 1, levelInTile: 3, offset: 8 });
  assert.deepEqual(tileForNode(8, 257), { tileLevel: 1, tileIndex: 1, levelInTile: 0, offset: 1 });
  assert.equal(tileWidthAt(0, 0, 70000), 256);
  assert.equal(tileWidthAt(0, 273, 70000), 70000 - 273 * 256);
  assert.equal(tileWidthAt(0, 274, 70000), 0);
  assert.equal(tileWidthAt(1, 0, 70000), 256);
  assert.equal(tileWidthAt(1, 1, 70000), Math.floor(70000 / 256) - 256);
  assert.equal(tileWidthAt(2, 0, 70000), 1);
});

test('entry bundles and hash tiles decode strictly', () => {
  const entries = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(300, 7)];
  const bundle = encodeEntryBundle(entries);
  assert.equal(bundle.length, 2 + 1 + 2 + 2 + 300);
  assert.deepEqual(decodeEntryBundle(bundle), entries);
  assert.throws(() => decodeEntryBundle(bundle.subarray(0, bundle.length - 1)), (e: unknown) => isSigilError(e) && e.code === 'ENCODING_INVALID');
  assert.throws(() => decodeEntryBundle(Buffer.from([0])), (e: unknown) => isSigilError(e) && e.code === 'ENCODING_INVALID');
  assert.equal(decodeHashTile(Buffer.alloc(64)).length, 2);
  assert.throws(() => decodeHashTile(Buffer.alloc(33)), (e: unknown) => isSigilError(e) && e.code === 'ENCODING_INVALID');
  assert.throws(() => decodeHashTile(Buffer.alloc(257 * 32)), (e: unknown) => isSigilError(e) && e.code === 'ENCODING_INVALID');
});
