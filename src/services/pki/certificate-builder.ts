/**
 * X.509 v3 certificates (RFC 5280) assembled from parts and signed through a `Signer`, so the
 * same code issues with a key file, an HSM or a KMS. Structured values (names, key usage,
 * extended key usage, basic constraints, key identifiers, subject alternative names) are
 * serialised with @peculiar/asn1-x509; the TBS and certificate envelopes are concatenated with
 * the DER writer, which keeps per-certificate cost low: constant pieces (issuer name, key usage,
 * authority key id) are encoded once per issuer, not once per certificate.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as x509 from '@peculiar/asn1-x509';
import type { Signer } from '../../crypto/signer.js';
import { BOOLEAN_TRUE, bitString, explicit, octetString, oid, seq, smallInteger, tlv, unsignedInteger } from './der.js';
import { signatureAlgorithmFor, subjectPublicKeyBits } from './algorithms.js';

export const OID = {
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  /** RFC 6962 §3.1 precertificate poison. */
  ctPoison: '1.3.6.1.4.1.11129.2.4.3',
  /** RFC 6962 §3.3 embedded SCT list. */
  ctSctList: '1.3.6.1.4.1.11129.2.4.2',
} as const;

export interface TbsFields {
  /** Unsigned big-endian serial number bytes. */
  serialNumber: Uint8Array;
  /** DER Name of the issuer. */
  issuer: Uint8Array;
  /** DER Name of the subject (an empty SEQUENCE for Fulcio leaves). */
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
  subjectPublicKeyInfo: Uint8Array;
  /** DER Extension values, in the order they appear. */
  extensions: Uint8Array[];
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, always in seconds and Z. */
export function encodeTime(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = d.getUTCFullYear();
  return year < 2050 && year >= 1950 ? tlv(0x17, Buffer.from(digits.slice(2) + 'Z', 'ascii')) : tlv(0x18, Buffer.from(digits + 'Z', 'ascii'));
}

/** A positive 159-bit random serial (RFC 5280 §4.1.2.2 allows up to 20 octets; CA/B asks for ≥ 64 random bits). */
export function randomSerial(): Buffer {
  const b = randomBytes(20);
  b[0] = b[0]! & 0x7f;
  if (b[0] === 0) b[0] = 1;
  return b;
}

export function encodeTbs(f: TbsFields, signatureAlgorithm: Uint8Array): Buffer {
  return seq(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(f.serialNumber),
    signatureAlgorithm,
    f.issuer,
    seq(encodeTime(f.notBefore), encodeTime(f.notAfter)),
    f.subject,
    f.subjectPublicKeyInfo,
    ...(f.extensions.length ? [explicit(3, seq(...f.extensions))] : []),
  );
}

/** Signs a TBS with `signer` and wraps it into a Certificate (RFC 5280 §4.1.1). */
export async function signCertificate(tbs: Uint8Array, signer: Signer): Promise<Buffer> {
  const alg = signatureAlgorithmFor(signer.keyDetails);
  const sig = await signer.sign(tbs);
  return seq(tbs, alg, bitString(sig));
}

export function extension(oidDotted: string, critical: boolean, value: Uint8Array): Buffer {
  return seq(oid(oidDotted), ...(critical ? [BOOLEAN_TRUE] : []), octetString(value));
}

export interface NameParts {
  commonName?: string;
  organization?: string;
}

/** A distinguished name with O and CN (the shape Sigstore's CAs use), as DER. */
export function encodeName(parts: NameParts): Buffer {
  const rdns: x509.RelativeDistinguishedName[] = [];
  const add = (type: string, value: string) =>
    rdns.push(new x509.RelativeDistinguishedName([new x509.AttributeTypeAndValue({ type, value: new x509.AttributeValue({ utf8String: value }) })]));
  if (parts.organization !== undefined) add('2.5.4.10', parts.organization);
  if (parts.commonName !== undefined) add('2.5.4.3', parts.commonName);
  return Buffer.from(AsnConvert.serialize(new x509.Name(rdns)));
}

export const EMPTY_NAME = seq();

export type KeyUsageName = 'digitalSignature' | 'keyCertSign' | 'cRLSign';

export function keyUsageExtension(usages: KeyUsageName[]): Buffer {
  let flags = 0;
  for (const u of usages) flags |= x509.KeyUsageFlags[u];
  return extension(OID.keyUsage, true, Buffer.from(AsnConvert.serialize(new x509.KeyUsage(flags))));
}

export function extKeyUsageExtension(oids: string[], critical = false): Buffer {
  return extension(OID.extKeyUsage, critical, Buffer.from(AsnConvert.serialize(new x509.ExtendedKeyUsage(oids))));
}

export function basicConstraintsExtension(ca: boolean, pathLen?: number): Buffer {
  const bc = new x509.BasicConstraints({ cA: ca, ...(pathLen !== undefined ? { pathLenConstraint: pathLen } : {}) });
  return extension(OID.basicConstraints, true, Buffer.from(AsnConvert.serialize(bc)));
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: Uint8Array): Buffer {
  return createHash('sha1').update(subjectPublicKeyBits(spki)).digest();
}

export function subjectKeyIdExtension(spki: Uint8Array): Buffer {
  return extension(OID.subjectKeyId, false, octetString(keyIdentifier(spki)));
}

export function authorityKeyIdExtension(issuerSpki: Uint8Array): Buffer {
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING, ... }
  return extension(OID.authorityKeyId, false, seq(tlv(0x80, keyIdentifier(issuerSpki))));
}

export type SanEntry = { type: 'email'; value: string } | { type: 'uri'; value: string } | { type: 'dns'; value: string };

/** Subject alternative names; critical because Fulcio leaves have an empty subject (RFC 5280 §4.2.1.6). */
export function subjectAltNameExtension(entries: SanEntry[], critical = true): Buffer {
  const names = entries.map((e) =>
    e.type === 'email'
      ? new x509.GeneralName({ rfc822Name: e.value })
      : e.type === 'uri'
        ? new x509.GeneralName({ uniformResourceIdentifier: e.value })
        : new x509.GeneralName({ dNSName: e.value }),
  );
  return extension(OID.subjectAltName, critical, Buffer.from(AsnConvert.serialize(new x509.SubjectAlternativeName(names))));
}

/** RFC 6962 §3.1: the poison extension is critical and its value is ASN.1 NULL. */
export const CT_POISON_EXTENSION = extension(OID.ctPoison, true, Buffer.from([0x05, 0x00]));

/** RFC 6962 §3.3: the SCT list travels as an OCTET STRING inside the extension's OCTET STRING. */
export function sctListExtension(sctList: Uint8Array): Buffer {
  return extension(OID.ctSctList, false, octetString(sctList));
}

/** Re-export for callers that compose DER names or extensions of their own. */
export { signatureAlgorithmFor };
