/**
 * Strict readers for log entry requests. Requests are attacker-controlled: every missing or
 * mistyped field is a LOG_ENTRY_MALFORMED error naming its JSON path (→ HTTP 400), never a
 * TypeError from deep inside the verifier.
 */
import { SigilError } from '../../../core/errors.js';

export function malformed(path: string, what: string): SigilError {
  return new SigilError('LOG_ENTRY_MALFORMED', `${path} ${what}`, { hint: 'see the Rekor v1/v2 API for the entry format' });
}

export function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(path, 'must be a JSON object');
  return v as Record<string, unknown>;
}

export function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0) throw malformed(path, 'must be a non-empty string');
  return v;
}

export function optStr(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw malformed(path, 'must be a string');
  return v;
}

export function arr(v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v) || v.length === 0) throw malformed(path, 'must be a non-empty array');
  if (v.length > max) throw malformed(path, `has ${v.length} items, at most ${max} are accepted`);
  return v;
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const B64URL_RE = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/;

/** protobuf JSON bytes: standard or URL-safe base64, padding optional; never empty. */
export function bytes(v: unknown, path: string): Buffer {
  const s = str(v, path);
  if (B64_RE.test(s)) return Buffer.from(s, 'base64');
  if (B64URL_RE.test(s)) return Buffer.from(s, 'base64url');
  throw malformed(path, 'is not valid base64');
}

/** Standard base64 only (Rekor v1 fields). */
export function stdBase64(v: unknown, path: string): Buffer {
  const s = str(v, path);
  if (!B64_RE.test(s)) throw malformed(path, 'is not valid base64');
  return Buffer.from(s, 'base64');
}

export function hex(v: unknown, path: string, length: number): Buffer {
  const s = str(v, path);
  if (s.length !== length * 2 || !/^[0-9a-fA-F]+$/.test(s)) throw malformed(path, `must be ${length * 2} hex digits`);
  return Buffer.from(s, 'hex');
}

/** Rejects fields the format does not define, so one request cannot mean two things. */
export function onlyKeys(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw malformed(`${path}.${k}`, 'is not a field of this entry type');
}
