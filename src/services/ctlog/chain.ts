/**
 * Checks on chains submitted to the CT log (RFC 6962 §4.1): every certificate must be signed by
 * the next one and the chain must end at (or be signed by) one of the log's accepted roots, so the
 * log only records certificates from CAs it serves. For add-pre-chain the first element must be a
 * precertificate (critical poison extension, §3.1), and the entry the log signs is its TBS with
 * the poison removed plus the SHA-256 of the issuer's key (§3.2).
 *
 * Parsed issuer certificates are cached by their bytes: the same few intermediates arrive with
 * every submission and X.509 parsing costs about two signature checks (LIMITS.md §3).
 */
import { X509Certificate, createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { Der, TAG, type Tlv } from '../../core/der.js';
import { SigilError } from '../../core/errors.js';
import { explicit, seq } from '../pki/der.js';
import { OID } from '../pki/certificate-builder.js';
import type { CtEntry } from '../pki/sct.js';

const SIG_HASH: Record<string, 'sha256' | 'sha384' | 'sha512' | null> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

function refuse(message: string): SigilError {
  return new SigilError('CERTIFICATE_CHAIN_INVALID', message, { kind: 'input', hint: 'submit the chain leaf first, ending at a root this log accepts' });
}

interface CertView {
  der: Buffer;
  tbs: Buffer;
  tbsFields: Tlv[];
  d: Der;
  sigHash: 'sha256' | 'sha384' | 'sha512' | null;
  signature: Buffer;
}

function view(der: Buffer, what: string): CertView {
  const d = new Der(der, 'CERTIFICATE_MALFORMED', what);
  const [tbsTlv, algTlv, sigTlv] = d.seq(d.root(), what);
  const tbsFields = d.seq(tbsTlv, `${what} TBSCertificate`);
  const alg = d.oid(d.seq(algTlv, `${what} signatureAlgorithm`)[0], `${what} signature algorithm`);
  if (!(alg in SIG_HASH)) throw refuse(`${what} uses unsupported signature algorithm ${alg}`);
  const sig = d.bitString(sigTlv, `${what} signature`);
  return { der, tbs: Buffer.from(d.bytes(tbsTlv!)), tbsFields, d, sigHash: SIG_HASH[alg]!, signature: Buffer.from(sig.bytes) };
}

function signedBy(cert: CertView, issuerKey: KeyObject): boolean {
  try {
    return cryptoVerify(cert.sigHash, cert.tbs, issuerKey, cert.signature);
  } catch {
    return false;
  }
}

interface ValidatedIssuers {
  issuerKey: KeyObject;
  issuerKeyHash: Buffer;
}

export class ChainValidator {
  private readonly roots: X509Certificate[];
  private readonly cache = new Map<string, X509Certificate>();
  /**
   * Issuer chains (chain[1..]) already validated up to a root, by SHA-256 of their bytes: a CA
   * sends the same intermediate and root with every precertificate, and re-checking them costs
   * two certificate signature verifications and two key decodes per submission.
   */
  private readonly validated = new Map<string, ValidatedIssuers>();

  constructor(roots: Buffer[]) {
    if (roots.length === 0) throw new SigilError('USAGE', 'a CT log needs at least one accepted root');
    this.roots = roots.map((r) => new X509Certificate(r));
  }

  get rootsDer(): Buffer[] {
    return this.roots.map((r) => r.raw);
  }

  private parsed(der: Buffer): X509Certificate {
    const k = createHash('sha256').update(der).digest('base64');
    let c = this.cache.get(k);
    if (!c) {
      try {
        c = new X509Certificate(der);
      } catch (e) {
        throw new SigilError('CERTIFICATE_MALFORMED', `chain certificate is not valid X.509: ${(e as Error).message}`, { cause: e });
      }
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(k, c);
    }
    return c;
  }

  /** Validates chain[1..] up to an accepted root (or finds it validated before); returns the key of chain[1]. */
  private validateIssuers(chain: Buffer[]): ValidatedIssuers {
    if (chain.length < 2) throw refuse('the chain must include the issuer of the submitted certificate');
    const h = createHash('sha256');
    for (const c of chain.slice(1)) h.update(createHash('sha256').update(c).digest());
    const k = h.digest('base64');
    const known = this.validated.get(k);
    if (known) return known;
    const issuer = this.validateIssuerCertificates(chain);
    const issuerKey = issuer.publicKey;
    const v = { issuerKey, issuerKeyHash: createHash('sha256').update(issuerKey.export({ type: 'spki', format: 'der' })).digest() };
    if (this.validated.size > 1000) this.validated.clear();
    this.validated.set(k, v);
    return v;
  }

  private validateIssuerCertificates(chain: Buffer[]): X509Certificate {
    const certs = chain.slice(1).map((c) => this.parsed(c));
    for (let i = 0; i < certs.length; i++) {
      const c = certs[i]!;
      if (!c.ca) throw refuse(`chain certificate ${i + 1} is not a CA certificate`);
      const next = certs[i + 1];
      if (next) {
        if (!c.checkIssued(next) || !c.verify(next.publicKey)) throw refuse(`chain certificate ${i + 1} is not signed by certificate ${i + 2}`);
        continue;
      }
      const anchored = this.roots.some((r) => r.raw.equals(c.raw) || (c.checkIssued(r) && c.verify(r.publicKey)));
      if (!anchored) throw refuse('the chain does not end at a root this log accepts');
    }
    return certs[0]!;
  }

  /** add-chain: an ordinary certificate. */
  x509Entry(chain: Buffer[]): CtEntry {
    const leaf = view(chain[0] ?? Buffer.alloc(0), 'certificate');
    if (findExtension(leaf, OID.ctPoison)) throw refuse('a precertificate was sent to add-chain; use add-pre-chain');
    const issuer = this.validateIssuers(chain);
    if (!signedBy(leaf, issuer.issuerKey)) throw refuse('the certificate is not signed by the next certificate of the chain');
    return { type: 'x509', certificate: leaf.der };
  }

  /** add-pre-chain: a precertificate; returns the entry with the poison-free TBS. */
  precertEntry(chain: Buffer[]): CtEntry {
    const pre = view(chain[0] ?? Buffer.alloc(0), 'precertificate');
    const poison = findExtension(pre, OID.ctPoison);
    if (!poison) throw refuse('the first certificate is not a precertificate (no poison extension 1.3.6.1.4.1.11129.2.4.3)');
    if (!poison.critical) throw refuse('the precertificate poison extension must be critical (RFC 6962 §3.1)');
    const issuer = this.validateIssuers(chain);
    if (!signedBy(pre, issuer.issuerKey)) throw refuse('the precertificate is not signed by the next certificate of the chain');
    return { type: 'precert', issuerKeyHash: issuer.issuerKeyHash, tbs: withoutExtension(pre, poison.index) };
  }
}

interface FoundExtension {
  index: number;
  critical: boolean;
}

function extensionsOf(c: CertView): Tlv[] {
  const last = c.tbsFields[c.tbsFields.length - 1];
  if (!last || last.tag !== 0xa3) return [];
  return c.d.seq(c.d.children(last)[0], 'extensions');
}

function findExtension(c: CertView, oidDotted: string): FoundExtension | undefined {
  const exts = extensionsOf(c);
  let found: FoundExtension | undefined;
  exts.forEach((e, index) => {
    const parts = c.d.seq(e, 'extension');
    if (c.d.oid(parts[0], 'extension id') !== oidDotted) return;
    if (found) throw refuse(`extension ${oidDotted} appears twice`);
    const critical = parts.length === 3 && parts[1]!.tag === TAG.BOOLEAN ? c.d.boolean(parts[1]!, 'critical') : false;
    found = { index, critical };
  });
  return found;
}

/** The TBS re-encoded without extension number `drop` (RFC 6962 §3.2 "remove the poison"). */
function withoutExtension(c: CertView, drop: number): Buffer {
  const fields = c.tbsFields.slice(0, -1).map((f) => c.d.bytes(f));
  const kept = extensionsOf(c)
    .filter((_, i) => i !== drop)
    .map((e) => c.d.bytes(e));
  return seq(...fields, ...(kept.length ? [explicit(3, seq(...kept))] : []));
}
