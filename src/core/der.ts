/**
 * A minimal, strict DER reader and writer (X.690 §10): enough to walk X.509 certificates, CMS
 * SignedData and RFC 3161 tokens on the verify hot path without building an object tree.
 *
 * Elements are described by offsets into one shared buffer (`Tlv`), so walking a certificate
 * allocates a few small objects and never copies bytes; values are `subarray` views. Only what
 * DER allows is accepted: definite, minimally encoded lengths, low tag numbers (all the
 * structures sigil reads use tags < 31), and every element must end inside its parent. Inputs are
 * attacker-controlled (bundles, timestamp responses), so every read is bounds-checked and every
 * failure is a SigilError with the caller's error code, never a RangeError.
 */
import { SigilError, type ErrorCode } from './errors.js';

/** One DER element: `tag` byte, and where its header, value and end are in `Der.buf`. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first value byte. */
  valueStart: number;
  /** Offset just past the value. */
  end: number;
}

/** Universal tags and context-specific tags used by X.509, CMS and RFC 3161. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag `[n]`, constructed (EXPLICIT or IMPLICIT over a constructed type) or primitive. */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/**
 * A DER buffer plus the error code and name used when it is malformed, so one reader reports
 * `CERTIFICATE_MALFORMED: certificate: …` and another `TIMESTAMP_MALFORMED: timestamp: …`.
 */
export class Der {
  readonly buf: Buffer;
  readonly code: ErrorCode;
  readonly what: string;

  constructor(bytes: Uint8Array, code: ErrorCode = 'ENCODING_INVALID', what = 'DER value') {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.code = code;
    this.what = what;
  }

  fail(message: string, hint = 'the value is not valid DER; it was truncated, altered or is not this kind of object'): never {
    throw new SigilError(this.code, `${this.what}: ${message}`, { hint });
  }

  /** The single element that must span the whole buffer (no trailing bytes). */
  root(): Tlv {
    const t = this.read(0, this.buf.length);
    if (t.end !== this.buf.length) this.fail(`${this.buf.length - t.end} trailing bytes after the DER element`);
    return t;
  }

