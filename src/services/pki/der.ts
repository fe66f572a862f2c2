/**
 * DER building blocks for the structures the services assemble from parts: a certificate from
 * its pre-serialised TBS, the TBS from cached pieces, UTF8String extension values (Fulcio OIDs
 * 1.3.6.1.4.1.57264.1.8+ are DER UTF8Strings, fulcio docs/oid-info.md), SCT list octets and CMS
 * attributes. Structured values (names, key usages, SANs, CMS) come from @peculiar/asn1-*; these
 * helpers only concatenate already-valid encodings on top of src/core/der.ts, which is why the CA
 * can issue a certificate without re-serialising the whole TBS through the schema layer
 * (measured: ~300 µs per TBS through @peculiar/asn1-x509, a few µs this way).
 */
import { encodeOid, encodeTlv } from '../../core/der.js';

export const tlv = encodeTlv;
export const seq = (...parts: Uint8Array[]): Buffer => encodeTlv(0x30, ...parts);
export const set = (...parts: Uint8Array[]): Buffer => encodeTlv(0x31, ...parts);
export const octetString = (b: Uint8Array): Buffer => encodeTlv(0x04, b);
export const utf8String = (s: string): Buffer => encodeTlv(0x0c, Buffer.from(s, 'utf8'));
/** BIT STRING with no unused bits (signatures, key bits). */
export const bitString = (b: Uint8Array): Buffer => encodeTlv(0x03, Buffer.from([0]), b);
/** Context-specific constructed [n] (EXPLICIT tagging, or IMPLICIT over a constructed type). */
export const explicit = (n: number, inner: Uint8Array): Buffer => encodeTlv(0xa0 | n, inner);
export const oid = (dotted: string): Buffer => encodeTlv(0x06, encodeOid(dotted));
export const BOOLEAN_TRUE = Buffer.from([0x01, 0x01, 0xff]);
export const NULL = Buffer.from([0x05, 0x00]);

/** DER INTEGER from unsigned big-endian bytes (adds the 0x00 sign octet, strips redundant zeros). */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let b = Buffer.from(bytes.subarray(i));
  if (b.length === 0) b = Buffer.from([0]);
  return encodeTlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

export function smallInteger(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a non-negative integer: ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Buffer.from(bytes.length ? bytes : [0]));
}
