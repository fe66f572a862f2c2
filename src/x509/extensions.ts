/**
 * The RFC 5280 §4.2 extensions a verifier acts on: basic constraints, key usage, extended key
 * usage, key identifiers and subject alternative names. Each parser takes the extension's
 * `extnValue` contents and reports malformed values through the certificate's Der reader.
 */
import { Der, TAG, contextTag, type Tlv } from '../core/der.js';
import { OID_FULCIO_OTHERNAME_SAN } from './oids.js';

export interface Extension {
  oid: string;
  critical: boolean;
  /** The extnValue OCTET STRING contents (the extension's own DER). */
  value: Buffer;
  /** Where the whole Extension element sits in the certificate DER (for precertificate rebuilding). */
  tlv: Tlv;
}

export interface BasicConstraints {
  ca: boolean;
  pathLenConstraint?: number;
}

/** RFC 5280 §4.2.1.3 KeyUsage bits, as `1 << bitNumber`. */
export const KEY_USAGE = {
  digitalSignature: 1 << 0,
  nonRepudiation: 1 << 1,
  keyEncipherment: 1 << 2,
  dataEncipherment: 1 << 3,
  keyAgreement: 1 << 4,
  keyCertSign: 1 << 5,
  cRLSign: 1 << 6,
  encipherOnly: 1 << 7,
  decipherOnly: 1 << 8,
} as const;

export type SubjectAltNameType = 'email' | 'uri' | 'dns' | 'otherName';

export interface SubjectAltName {
  type: SubjectAltNameType;
  value: string;
  /** For otherName: its type-id (Fulcio usernames use 1.3.6.1.4.1.57264.1.7). */
  oid?: string;
}

export function parseBasicConstraints(der: Der, value: Buffer): BasicConstraints {
  const d = sub(der, value, 'basicConstraints');
  const fields = d.seq(d.root(), 'basicConstraints');
  let i = 0;
  let ca = false;
  if (fields[i]?.tag === TAG.BOOLEAN) ca = d.boolean(fields[i++]!, 'basicConstraints cA');
  let pathLenConstraint: number | undefined;
  if (fields[i]?.tag === TAG.INTEGER) pathLenConstraint = d.smallInt(fields[i++], 'basicConstraints pathLenConstraint');
  if (i !== fields.length) d.fail('basicConstraints has unexpected fields');
  return pathLenConstraint === undefined ? { ca } : { ca, pathLenConstraint };
}

export function parseKeyUsage(der: Der, value: Buffer): number {
  const d = sub(der, value, 'keyUsage');
  const { bytes } = d.bitString(d.root(), 'keyUsage');
  let bits = 0;
  for (let i = 0; i < 9 && i < bytes.length * 8; i++) {
    if (bytes[i >> 3]! & (0x80 >> (i & 7))) bits |= 1 << i;
  }
  return bits;
}

export function parseExtKeyUsage(der: Der, value: Buffer): string[] {
  const d = sub(der, value, 'extKeyUsage');
  const purposes = d.seq(d.root(), 'extKeyUsage');
  if (purposes.length === 0) d.fail('extKeyUsage is empty');
  return purposes.map((p) => d.oid(p, 'extKeyUsage purpose'));
}

export function parseSubjectKeyId(der: Der, value: Buffer): Buffer {
  const d = sub(der, value, 'subjectKeyIdentifier');
  return d.octets(d.root(), 'subjectKeyIdentifier');
}

/** AuthorityKeyIdentifier keyIdentifier [0], if present (issuer name/serial forms are ignored). */
export function parseAuthorityKeyId(der: Der, value: Buffer): Buffer | undefined {
  const d = sub(der, value, 'authorityKeyIdentifier');
  for (const f of d.seq(d.root(), 'authorityKeyIdentifier')) {
    if (f.tag === contextTag(0, false)) return d.value(f);
  }
  return undefined;
}

/** GeneralNames (RFC 5280 §4.2.1.6): email, URI, DNS and otherName; other forms are skipped. */
export function parseSubjectAltNames(der: Der, value: Buffer): SubjectAltName[] {
  const d = sub(der, value, 'subjectAltName');
  const out: SubjectAltName[] = [];
  const names = d.seq(d.root(), 'subjectAltName');
  if (names.length === 0) d.fail('subjectAltName is empty');
  for (const n of names) {
    switch (n.tag) {
      case contextTag(1, false):
        out.push({ type: 'email', value: d.string({ ...n, tag: TAG.IA5_STRING }, 'rfc822Name') });
        break;
      case contextTag(2, false):
        out.push({ type: 'dns', value: d.string({ ...n, tag: TAG.IA5_STRING }, 'dNSName') });
        break;
      case contextTag(6, false):
        out.push({ type: 'uri', value: d.string({ ...n, tag: TAG.IA5_STRING }, 'uniformResourceIdentifier') });
        break;
      case contextTag(0, true): {
        // OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY } with IMPLICIT [0] on the SEQUENCE.
        const [typeId, wrapped, ...extra] = d.children(n);
        const oid = d.oid(typeId, 'otherName type-id');
        const inner = d.children(d.expect(wrapped, contextTag(0, true), 'otherName value'));
        if (inner.length !== 1 || extra.length) d.fail('otherName has unexpected fields');
        const v = inner[0]!;
        // Fulcio's username SAN is a UTF8String (oid-info.md §1.3.6.1.4.1.57264.1.7); other
        // string-typed otherNames are decoded the same way, anything else is shown as hex.
        const text = isStringTag(v.tag) ? d.string(v, 'otherName value') : undefined;
        if (oid === OID_FULCIO_OTHERNAME_SAN && v.tag !== TAG.UTF8_STRING) d.fail('Fulcio username otherName is not a UTF8String');
        out.push({ type: 'otherName', oid, value: text ?? d.bytes(v).toString('hex') });
        break;
      }
      default:
        // x400Address, directoryName, ediPartyName, iPAddress, registeredID: not identities sigil matches on.
        // Still walk constructed ones so a malformed value fails the parse.
        if (n.tag & 0x20) d.children(n);
    }
  }
  return out;
}

function isStringTag(tag: number): boolean {
  return (
    tag === TAG.UTF8_STRING ||
    tag === TAG.PRINTABLE_STRING ||
    tag === TAG.IA5_STRING ||
    tag === TAG.VISIBLE_STRING ||
    tag === TAG.BMP_STRING ||
    tag === TAG.UNIVERSAL_STRING ||
    tag === TAG.T61_STRING
  );
}

/** A reader over an extension value that reports errors under the certificate's code. */
export function sub(der: Der, value: Buffer, what: string): Der {
  return new Der(value, der.code, `${der.what} ${what}`);
}