  /** Reads the element starting at `pos`, which must end at or before `limit`. */
  read(pos: number, limit: number): Tlv {
    const buf = this.buf;
    if (pos >= limit) this.fail('unexpected end of data');
    const tag = buf[pos]!;
    if ((tag & 0x1f) === 0x1f) this.fail(`high tag number form at offset ${pos} is not supported`);
    if (pos + 1 >= limit) this.fail('unexpected end of data in a length');
    let len = buf[pos + 1]!;
    let valueStart = pos + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      // X.690 §10.1: DER has no indefinite form; 4 length bytes (4 GiB) is far beyond any input here.
      if (n === 0) this.fail(`indefinite length at offset ${pos} is not DER`);
      if (n > 4) this.fail(`length of ${n} bytes at offset ${pos} is too large`);
      if (valueStart + n > limit) this.fail('unexpected end of data in a length');
      if (buf[valueStart] === 0) this.fail(`length at offset ${pos} has a leading zero byte (not minimal DER)`);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[valueStart + i]!;
      if (len < 0x80) this.fail(`length ${len} at offset ${pos} uses the long form (not minimal DER)`);
      valueStart += n;
    }
    const end = valueStart + len;
    if (end > limit) this.fail(`element at offset ${pos} (length ${len}) runs past the end of its container`);
    return { tag, start: pos, valueStart, end };
  }

  /** The direct children of a constructed element, in order. */
  children(t: Tlv): Tlv[] {
    if (!(t.tag & 0x20)) this.fail(`element with tag 0x${t.tag.toString(16)} is primitive, expected a constructed one`);
    const out: Tlv[] = [];
    let pos = t.valueStart;
    while (pos < t.end) {
      const c = this.read(pos, t.end);
      out.push(c);
      pos = c.end;
    }
    return out;
  }

  /** Asserts the tag of an element (`what` names the field for the error message). */
  expect(t: Tlv | undefined, tag: number, what: string): Tlv {
    if (t === undefined) this.fail(`${what} is missing`);
    if (t.tag !== tag) this.fail(`${what} has tag 0x${t.tag.toString(16)}, expected 0x${tag.toString(16)}`);
    return t;
  }

  /** Children of a SEQUENCE/SET (or other constructed tag) after checking its tag. */
  seq(t: Tlv | undefined, what: string, tag: number = TAG.SEQUENCE): Tlv[] {
    return this.children(this.expect(t, tag, what));
  }

  /** The value bytes (a view, not a copy). */
  value(t: Tlv): Buffer {
    return this.buf.subarray(t.valueStart, t.end);
  }

  /** The whole element, header included (a view). */
  bytes(t: Tlv): Buffer {
    return this.buf.subarray(t.start, t.end);
  }

  oid(t: Tlv | undefined, what = 'object identifier'): string {
    const v = this.value(this.expect(t, TAG.OID, what));
    // A certificate repeats the same few dozen OIDs; decoding each to a dotted string was ~15 % of
    // a Fulcio leaf parse, so decoded forms are memoised by their bytes (bounded: hostile input
    // with endless distinct OIDs just stops being memoised).
    const key = v.toString('latin1');
    const hit = OID_MEMO.get(key);
    if (hit !== undefined) return hit;
    const s = decodeOid(v, (m) => this.fail(`${what}: ${m}`));
    if (OID_MEMO.size < OID_MEMO_LIMIT) OID_MEMO.set(key, s);
    return s;
  }

  boolean(t: Tlv, what = 'boolean'): boolean {
    const v = this.value(this.expect(t, TAG.BOOLEAN, what));
    // X.690 §11.1: DER TRUE is 0xFF exactly.
    if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) this.fail(`${what} is not a DER BOOLEAN`);
    return v[0] === 0xff;
  }

  /** INTEGER content bytes (two's complement, minimal), checked for DER minimality. */
  integerBytes(t: Tlv | undefined, what = 'integer', tag: number = TAG.INTEGER): Buffer {
    const v = this.value(this.expect(t, tag, what));
    if (v.length === 0) this.fail(`${what} is empty`);
    if (v.length > 1 && ((v[0] === 0 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80))) {
      this.fail(`${what} is not minimally encoded`);
    }
    return v;
  }

  /** A small non-negative INTEGER (versions, path lengths, status codes). */
  smallInt(t: Tlv | undefined, what = 'integer', tag: number = TAG.INTEGER): number {
    const v = this.integerBytes(t, what, tag);
    if (v[0]! & 0x80) this.fail(`${what} is negative`);
    if (v.length > 6) this.fail(`${what} is too large`);
    let n = 0;
    for (const b of v) n = n * 256 + b;
    return n;
  }

  /** BIT STRING contents; `unused` is the count of padding bits in the last byte. */
  bitString(t: Tlv | undefined, what = 'bit string'): { unused: number; bytes: Buffer } {
    const v = this.value(this.expect(t, TAG.BIT_STRING, what));
    if (v.length === 0) this.fail(`${what} is empty`);
    const unused = v[0]!;
    if (unused > 7 || (v.length === 1 && unused !== 0)) this.fail(`${what} has an invalid unused-bits count`);
    // X.690 §11.2.1: DER padding bits are zero.
    if (unused && v[v.length - 1]! & ((1 << unused) - 1)) this.fail(`${what} has non-zero padding bits`);
    return { unused, bytes: v.subarray(1) };
  }

  octets(t: Tlv | undefined, what = 'octet string'): Buffer {
    return this.value(this.expect(t, TAG.OCTET_STRING, what));
  }

  /** Any ASN.1 character string as a JS string; BMP/Universal are decoded, others checked per type. */
  string(t: Tlv | undefined, what = 'string'): string {
    if (t === undefined) this.fail(`${what} is missing`);
    const v = this.value(t);
    switch (t.tag) {
      case TAG.UTF8_STRING: {
        const s = v.toString('utf8');
        // Buffer#toString replaces invalid sequences with U+FFFD; round-tripping detects that.
        if (!Buffer.from(s, 'utf8').equals(v)) this.fail(`${what} is not valid UTF-8`);
        return s;
      }
      case TAG.PRINTABLE_STRING:
        if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(v.toString('latin1'))) this.fail(`${what} has characters outside PrintableString`);
        return v.toString('latin1');
      case TAG.IA5_STRING:
      case TAG.VISIBLE_STRING:
        for (const b of v) if (b > 0x7f) this.fail(`${what} has non-ASCII bytes`);
        return v.toString('latin1');
      case TAG.T61_STRING:
        return v.toString('latin1');
      case TAG.BMP_STRING: {
        if (v.length % 2) this.fail(`${what} has an odd length`);
        const swapped = Buffer.from(v);
        swapped.swap16();
        return swapped.toString('utf16le');
      }
      case TAG.UNIVERSAL_STRING: {
        if (v.length % 4) this.fail(`${what} length is not a multiple of 4`);
        let s = '';
        for (let i = 0; i < v.length; i += 4) s += String.fromCodePoint(v.readUInt32BE(i));
        return s;
      }
      default:
        return this.fail(`${what} has tag 0x${t.tag.toString(16)}, which is not a string type`);
    }
  }

  /** UTCTime or GeneralizedTime (with optional fractional seconds) as a Date. */
  time(t: Tlv | undefined, what = 'time'): Date {
    if (t === undefined) this.fail(`${what} is missing`);
    const s = this.value(t).toString('latin1');
    const d =
      t.tag === TAG.UTC_TIME ? parseUtcTime(s) : t.tag === TAG.GENERALIZED_TIME ? parseGeneralizedTime(s) : undefined;
    if (d === undefined) {
      this.fail(`${what} ${JSON.stringify(s)} is not a valid ${t.tag === TAG.UTC_TIME ? 'UTCTime' : t.tag === TAG.GENERALIZED_TIME ? 'GeneralizedTime' : 'time'}`);
    }
    return d;
  }
}

