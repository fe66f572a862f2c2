/** Strict hex and base64 (standard and URL-safe) codecs. Node's decoders silently skip bad characters; these do not. */
import { SigilError } from './errors.js';

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string, what = 'hex value'): Buffer {
  if (!HEX_RE.test(s)) throw new SigilError('ENCODING_INVALID', `${what} is not valid hex`);
  return Buffer.from(s, 'hex');
}

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Decodes standard base64, tolerating missing padding and line breaks (PEM bodies), rejecting anything else. */
export function fromBase64(s: string, what = 'base64 value'): Buffer {
  const clean = s.replace(/[\r\n]/g, '');
  const padded = clean.length % 4 === 0 ? clean : clean + '='.repeat(4 - (clean.length % 4));
  if (clean.length % 4 === 1 || !B64_RE.test(padded)) {
    throw new SigilError('ENCODING_INVALID', `${what} is not valid base64`, {
      hint: 'the value was altered or truncated',
    });
  }
  return Buffer.from(padded, 'base64');
}

export function toBase64Url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

export function fromBase64Url(s: string, what = 'base64url value'): Buffer {
  const clean = s.replace(/=+$/, '');
  if (!B64URL_RE.test(clean) || clean.length % 4 === 1) {
    throw new SigilError('ENCODING_INVALID', `${what} is not valid base64url`);
  }
  return Buffer.from(clean, 'base64url');
}

export function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/** Constant-time equality of two byte strings (false on different lengths). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
