/**
 * RPM header blobs as rpmdb.sqlite stores them (rpm's lib/header.c "header blob": index count and
 * data length as big-endian u32, then 16-byte index entries {tag, type, offset, count}, then the
 * data store). Every count, offset and string is checked against the blob before it is read, so
 * a corrupt database gives an error instead of garbage or an out-of-range read.
 */

export const RPMTAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  PACKAGER: 1015,
  URL: 1020,
  ARCH: 1022,
  SOURCERPM: 1044,
  PROVIDENAME: 1047,
  REQUIRENAME: 1049,
  MODULARITYLABEL: 5096,
} as const;

const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;
const MAX_INDEX = 0xffff;
const MAX_DATA = 256 << 20;

export type HeaderValue = string | string[] | number[];

export class RpmHeaderError extends Error {}

export function parseRpmHeader(blob: Buffer): Map<number, HeaderValue> {
  if (blob.length < 8) throw new RpmHeaderError('header blob shorter than 8 bytes');
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  if (il > MAX_INDEX || dl > MAX_DATA) throw new RpmHeaderError(`header claims ${il} entries / ${dl} data bytes`);
  const dataStart = 8 + il * 16;
  if (dataStart + dl > blob.length) throw new RpmHeaderError('header blob is truncated');
  const data = blob.subarray(dataStart, dataStart + dl);
  const out = new Map<number, HeaderValue>();
  const readStrings = (offset: number, count: number): string[] => {
    const res: string[] = [];
    let p = offset;
    for (let i = 0; i < count; i++) {
      const end = data.indexOf(0, p);
      if (end < 0) throw new RpmHeaderError('unterminated string in header');
      res.push(data.toString('utf8', p, end));
      p = end + 1;
    }
    return res;
  };
  for (let i = 0; i < il; i++) {
    const e = 8 + i * 16;
    const tag = blob.readInt32BE(e);
    const type = blob.readUInt32BE(e + 4);
    const offset = blob.readInt32BE(e + 8);
    const count = blob.readUInt32BE(e + 12);
    if (offset < 0 || offset > dl) throw new RpmHeaderError(`tag ${tag}: offset out of range`);
    if (count > dl + 1) throw new RpmHeaderError(`tag ${tag}: count out of range`);
    if (type === TYPE_STRING) out.set(tag, readStrings(offset, 1)[0]!);
    else if (type === TYPE_I18NSTRING) out.set(tag, readStrings(offset, Math.max(1, count))[0]!);
    else if (type === TYPE_STRING_ARRAY) out.set(tag, readStrings(offset, count));
    else if (type === TYPE_INT32) {
      if (offset + count * 4 > dl) throw new RpmHeaderError(`tag ${tag}: data out of range`);
      const nums: number[] = [];
      for (let k = 0; k < count; k++) nums.push(data.readInt32BE(offset + k * 4));
      out.set(tag, nums);
    }
  }
  return out;
}

export function headerString(h: Map<number, HeaderValue>, tag: number): string | undefined {
  const v = h.get(tag);
  return typeof v === 'string' ? v : undefined;
}

export function headerStrings(h: Map<number, HeaderValue>, tag: number): string[] {
  const v = h.get(tag);
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : [];
}

export function headerInt(h: Map<number, HeaderValue>, tag: number): number | undefined {
  const v = h.get(tag);
  return Array.isArray(v) && typeof v[0] === 'number' ? v[0] : undefined;
}
