/**
 * RFC 6962 signed certificate timestamps: the structures a CT log signs (§3.2), their TLS
 * serialisation (§3.2, RFC 5246 §4), the JSON form of add-chain / add-pre-chain replies (§4.1)
 * and the SignedCertificateTimestampList a CA embeds in a certificate (§3.3).
 */
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { SigilError } from '../../core/errors.js';
import { fromBase64 } from '../../core/encoding.js';
import { isObject } from '../../core/json.js';

export type CtEntry =
  | { type: 'x509'; certificate: Uint8Array }
  | { type: 'precert'; issuerKeyHash: Uint8Array; tbs: Uint8Array };

/** TLS HashAlgorithm / SignatureAlgorithm code points (RFC 5246 §7.4.1.4.1). */
export const TLS_HASH_SHA256 = 4;
export const TLS_SIG_RSA = 1;
export const TLS_SIG_ECDSA = 3;

export interface Sct {
  logId: Buffer;
  /** Milliseconds since the epoch. */
  timestamp: number;
  extensions: Buffer;
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Buffer;
}

function u8(n: number): Buffer {
  return Buffer.from([n]);
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u24(n: number): Buffer {
  if (n >= 1 << 24) throw new SigilError('CERTIFICATE_MALFORMED', 'value too long for a 24-bit length');
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}
function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
function vector16(b: Uint8Array): Buffer {
  if (b.length > 0xffff) throw new SigilError('CERTIFICATE_MALFORMED', 'value too long for a 16-bit length');
  return Buffer.concat([u16(b.length), b]);
}

/** The signed_entry part shared by SCT signatures and Merkle tree leaves. */
function signedEntry(entry: CtEntry): Buffer {
  return entry.type === 'x509'
    ? Buffer.concat([u16(0), u24(entry.certificate.length), entry.certificate])
    : Buffer.concat([u16(1), entry.issuerKeyHash, u24(entry.tbs.length), entry.tbs]);
}

/** §3.2: the bytes an SCT signature covers (version v1, signature_type certificate_timestamp). */
export function sctSignedData(timestamp: number, entry: CtEntry, extensions: Uint8Array = Buffer.alloc(0)): Buffer {
  return Buffer.concat([u8(0), u8(0), u64(timestamp), signedEntry(entry), vector16(extensions)]);
}

/** §3.4: MerkleTreeLeaf (v1, timestamped_entry) — the log's leaf data. */
export function merkleTreeLeaf(timestamp: number, entry: CtEntry, extensions: Uint8Array = Buffer.alloc(0)): Buffer {
  return Buffer.concat([u8(0), u8(0), u64(timestamp), signedEntry(entry), vector16(extensions)]);
}

/** §3.5: the bytes a signed tree head signature covers (signature_type tree_hash). */
export function treeHeadSignedData(timestamp: number, treeSize: number, rootHash: Uint8Array): Buffer {
  return Buffer.concat([u8(0), u8(1), u64(timestamp), u64(treeSize), rootHash]);
}

/** RFC 5246 §4.7 DigitallySigned: hash, signature algorithm, signature<0..2^16-1>. */
export function digitallySigned(hashAlgorithm: number, signatureAlgorithm: number, signature: Uint8Array): Buffer {
  return Buffer.concat([u8(hashAlgorithm), u8(signatureAlgorithm), vector16(signature)]);
}

export function parseDigitallySigned(b: Uint8Array): { hashAlgorithm: number; signatureAlgorithm: number; signature: Buffer } {
  if (b.length < 4) throw new SigilError('SCT_INVALID', 'DigitallySigned is truncated');
  const len = (b[2]! << 8) | b[3]!;
  if (4 + len !== b.length) throw new SigilError('SCT_INVALID', 'DigitallySigned length does not match its contents');
  return { hashAlgorithm: b[0]!, signatureAlgorithm: b[1]!, signature: Buffer.from(b.subarray(4)) };
}

/** §3.2 SignedCertificateTimestamp serialisation (what goes into a SerializedSCT). */
export function encodeSct(sct: Sct): Buffer {
  if (sct.logId.length !== 32) throw new SigilError('SCT_INVALID', 'log ID must be 32 bytes');
  return Buffer.concat([u8(0), sct.logId, u64(sct.timestamp), vector16(sct.extensions), digitallySigned(sct.hashAlgorithm, sct.signatureAlgorithm, sct.signature)]);
}

/** §3.3 SignedCertificateTimestampList: a 16-bit-length list of 16-bit-length SerializedSCTs. */
export function encodeSctList(scts: Uint8Array[]): Buffer {
  if (scts.length === 0) throw new SigilError('SCT_INVALID', 'an SCT list needs at least one SCT');
  return vector16(Buffer.concat(scts.map((s) => vector16(s))));
}

/** §4.1 reply of add-chain / add-pre-chain. */
export interface SctJson {
  sct_version: number;
  id: string;
  timestamp: number;
  extensions: string;
  signature: string;
}

export function sctToJson(sct: Sct): SctJson {
  return {
    sct_version: 0,
    id: sct.logId.toString('base64'),
    timestamp: sct.timestamp,
    extensions: sct.extensions.toString('base64'),
    signature: digitallySigned(sct.hashAlgorithm, sct.signatureAlgorithm, sct.signature).toString('base64'),
  };
}

/** Parses a CT log's reply defensively: it comes over the network. */
export function sctFromJson(v: unknown): Sct {
  if (!isObject(v)) throw new SigilError('SCT_INVALID', 'CT log reply is not a JSON object');
  if (v.sct_version !== 0) throw new SigilError('SCT_INVALID', `CT log reply has sct_version ${String(v.sct_version)}, expected 0 (v1)`);
  if (typeof v.id !== 'string' || typeof v.signature !== 'string' || typeof v.timestamp !== 'number' || !Number.isSafeInteger(v.timestamp) || v.timestamp < 0) {
    throw new SigilError('SCT_INVALID', 'CT log reply lacks id, timestamp or signature');
  }
  const logId = fromBase64(v.id, 'SCT log id');
  if (logId.length !== 32) throw new SigilError('SCT_INVALID', 'SCT log id is not 32 bytes');
  const ext = typeof v.extensions === 'string' ? fromBase64(v.extensions, 'SCT extensions') : Buffer.alloc(0);
  const ds = parseDigitallySigned(fromBase64(v.signature, 'SCT signature'));
  return { logId, timestamp: v.timestamp, extensions: ext, ...ds };
}

/** Log ID of a CT log key: SHA-256 of its SubjectPublicKeyInfo (RFC 6962 §3.2). */
export function ctLogId(publicKey: KeyObject): Buffer {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest();
}

/** Throws SCT_INVALID unless `sct` is the log's signature over `entry`. */
export function verifySct(sct: Sct, entry: CtEntry, logKey: KeyObject, logId: Buffer = ctLogId(logKey)): void {
  if (!sct.logId.equals(logId)) throw new SigilError('SCT_INVALID', 'SCT was issued by another log than the one configured');
  let ok = false;
  try {
    ok = cryptoVerify(logKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', sctSignedData(sct.timestamp, entry, sct.extensions), logKey, sct.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new SigilError('SCT_INVALID', 'SCT signature does not verify with the CT log key');
}
