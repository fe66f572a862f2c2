/**
 * Embedded Signed Certificate Timestamps (RFC 6962 §3.3): proof that the CA logged the
 * certificate to a Certificate Transparency log before issuing it, so a mis-issued Fulcio
 * certificate cannot stay hidden.
 *
 * An embedded SCT signs the *precertificate*: the final TBSCertificate without the SCT list
 * extension, bound to the issuer by the SHA-256 of the issuer's SubjectPublicKeyInfo (§3.2). So
 * the verifier removes the extension, re-encodes the enclosing lengths, and checks each SCT with
 * the CT log key whose LogID matches, at a timestamp inside that key's validity window.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { Der } from '../core/der.js';
import { SigilError } from '../core/errors.js';
import { verifySignature, type HashName, type SignatureScheme } from './algorithms.js';
import type { Certificate } from './certificate.js';
import { windowContains, type ValidityWindow } from './chain.js';
import { OID_CT_SCT_LIST } from './oids.js';

export interface CtLogKey {
  /** SHA-256 of the log's SubjectPublicKeyInfo (RFC 6962 §3.2 LogID). */
  logId: Buffer;
  publicKey: KeyObject;
  validFor: ValidityWindow;
}

export interface SignedCertificateTimestamp {
  version: number;
  logId: Buffer;
  /** Milliseconds since the epoch, as signed. */
  timestampMs: number;
  timestamp: Date;
  /** CtExtensions (opaque; Static CT logs put the leaf index here). Covered by the signature. */
  extensions: Buffer;
  /** TLS HashAlgorithm / SignatureAlgorithm codes (RFC 5246 §7.4.1.4.1). */
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Buffer;
}

const TLS_HASH: Record<number, HashName> = { 4: 'sha256', 5: 'sha384', 6: 'sha512' };
const TLS_SIG: Record<number, 'rsa' | 'ec'> = { 1: 'rsa', 3: 'ec' };

/** The SCTs embedded in `cert`; [] when it has no SCT list extension. Throws SCT_INVALID when the list is malformed. */
export function parseEmbeddedScts(cert: Certificate): SignedCertificateTimestamp[] {
  const ext = cert.extension(OID_CT_SCT_LIST);
  if (!ext) return [];
  const d = new Der(ext.value, 'SCT_INVALID', 'SCT list extension');
  // §3.3: the extnValue is an OCTET STRING wrapping the TLS-encoded SignedCertificateTimestampList.
  const tls = d.octets(d.root(), 'SCT list');
  const r = new TlsReader(tls);
  const list = r.sub(r.u16('SCT list length'), 'SCT list');
  r.end('SCT list');
  const out: SignedCertificateTimestamp[] = [];
  if (list.done()) r.fail('SCT list is empty');
  while (!list.done()) {
    const s = list.sub(list.u16('SCT length'), 'SCT');
    const version = s.u8('SCT version');
    if (version !== 0) s.fail(`SCT version ${version} is not v1`);
    const logId = s.bytes(32, 'SCT log id');
    const timestampMs = s.u64('SCT timestamp');
    const extensions = s.bytes(s.u16('SCT extensions length'), 'SCT extensions');
    const hashAlgorithm = s.u8('SCT hash algorithm');
    const signatureAlgorithm = s.u8('SCT signature algorithm');
    const signature = s.bytes(s.u16('SCT signature length'), 'SCT signature');
    s.end('SCT');
    out.push({ version, logId, timestampMs, timestamp: new Date(timestampMs), extensions, hashAlgorithm, signatureAlgorithm, signature });
  }
  return out;
}

/**
 * Verifies the leaf's embedded SCTs and returns how many distinct trusted logs signed it.
 * Throws SCT_INVALID when fewer than `threshold` do (Sigstore's default policy is 1). SCTs from
 * logs not in `ctLogs` are skipped, not failed: a CA may log to several logs, and only trusted ones
 * count. `issuer` is the certificate that issued the leaf (the authority's first certificate).
 */