const OID_MEMO = new Map<string, string>();
const OID_MEMO_LIMIT = 4096;

/** Dotted-decimal form of OID content bytes (X.690 §8.19). */
export function decodeOid(v: Uint8Array, fail: (m: string) => never): string {
  if (v.length === 0) fail('empty');
  const arcs: number[] = [];
  let n = 0;
  let started = false;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (!started && b === 0x80) fail('arc has a leading 0x80 byte (not minimal)');
    started = true;
    n = n * 128 + (b & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 128) fail('arc too large');
    if (!(b & 0x80)) {
      arcs.push(n);
      n = 0;
      started = false;
    }
  }
  if (started) fail('truncated arc');
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** OID content bytes for a dotted-decimal string (used to build DER and in tests). */
export function encodeOid(oid: string): Buffer {
  const parts = oid.split('.').map((p) => {
    if (!/^\d+$/.test(p)) throw new SigilError('ENCODING_INVALID', `invalid OID ${oid}`);
    return Number(p);
  });
  if (parts.length < 2 || parts[0]! > 2 || (parts[0]! < 2 && parts[1]! >= 40)) throw new SigilError('ENCODING_INVALID', `invalid OID ${oid}`);
  const arcs = [parts[0]! * 40 + parts[1]!, ...parts.slice(2)];
  const out: number[] = [];
  for (const arc of arcs) {
    const bytes = [arc & 0x7f];
    let rest = Math.floor(arc / 128);
    while (rest > 0) {
      bytes.unshift((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    out.push(...bytes);
  }
  return Buffer.from(out);
}

const UTC_RE = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GEN_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/;

/** RFC 5280 §4.1.2.5.1: YYMMDDHHMMSSZ, YY ≥ 50 means 19YY. */
export function parseUtcTime(s: string): Date | undefined {
  const m = UTC_RE.exec(s);
  if (!m) return undefined;
  const yy = Number(m[1]);
  return makeDate(yy >= 50 ? 1900 + yy : 2000 + yy, m, undefined);
}

/**
 * GeneralizedTime in UTC ("Z"), with optional fractional seconds: RFC 3161 §2.4.2 allows them in
 * genTime (sigstore's and other TSAs send e.g. `20250806185136.123Z`). Precision beyond a millisecond
 * is truncated, which can only move a time earlier by < 1 ms.
 */
export function parseGeneralizedTime(s: string): Date | undefined {
  const m = GEN_RE.exec(s);
  if (!m) return undefined;
  return makeDate(Number(m[1]), m, m[7]);
}

function makeDate(year: number, m: RegExpExecArray, frac: string | undefined): Date | undefined {
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = Number(m[6]);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const t = Date.UTC(year, mo - 1, d, h, mi, s, ms);
  const date = new Date(t);
  // Date.UTC rolls 31 February over into March; reject instead of silently shifting the date.
  if (date.getUTCDate() !== d || date.getUTCMonth() !== mo - 1) return undefined;
  if (year < 100) date.setUTCFullYear(year);
  return date;
}

/** DER length octets for `n`. */
export function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER element from a tag and its already-encoded content parts. */
export function encodeTlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const len = parts.reduce((a, p) => a + p.length, 0);
  return Buffer.concat([Buffer.from([tag]), encodeLength(len), ...parts]);
}
