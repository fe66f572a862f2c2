/**
 * Binary form of what the HTTP thread and the verification threads exchange (verify-pool.ts): one
 * transferred buffer per group of requests and one per group of answers, instead of structured
 * clones of arrays of objects, which cost a property walk and one ArrayBuffer per body and leaf
 * hash on both sides (the ArrayBuffer bookkeeping showed in profiles of both threads). Only these
 * threads read it, both from this module, so a mismatch is an internal error.
 *
 * Requests: per request  id:u32 api:u8 (0 v1, 1 v2) bodyLen:u32 body
 * Answers:  per answer   id:u32 ok:u8, then
 *           ok:     kindLen:u8 versionLen:u8 bodyLen:u32 leafHash[32] kind version body
 *           not ok: jsonLen:u32 JSON of {code, message, hint?, kind}
 */
import { SigilError, type ErrorCode, type ErrorKind } from '../../core/errors.js';
import type { PreparedEntry } from './kinds/prepared.js';
import type { LogApi } from './prepare.js';

const HASH = 32;

export interface WireRequest {
  id: number;
  api: LogApi;
  body: Uint8Array;
}

export interface WireError {
  code: ErrorCode;
  message: string;
  hint?: string;
  kind: ErrorKind;
}

export type WireAnswer = { id: number; entry: PreparedEntry } | { id: number; error: WireError };

function truncated(what: string): SigilError {
  return new SigilError('INTERNAL', `a ${what} exchanged with a verification thread is truncated`);
}

export function encodeRequests(reqs: readonly WireRequest[]): ArrayBuffer {
  let size = 0;
  for (const r of reqs) size += 9 + r.body.length;
  const buf = Buffer.from(new ArrayBuffer(size));
  let o = 0;
  for (const r of reqs) {
    buf.writeUInt32LE(r.id, o);
    buf[o + 4] = r.api === 'v2' ? 1 : 0;
    buf.writeUInt32LE(r.body.length, o + 5);
    buf.set(r.body, o + 9);
    o += 9 + r.body.length;
  }
  return buf.buffer;
}

/** Requests as views into `ab` (no copies). */
export function decodeRequests(ab: ArrayBuffer): WireRequest[] {
  const buf = Buffer.from(ab);
  const out: WireRequest[] = [];
  for (let o = 0; o < buf.length; ) {
    if (o + 9 > buf.length) throw truncated('request group');
    const len = buf.readUInt32LE(o + 5);
    if (o + 9 + len > buf.length) throw truncated('request group');
    out.push({ id: buf.readUInt32LE(o), api: buf[o + 4] === 1 ? 'v2' : 'v1', body: buf.subarray(o + 9, o + 9 + len) });
    o += 9 + len;
  }
  return out;
}

export function encodeAnswers(answers: readonly WireAnswer[]): ArrayBuffer {
  const errors = answers.map((a) => ('error' in a ? Buffer.from(JSON.stringify(a.error), 'utf8') : undefined));
  let size = 0;
  answers.forEach((a, i) => {
    size += 5 + ('entry' in a ? 6 + HASH + a.entry.kind.length + a.entry.version.length + a.entry.body.length : 4 + errors[i]!.length);
  });
  const buf = Buffer.from(new ArrayBuffer(size));
  let o = 0;
  answers.forEach((a, i) => {
    buf.writeUInt32LE(a.id, o);
    if ('entry' in a) {
      const e = a.entry;
      buf[o + 4] = 1;
      buf[o + 5] = e.kind.length;
      buf[o + 6] = e.version.length;
      buf.writeUInt32LE(e.body.length, o + 7);
      buf.set(e.leafHash, o + 11);
      o += 11 + HASH;
      // Kinds and versions are ASCII names (hashedrekord, 0.0.2): one byte per character.
      o += buf.write(e.kind, o, 'latin1');
      o += buf.write(e.version, o, 'latin1');
      buf.set(e.body, o);
      o += e.body.length;
    } else {
      const json = errors[i]!;
      buf[o + 4] = 0;
      buf.writeUInt32LE(json.length, o + 5);
      buf.set(json, o + 9);
      o += 9 + json.length;
    }
  });
  return buf.buffer;
}

/** Answers with bodies and leaf hashes as views into `ab` (no copies). */
export function decodeAnswers(ab: ArrayBuffer): WireAnswer[] {
  const buf = Buffer.from(ab);
  const out: WireAnswer[] = [];
  for (let o = 0; o < buf.length; ) {
    if (o + 9 > buf.length) throw truncated('answer group');
    const id = buf.readUInt32LE(o);
    if (buf[o + 4] === 1) {
      const kl = buf[o + 5]!;
      const vl = buf[o + 6]!;
      const bl = buf.readUInt32LE(o + 7);
      const start = o + 11 + HASH;
      if (start + kl + vl + bl > buf.length) throw truncated('answer group');
      const leafHash = buf.subarray(o + 11, start);
      const kind = buf.toString('latin1', start, start + kl);
      const version = buf.toString('latin1', start + kl, start + kl + vl);
      const bodyAt = start + kl + vl;
      out.push({ id, entry: { kind, version, body: buf.subarray(bodyAt, bodyAt + bl), leafHash } });
      o = bodyAt + bl;
    } else {
      const len = buf.readUInt32LE(o + 5);
      if (o + 9 + len > buf.length) throw truncated('answer group');
      out.push({ id, error: JSON.parse(buf.toString('utf8', o + 9, o + 9 + len)) as WireError });
      o += 9 + len;
    }
  }
  return out;
}
