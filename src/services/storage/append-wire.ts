/**
 * Binary form of what the main thread and the SQLite writer thread exchange per batch (see
 * sqlite-writer-worker.ts). Structured clone of an array of entry objects costs a property walk and
 * one ArrayBuffer per Buffer on both sides; one transferred buffer per batch costs a copy of the
 * bytes (measured in bench/README.md, log section). Only these two threads read it, both from this
 * module, so a mismatch is an internal error rather than input to validate.
 *
 * Entries:  per entry  leafHash[32] integratedTime:f64 kindLen:u8 versionLen:u8 bodyLen:u32 kind version body
 * Result:   count:u32 nodeCount:u32, then per outcome index:f64 integratedTime:f64 duplicate:u8,
 *           then per node level:u8 index:f64 hash[32]
 */
import { SigilError } from '../../core/errors.js';
import type { NewNode } from '../../merkle/frontier.js';
import type { AppendOutcome, NewEntry } from './log-store.js';

const HASH = 32;
const ENTRY_FIXED = HASH + 8 + 1 + 1 + 4;
const OUTCOME = 8 + 8 + 1;
const NODE = 1 + 8 + HASH;
const ASCII_NAME = /^[\x21-\x7e]{1,255}$/;

/** A buffer with its own ArrayBuffer, so it can be transferred rather than copied. */
function ownBuffer(size: number): Buffer<ArrayBuffer> {
  return Buffer.from(new ArrayBuffer(size));
}

export function encodeEntries(entries: readonly NewEntry[]): ArrayBuffer {
  let size = 0;
  for (const e of entries) size += ENTRY_FIXED + e.kind.length + e.version.length + e.body.length;
  const buf = ownBuffer(size);
  let o = 0;
  for (const e of entries) {
    if (e.leafHash.length !== HASH || !ASCII_NAME.test(e.kind) || !ASCII_NAME.test(e.version)) {
      throw new SigilError('INTERNAL', 'an entry handed to the SQLite writer has a malformed leaf hash, kind or version');
    }
    buf.set(e.leafHash, o);
    buf.writeDoubleLE(e.integratedTime, o + 32);
    buf[o + 40] = e.kind.length;
    buf[o + 41] = e.version.length;
    buf.writeUInt32LE(e.body.length, o + 42);
    o += ENTRY_FIXED;
    // Kinds and versions are ASCII names (hashedrekord, 0.0.2): one byte per character.
    o += buf.write(e.kind, o, 'latin1');
    o += buf.write(e.version, o, 'latin1');
    buf.set(e.body, o);
    o += e.body.length;
  }
  return buf.buffer;
}

/** Whether bytes [o, o+n) of buf spell `s` (so a repeated kind or version is not decoded again). */
function sameAscii(buf: Buffer, o: number, n: number, s: string): boolean {
  if (s.length !== n) return false;
  for (let i = 0; i < n; i++) if (buf[o + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Entries as views into `ab` (no copies); kind and version strings are shared when repeated. */
export function decodeEntries(ab: ArrayBuffer): NewEntry[] {
  const buf = Buffer.from(ab);
  const out: NewEntry[] = [];
  let kind = '';
  let version = '';
  let o = 0;
  while (o < buf.length) {
    const leafHash = buf.subarray(o, o + HASH);
    const integratedTime = buf.readDoubleLE(o + 32);
    const kl = buf[o + 40]!;
    const vl = buf[o + 41]!;
    const bl = buf.readUInt32LE(o + 42);
    o += ENTRY_FIXED;
    if (o + kl + vl + bl > buf.length) throw new SigilError('INTERNAL', 'a batch handed to the SQLite writer is truncated');
    if (!sameAscii(buf, o, kl, kind)) kind = buf.toString('latin1', o, o + kl);
    o += kl;
    if (!sameAscii(buf, o, vl, version)) version = buf.toString('latin1', o, o + vl);
    o += vl;
    out.push({ leafHash, integratedTime, kind, version, body: buf.subarray(o, o + bl) });
    o += bl;
  }
  return out;
}

export function encodeResult(outcomes: readonly AppendOutcome[], nodes: readonly NewNode[]): ArrayBuffer {
  const buf = ownBuffer(8 + outcomes.length * OUTCOME + nodes.length * NODE);
  buf.writeUInt32LE(outcomes.length, 0);
  buf.writeUInt32LE(nodes.length, 4);
  let o = 8;
  for (const r of outcomes) {
    buf.writeDoubleLE(r.index, o);
    buf.writeDoubleLE(r.integratedTime, o + 8);
    buf[o + 16] = r.duplicate ? 1 : 0;
    o += OUTCOME;
  }
  for (const n of nodes) {
    buf[o] = n.level;
    buf.writeDoubleLE(n.index, o + 1);
    buf.set(n.hash, o + 9);
    o += NODE;
  }
  return buf.buffer;
}

export function decodeResult(ab: ArrayBuffer): { outcomes: AppendOutcome[]; nodes: NewNode[] } {
  const buf = Buffer.from(ab);
  const count = buf.readUInt32LE(0);
  const nodeCount = buf.readUInt32LE(4);
  if (buf.length !== 8 + count * OUTCOME + nodeCount * NODE) throw new SigilError('INTERNAL', 'a result from the SQLite writer has the wrong length');
  const outcomes: AppendOutcome[] = new Array(count);
  let o = 8;
  for (let i = 0; i < count; i++, o += OUTCOME) {
    outcomes[i] = { index: buf.readDoubleLE(o), duplicate: buf[o + 16] === 1, integratedTime: buf.readDoubleLE(o + 8) };
  }
  const nodes: NewNode[] = new Array(nodeCount);
  for (let i = 0; i < nodeCount; i++, o += NODE) {
    nodes[i] = { level: buf[o]!, index: buf.readDoubleLE(o + 1), hash: buf.subarray(o + 9, o + 9 + HASH) };
  }
  return { outcomes, nodes };
}
