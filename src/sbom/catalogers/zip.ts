/**
 * A small ZIP reader (PKWARE APPNOTE 6.3.x: end of central directory, ZIP64 records, central
 * directory, local headers; stored and deflated entries) over random access, for jars. Only the
 * central directory is read up front; an entry's bytes are read when asked for. Zips are
 * untrusted: entry counts, sizes and inflated output are capped (a zip bomb stops at the cap),
 * every offset is checked against the file size, and data prepended to the archive (self-
 * extracting stubs, shell launchers) is accounted for as Go's archive/zip does.
 */
import type { RandomAccess } from './cataloger.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export class ZipError extends Error {}

const EOCD_SIG = 0x06054b50;
const Z64_LOCATOR_SIG = 0x07064b50;
const Z64_EOCD_SIG = 0x06064b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
const MAX_ENTRIES = 500_000;

function u64(b: Buffer, o: number): number {
  const v = b.readBigUInt64LE(o);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('ZIP64 value out of range');
  return Number(v);
}

export function readCentralDirectory(file: RandomAccess): ZipEntry[] {
  if (file.size < 22) throw new ZipError('too small to be a zip');
  const tailLen = Math.min(file.size, 22 + 65535);
  const tail = file.read(file.size - tailLen, tailLen);
  let e = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
      e = i;
      break;
    }
  }
  if (e < 0) throw new ZipError('no end of central directory record');
  const eocdPos = file.size - tailLen + e;
  let count = tail.readUInt16LE(e + 10);
  let cdSize = tail.readUInt32LE(e + 12);
  let cdOffset = tail.readUInt32LE(e + 16);
  let cdEnd = eocdPos;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (eocdPos < 20) throw new ZipError('ZIP64 locator missing');
    const loc = file.read(eocdPos - 20, 20);
    if (loc.readUInt32LE(0) !== Z64_LOCATOR_SIG) throw new ZipError('ZIP64 locator missing');
    const z64Pos = u64(loc, 8);
    if (z64Pos + 56 > file.size) throw new ZipError('ZIP64 end record out of range');
    const z = file.read(z64Pos, 56);
    if (z.readUInt32LE(0) !== Z64_EOCD_SIG) throw new ZipError('bad ZIP64 end record');
    count = u64(z, 32);
    cdSize = u64(z, 40);
    cdOffset = u64(z, 48);
    cdEnd = z64Pos;
  }
  if (count > MAX_ENTRIES) throw new ZipError(`${count} entries is more than the ${MAX_ENTRIES} allowed`);
  if (cdSize > cdEnd) throw new ZipError('central directory size out of range');
  // Bytes prepended to the zip shift every offset by the same amount.
  const base = cdEnd - cdSize - cdOffset;
  if (base < 0) throw new ZipError('central directory offset out of range');
  const cd = file.read(cdOffset + base, cdSize);
  if (cd.length !== cdSize) throw new ZipError('central directory is truncated');
  const out: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CDH_SIG) throw new ZipError(`bad central directory entry ${i}`);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new ZipError(`central directory entry ${i} overruns`);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extended information extra field (0x0001): only the fields that overflowed, in order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        const take = (): number => {
          if (q + 8 > x + 4 + len) throw new ZipError('short ZIP64 extra field');
          const v = u64(cd, q);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      x += 4 + len;
    }
    out.push({ name, method, compressedSize, size, localOffset: localOffset + base });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** An entry's uncompressed bytes, at most `max` (more is an error: the entry is too large or a bomb). */
export function readEntry(file: RandomAccess, e: ZipEntry, max: number): Buffer {
  if (e.localOffset + 30 > file.size) throw new ZipError(`${e.name}: local header out of range`);
  const h = file.read(e.localOffset, 30);
  if (h.readUInt32LE(0) !== LFH_SIG) throw new ZipError(`${e.name}: bad local header`);
  const start = e.localOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
  if (start + e.compressedSize > file.size) throw new ZipError(`${e.name}: data out of range`);
  if (e.size > max) throw new ZipError(`${e.name}: ${e.size} bytes is over the ${max}-byte limit`);
  const data = file.read(start, e.compressedSize);
  if (e.method === 0) return data;
  if (e.method === 8) {
    try {
      // zlib is loaded on the first compressed entry, not on every `sigil sbom` start.
      return process.getBuiltinModule('node:zlib').inflateRawSync(data, { maxOutputLength: max });
    } catch (err) {
      throw new ZipError(`${e.name}: cannot inflate (${(err as Error).message})`);
    }
  }
  throw new ZipError(`${e.name}: compression method ${e.method} is not supported`);
}