export function verifyEmbeddedScts(leaf: Certificate, issuer: Certificate, ctLogs: readonly CtLogKey[], threshold = 1): number {
  const scts = parseEmbeddedScts(leaf);
  if (scts.length === 0) {
    if (threshold <= 0) return 0;
    throw new SigilError('SCT_INVALID', 'the signing certificate has no embedded SCT', {
      hint: 'the certificate was not logged to certificate transparency; it may have been issued outside the CA’s public log',
    });
  }
  const tbs = leaf.tbsWithoutExtension(OID_CT_SCT_LIST)!;
  const issuerKeyHash = createHash('sha256').update(issuer.spki).digest();
  const verifiedLogs = new Set<string>();
  const reasons: string[] = [];
  for (const [i, sct] of scts.entries()) {
    const r = verifyOne(sct, tbs, issuerKeyHash, ctLogs);
    if (r === true) verifiedLogs.add(sct.logId.toString('hex'));
    else reasons.push(`SCT #${i + 1} (log ${sct.logId.toString('base64')}): ${r}`);
  }
  if (verifiedLogs.size < threshold) {
    throw new SigilError('SCT_INVALID', `${verifiedLogs.size} of ${threshold} required SCTs verified${reasons.length ? `: ${reasons.join('; ')}` : ''}`, {
      hint: 'the certificate’s transparency-log timestamps do not verify with the trusted root’s CT log keys',
    });
  }
  return verifiedLogs.size;
}

function verifyOne(sct: SignedCertificateTimestamp, tbs: Buffer, issuerKeyHash: Buffer, ctLogs: readonly CtLogKey[]): true | string {
  const logs = ctLogs.filter((l) => l.logId.equals(sct.logId));
  if (logs.length === 0) return 'log is not in the trusted root';
  const hash = TLS_HASH[sct.hashAlgorithm];
  const keyType = TLS_SIG[sct.signatureAlgorithm];
  if (!hash || !keyType) return `unsupported algorithm (hash ${sct.hashAlgorithm}, signature ${sct.signatureAlgorithm})`;
  const scheme: SignatureScheme = { name: `${keyType}-${hash}`, hash, keyType };
  const signed = signedData(sct, tbs, issuerKeyHash);
  let last = 'no trusted key of this log verifies the signature';
  for (const log of logs) {
    if (!windowContains(log.validFor, sct.timestamp)) {
      last = `timestamp ${sct.timestamp.toISOString()} is outside the log key's validity`;
      continue;
    }
    if (verifySignature(scheme, log.publicKey, signed, sct.signature)) return true;
    last = 'signature does not verify';
  }
  return last;
}

/** RFC 6962 §3.2 digitally-signed struct for a precert_entry. */
function signedData(sct: SignedCertificateTimestamp, tbs: Buffer, issuerKeyHash: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head[0] = sct.version;
  head[1] = 0; // signature_type = certificate_timestamp
  head.writeBigUInt64BE(BigInt(sct.timestampMs), 2);
  head.writeUInt16BE(1, 10); // entry_type = precert_entry
  const tbsLen = Buffer.from([(tbs.length >> 16) & 0xff, (tbs.length >> 8) & 0xff, tbs.length & 0xff]);
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(sct.extensions.length);
  return Buffer.concat([head, issuerKeyHash, tbsLen, tbs, extLen, sct.extensions]);
}

/** Bounds-checked reader of TLS presentation-language structures (RFC 5246 §4). */
class TlsReader {
  #pos = 0;
  constructor(private readonly buf: Buffer) {}

  fail(message: string): never {
    throw new SigilError('SCT_INVALID', `SCT list extension: ${message}`, { hint: 'the embedded SCT list is truncated or malformed' });
  }
  done(): boolean {
    return this.#pos >= this.buf.length;
  }
  end(what: string): void {
    if (!this.done()) this.fail(`${what} has ${this.buf.length - this.#pos} trailing bytes`);
  }
  bytes(n: number, what: string): Buffer {
    if (this.#pos + n > this.buf.length) this.fail(`${what} is truncated`);
    const b = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return b;
  }
  sub(n: number, what: string): TlsReader {
    return new TlsReader(this.bytes(n, what));
  }
  u8(what: string): number {
    return this.bytes(1, what)[0]!;
  }
  u16(what: string): number {
    return this.bytes(2, what).readUInt16BE(0);
  }
  u64(what: string): number {
    const v = this.bytes(8, what).readBigUInt64BE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} is out of range`);
    return Number(v);
  }
}

