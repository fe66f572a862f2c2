/** JSON parsing of untrusted input: a SyntaxError becomes a SigilError that names the document. */
import { SigilError, type ErrorCode } from './errors.js';

export function parseJson(text: string | Uint8Array, what: string, code: ErrorCode = 'JSON_MALFORMED'): unknown {
  const s = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  try {
    return JSON.parse(s);
  } catch (e) {
    throw new SigilError(code, `${what} is not valid JSON: ${(e as Error).message}`, {
      hint: 'the file may be truncated or not the document you meant',
      cause: e,
    });
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a required string field or throws `code` naming the path. */
export function reqString(obj: Record<string, unknown>, key: string, path: string, code: ErrorCode): string {
  const v = obj[key];
  if (typeof v !== 'string') throw new SigilError(code, `${path}.${key} must be a string`);
  return v;
}

export function optString(obj: Record<string, unknown>, key: string, path: string, code: ErrorCode): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new SigilError(code, `${path}.${key} must be a string`);
  return v;
}

export function reqObject(obj: Record<string, unknown>, key: string, path: string, code: ErrorCode): Record<string, unknown> {
  const v = obj[key];
  if (!isObject(v)) throw new SigilError(code, `${path}.${key} must be an object`);
  return v;
}
