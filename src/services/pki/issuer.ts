/**
 * An issuing authority: a `Signer` plus the certificate that names it and the chain above it.
 * The pieces every issued certificate repeats (issuer name, signature algorithm, authority key
 * identifier) are taken from the issuer certificate's own bytes once, at construction.
 */
import { SigilError } from '../../core/errors.js';
import type { Signer } from '../../crypto/signer.js';
import { Der } from '../../core/der.js';
import { signatureAlgorithmFor } from './algorithms.js';
import {
  authorityKeyIdExtension,
  basicConstraintsExtension,
  encodeName,
  encodeTbs,
  extKeyUsageExtension,
  keyUsageExtension,
  randomSerial,
  signCertificate,
  subjectKeyIdExtension,
  type NameParts,
} from './certificate-builder.js';

export interface CertificateParts {
  tbs: Buffer;
  subject: Buffer;
  issuer: Buffer;
  serialNumber: Buffer;
  subjectPublicKeyInfo: Buffer;
}

/** Splits a certificate into the raw TBS fields the issuing code reuses (RFC 5280 §4.1). */
export function certificateParts(der: Uint8Array): CertificateParts {
  const d = new Der(der, 'CERTIFICATE_MALFORMED', 'certificate');
  const tbsTlv = d.expect(d.seq(d.root(), 'Certificate')[0], 0x30, 'TBSCertificate');
  const fields = d.seq(tbsTlv, 'TBSCertificate');
  // [0] version is optional (absent means v1); the fixed fields follow it.
  const off = fields[0]?.tag === 0xa0 ? 1 : 0;
  const pick = (i: number, what: string) => {
    const f = fields[off + i];
    if (!f) return d.fail(`${what} is missing`);
    return Buffer.from(d.bytes(f));
  };
  return {
    tbs: Buffer.from(d.bytes(tbsTlv)),
    serialNumber: Buffer.from(d.integerBytes(fields[off], 'serialNumber')),
    issuer: pick(2, 'issuer'),
    subject: pick(4, 'subject'),
    subjectPublicKeyInfo: pick(5, 'subjectPublicKeyInfo'),
  };
}

export class IssuingAuthority {
  readonly subject: Buffer;
  readonly spki: Buffer;
  readonly signatureAlgorithm: Buffer;
  readonly authorityKeyId: Buffer;

  /**
   * @param signer   the issuing key
   * @param chain    the issuer's certificate first, then each certificate above it, root last (DER)
   */
  constructor(
    readonly signer: Signer,
    readonly chain: Buffer[],
  ) {
    const own = chain[0];
    if (!own) throw new SigilError('CERTIFICATE_MALFORMED', 'an issuing authority needs its certificate');
    const parts = certificateParts(own);
    const signerSpki = signer.publicKey.export({ type: 'spki', format: 'der' });
    if (!signerSpki.equals(parts.subjectPublicKeyInfo)) {
      throw new SigilError('KEY_MISMATCH', 'the issuing key does not match the public key of its certificate', {
        hint: 'pass the certificate chain that belongs to this key',
      });
    }
    this.subject = parts.subject;
    this.spki = parts.subjectPublicKeyInfo;
    this.signatureAlgorithm = signatureAlgorithmFor(signer.keyDetails);
    this.authorityKeyId = authorityKeyIdExtension(this.spki);
  }

  get certificate(): Buffer {
    return this.chain[0]!;
  }
}

export interface CaCertificateOptions {
  name: NameParts;
  notBefore: Date;
  notAfter: Date;
  /** Extended key usages the CA may issue for (RFC 5280 §4.2.1.12; Fulcio's intermediate carries codeSigning). */
  extKeyUsage?: string[];
  /** Path length constraint; 0 for an intermediate that issues only leaves. */
  pathLen?: number;
}

/** A self-signed root CA certificate. */
export async function createRootCertificate(signer: Signer, opts: CaCertificateOptions): Promise<Buffer> {
  const name = encodeName(opts.name);
  const spki = signer.publicKey.export({ type: 'spki', format: 'der' });
  const tbs = encodeTbs(
    {
      serialNumber: randomSerial(),
      issuer: name,
      subject: name,
      notBefore: opts.notBefore,
      notAfter: opts.notAfter,
      subjectPublicKeyInfo: spki,
      extensions: [
        keyUsageExtension(['keyCertSign', 'cRLSign']),
        basicConstraintsExtension(true, opts.pathLen),
        subjectKeyIdExtension(spki),
        ...(opts.extKeyUsage?.length ? [extKeyUsageExtension(opts.extKeyUsage)] : []),
      ],
    },
    signatureAlgorithmFor(signer.keyDetails),
  );
  return signCertificate(tbs, signer);
}

/** A subordinate CA certificate for `subjectSpki`, issued by `parent`. */
export async function createSubordinateCertificate(parent: IssuingAuthority, subjectSpki: Buffer, opts: CaCertificateOptions): Promise<Buffer> {
  const tbs = encodeTbs(
    {
      serialNumber: randomSerial(),
      issuer: parent.subject,
      subject: encodeName(opts.name),
      notBefore: opts.notBefore,
      notAfter: opts.notAfter,
      subjectPublicKeyInfo: subjectSpki,
      extensions: [
        keyUsageExtension(['keyCertSign', 'cRLSign']),
        basicConstraintsExtension(true, opts.pathLen ?? 0),
        subjectKeyIdExtension(subjectSpki),
        parent.authorityKeyId,
        ...(opts.extKeyUsage?.length ? [extKeyUsageExtension(opts.extKeyUsage)] : []),
      ],
    },
    parent.signatureAlgorithm,
  );
  return signCertificate(tbs, parent.signer);
}

export interface LeafCertificateOptions {
  name: NameParts;
  notBefore: Date;
  notAfter: Date;
  extKeyUsage: string[];
  /** RFC 3161 §2.3: a TSA certificate's EKU (timeStamping only) must be critical. */
  extKeyUsageCritical?: boolean;
}

/** An end-entity certificate for a service key (e.g. the TSA's), issued by `parent`. */
export async function createLeafCertificate(parent: IssuingAuthority, subjectSpki: Buffer, opts: LeafCertificateOptions): Promise<Buffer> {
  const tbs = encodeTbs(
    {
      serialNumber: randomSerial(),
      issuer: parent.subject,
      subject: encodeName(opts.name),
      notBefore: opts.notBefore,
      notAfter: opts.notAfter,
      subjectPublicKeyInfo: subjectSpki,
      extensions: [
        keyUsageExtension(['digitalSignature']),
        basicConstraintsExtension(false),
        extKeyUsageExtension(opts.extKeyUsage, opts.extKeyUsageCritical ?? false),
        subjectKeyIdExtension(subjectSpki),
        parent.authorityKeyId,
      ],
    },
    parent.signatureAlgorithm,
  );
  return signCertificate(tbs, parent.signer);
}
