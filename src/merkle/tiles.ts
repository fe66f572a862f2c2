/**
 * Tile coordinates and paths of C2SP tlog-tiles. A tile at level L, index N holds the hashes of
 * tree level 8·L, nodes N·256 … N·256+W−1 (W = 256 for a full tile, 1…255 for a partial one).
 * Entry bundles at tile/entries/N hold the entries of leaves N·256 … N·256+W−1, each prefixed by
 * its big-endian uint16 length.
 */
import { SigilError } from '../core/errors.js';
import { HASH_SIZE } from './hash.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

export interface TileRef {
  /** 'hash' for tile/<L>/<N>, 'entries' for tile/entries/<N>. */
  kind: 'hash' | 'entries';
  /** Tile level L (0 for entry bundles). */
  level: number;
  index: number;
  /** Number of hashes or entries: 256 for a full tile. */
  width: number;
}

function badPath(path: string, why: string): SigilError {
  return new SigilError('NOT_FOUND', `tile path ${JSON.stringify(path)} is not valid: ${why}`, {
    hint: 'tile paths look like tile/0/x001/234, tile/1/005.p/17 or tile/entries/000',
  });
}

/** N as three-digit path elements, all but the last prefixed with "x" (1234067 → x001/x234/067). */
export function encodeTileIndex(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new SigilError('INTERNAL', `tile index ${index} is not a non-negative integer`);
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** The path of a tile, without a leading slash: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]. */
export function tilePath(t: TileRef): string {
  if (!Number.isInteger(t.width) || t.width < 1 || t.width > TILE_WIDTH) throw new SigilError('INTERNAL', `tile width ${t.width} out of range`);
  const suffix = t.width === TILE_WIDTH ? '' : `.p/${t.width}`;
  const prefix = t.kind === 'entries' ? 'tile/entries' : `tile/${t.level}`;
  return `${prefix}/${encodeTileIndex(t.index)}${suffix}`;
}

/** Parses a tile path (with or without a leading slash); strict, because paths are URL input. */
export function parseTilePath(path: string): TileRef {
  const parts = path.replace(/^\//, '').split('/');
  if (parts[0] !== 'tile' || parts.length < 3) throw badPath(path, 'must start with tile/<L>/ or tile/entries/');
  const levelPart = parts[1]!;
  let kind: TileRef['kind'];
  let level: number;
  if (levelPart === 'entries') {
    kind = 'entries';
    level = 0;
  } else if (/^(0|[1-9][0-9]?)$/.test(levelPart) && Number(levelPart) <= 63) {
    kind = 'hash';
    level = Number(levelPart);
  } else {
    throw badPath(path, `level ${JSON.stringify(levelPart)} is not a decimal number 0-63`);
  }
  let rest = parts.slice(2);
  let width = TILE_WIDTH;
  const last = rest[rest.length - 1]!;
  if (rest.length >= 2 && rest[rest.length - 2]!.endsWith('.p')) {
    if (!/^[1-9][0-9]{0,2}$/.test(last) || Number(last) > TILE_WIDTH - 1) throw badPath(path, `partial width ${JSON.stringify(last)} must be 1-255`);
    width = Number(last);
    rest = rest.slice(0, -1);
    rest[rest.length - 1] = rest[rest.length - 1]!.slice(0, -2);
  }
  let index = 0;
  rest.forEach((el, i) => {
    const isLast = i === rest.length - 1;
    const m = isLast ? /^([0-9]{3})$/.exec(el) : /^x([0-9]{3})$/.exec(el);
    if (!m) throw badPath(path, `index element ${JSON.stringify(el)} must be ${isLast ? 'three digits' : 'x and three digits'}`);
    index = index * 1000 + Number(m[1]);
  });
  if (!Number.isSafeInteger(index)) throw badPath(path, 'index too large');
  return { kind, level, index, width };
}

/** The tile holding tree node (level, index) and the node's position inside it. */
export function tileForNode(level: number, index: number): { tileLevel: number; tileIndex: number; levelInTile: number; offset: number } {
  const tileLevel = Math.floor(level / TILE_HEIGHT);
  const levelInTile = level % TILE_HEIGHT;
  // A node at level l inside the tile covers 2^levelInTile tile-level hashes.
  const span = 2 ** levelInTile;
  const perTile = TILE_WIDTH / span;
  return { tileLevel, tileIndex: Math.floor(index / perTile), levelInTile, offset: index % perTile };
}

/**
 * The width of tile (level L, index N) in a tree of `size` leaves: 256 when full, else how many
 * hashes of tree level 8·L exist in it (0 when the tile does not exist yet).
 */
export function tileWidthAt(level: number, index: number, size: number): number {
  const nodesAtLevel = Math.floor(size / 2 ** (TILE_HEIGHT * level));
  const start = index * TILE_WIDTH;
  return Math.max(0, Math.min(TILE_WIDTH, nodesAtLevel - start));
}

/** Encodes an entry bundle: each entry as a big-endian uint16 length then its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.byteLength > 0xffff) throw new SigilError('INTERNAL', `entry of ${e.byteLength} bytes does not fit a tile entry (max 65535)`);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(e.byteLength);
    parts.push(len, Buffer.from(e.buffer, e.byteOffset, e.byteLength));
  }
  return Buffer.concat(parts);
}

/** Decodes an entry bundle; throws ENCODING_INVALID on a truncated bundle. */
export function decodeEntryBundle(bundle: Uint8Array): Buffer[] {
  const buf = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 2 > buf.length) throw new SigilError('ENCODING_INVALID', `entry bundle truncated in a length prefix at byte ${pos}`);
    const len = buf.readUInt16BE(pos);
    pos += 2;
    if (pos + len > buf.length) throw new SigilError('ENCODING_INVALID', `entry bundle truncated: entry at byte ${pos - 2} claims ${len} bytes`);
    out.push(buf.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}

/** Splits a hash tile body into its 32-byte hashes. */
export function decodeHashTile(tile: Uint8Array): Buffer[] {
  if (tile.byteLength % HASH_SIZE !== 0 || tile.byteLength === 0 || tile.byteLength > TILE_WIDTH * HASH_SIZE) {
    throw new SigilError('ENCODING_INVALID', `hash tile of ${tile.byteLength} bytes is not 1-256 hashes of ${HASH_SIZE} bytes`);
  }
  const buf = Buffer.from(tile.buffer, tile.byteOffset, tile.byteLength);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += HASH_SIZE) out.push(buf.subarray(i, i + HASH_SIZE));
  return out;
}
