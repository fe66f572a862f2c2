/**
 * A small test PKI: builds real, signed X.509 certificates from parts with node:crypto keys, so
 * chain tests can cover cases no corpus file has (CA without keyCertSign, path length overflow,
 * unknown critical extensions, embedded SCTs from a log key the test owns). Every certificate is
 * also accepted by OpenSSL (`new X509Certificate`), which the tests check, so they exercise
 * sigil's reader on well-formed input that was not produced by sigil's own parser.
 */
import { createHash, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { encodeOid, encodeTlv, TAG, contextTag } from '../../src/core/der.js';

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export function ecKey(curve: 'P-256' | 'P-384' = 'P-256'): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: curve });
}

export interface RawExtension {
  oid: string;
  critical?: boolean;
  value: Buffer;
}

export interface CertSpec {
  subject: string;
  key: KeyPair;
  /** Issuer certificate and key; self-signed when absent. */
  issuer?: { cert: BuiltCert; key: KeyPair };
  notBefore: Date;
  notAfter: Date;
  serial?: number;
  /** basicConstraints: CA with optional pathLen, or end entity (cA absent). Omit the extension with `undefined`. */
  ca?: { pathLen?: number } | false;
  /** KeyUsage bit numbers (0 digitalSignature, 5 keyCertSign, 6 cRLSign). */
  keyUsage?: number[];
  eku?: string[];
  /** RFC 3161 §2.3 requires a critical EKU on TSA certificates. */
  ekuCritical?: boolean;
  sans?: ({ uri: string } | { email: string } | { dns: string } | { otherName: { oid: string; utf8: string } })[];
  extra?: RawExtension[];
  /** Inserted after all other extensions; used to add an SCT list after building the precertificate. */
  last?: RawExtension[];
  /** AlgorithmIdentifier DER written in both signature fields (default ecdsa-with-SHA256, or -SHA384 with `hash: 'sha384'`). */
  sigAlg?: Buffer;
  /** Digest the issuer signs with (default sha256); Fulcio's P-384 intermediate uses sha384. */
  hash?: 'sha256' | 'sha384';
}

export interface BuiltCert {
  der: Buffer;
  tbs: Buffer;
  subjectName: Buffer;
  spki: Buffer;
  ski: Buffer;
}

const seq = (...p: Buffer[]): Buffer => encodeTlv(TAG.SEQUENCE, ...p);
const oid = (o: string): Buffer => encodeTlv(TAG.OID, encodeOid(o));

export function name(cn: string): Buffer {
  return seq(encodeTlv(TAG.SET, seq(oid('2.5.4.3'), encodeTlv(TAG.UTF8_STRING, Buffer.from(cn)))));
}

function int(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return encodeTlv(TAG.INTEGER, Buffer.from(bytes));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return d.getUTCFullYear() < 2050 ? encodeTlv(TAG.UTC_TIME, Buffer.from(iso.slice(2) + 'Z')) : encodeTlv(TAG.GENERALIZED_TIME, Buffer.from(iso + 'Z'));
}

function ext(o: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(o), ...(critical ? [encodeTlv(TAG.BOOLEAN, Buffer.from([0xff]))] : []), encodeTlv(TAG.OCTET_STRING, value));
}

function bits(numbers: number[]): Buffer {
  const max = Math.max(...numbers);
  const len = (max >> 3) + 1;
  const b = Buffer.alloc(len);
  for (const n of numbers) b[n >> 3]! |= 0x80 >> (n & 7);
  const unused = len * 8 - 1 - max;
  return encodeTlv(TAG.BIT_STRING, Buffer.from([unused]), b);
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const ECDSA_SHA384 = seq(oid('1.2.840.10045.4.3.3'));
const algFor = (spec: CertSpec): Buffer => spec.sigAlg ?? (spec.hash === 'sha384' ? ECDSA_SHA384 : ECDSA_SHA256);

export function tbsFor(spec: CertSpec, extensionsFilter: (e: RawExtension) => boolean = () => true): { tbs: Buffer; spki: Buffer; ski: Buffer } {
  const spki = spec.key.publicKey.export({ type: 'spki', format: 'der' });
  const ski = createHash('sha1').update(spki).digest();
  const issuerName = spec.issuer ? spec.issuer.cert.subjectName : name(spec.subject);
  const issuerSki = spec.issuer ? spec.issuer.cert.ski : ski;
  const exts: RawExtension[] = [];
  if (spec.ca !== undefined) {
    const v = spec.ca === false ? seq() : seq(encodeTlv(TAG.BOOLEAN, Buffer.from([0xff])), ...(spec.ca.pathLen !== undefined ? [int(spec.ca.pathLen)] : []));
    exts.push({ oid: '2.5.29.19', critical: true, value: v });
  }
  if (spec.keyUsage) exts.push({ oid: '2.5.29.15', critical: true, value: bits(spec.keyUsage) });
  if (spec.eku) exts.push({ oid: '2.5.29.37', critical: spec.ekuCritical === true, value: seq(...spec.eku.map(oid)) });
  exts.push({ oid: '2.5.29.14', value: encodeTlv(TAG.OCTET_STRING, ski) });
  exts.push({ oid: '2.5.29.35', value: seq(encodeTlv(contextTag(0, false), issuerSki)) });
  if (spec.sans) {
    const names = spec.sans.map((s) => {
      if ('uri' in s) return encodeTlv(contextTag(6, false), Buffer.from(s.uri));
      if ('email' in s) return encodeTlv(contextTag(1, false), Buffer.from(s.email));
      if ('dns' in s) return encodeTlv(contextTag(2, false), Buffer.from(s.dns));
      return encodeTlv(contextTag(0, true), oid(s.otherName.oid), encodeTlv(contextTag(0, true), encodeTlv(TAG.UTF8_STRING, Buffer.from(s.otherName.utf8))));
    });
    exts.push({ oid: '2.5.29.17', critical: true, value: seq(...names) });
  }
  exts.push(...(spec.extra ?? []), ...(spec.last ?? []));
  const kept = exts.filter(extensionsFilter);
  const tbs = seq(
    encodeTlv(contextTag(0, true), int(2)),
    int(spec.serial ?? 1),
    algFor(spec),
    issuerName,
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spki,
    ...(kept.length ? [encodeTlv(contextTag(3, true), seq(...kept.map((e) => ext(e.oid, e.critical ?? false, e.value))))] : []),
  );
  return { tbs, spki, ski };
}

/** Builds and signs; by default OpenSSL must accept the result (`opensslCheck: false` for deliberately invalid ones). */
export function buildCert(spec: CertSpec, opts: { opensslCheck?: boolean } = {}): BuiltCert {
  const { tbs, spki, ski } = tbsFor(spec);
  const signer = spec.issuer ? spec.issuer.key.privateKey : spec.key.privateKey;
  const sig = sign(spec.hash ?? 'sha256', tbs, signer);
  const der = seq(tbs, algFor(spec), encodeTlv(TAG.BIT_STRING, Buffer.from([0]), sig));
  if (opts.opensslCheck !== false) new X509Certificate(der);
  return { der, tbs, subjectName: name(spec.subject), spki, ski };
}

export const DAY = 86_400_000;
export const T0 = new Date('2024-03-01T00:00:00Z');

/** root (pathLen 1) → intermediate (pathLen 0) → leaf (codeSigning, URI SAN), all P-256. */
export function fulcioLikeChain(overrides: { leaf?: Partial<CertSpec>; intermediate?: Partial<CertSpec>; root?: Partial<CertSpec> } = {}): {
  root: BuiltCert;
  intermediate: BuiltCert;
  leaf: BuiltCert;
  keys: { root: KeyPair; intermediate: KeyPair; leaf: KeyPair };
  leafSpec: CertSpec;
} {
  const keys = { root: ecKey(), intermediate: ecKey(), leaf: ecKey() };
  const root = buildCert({
    subject: 'test root',
    key: keys.root,
    notBefore: new Date(T0.getTime() - 365 * DAY),
    notAfter: new Date(T0.getTime() + 3650 * DAY),
    ca: { pathLen: 1 },
    keyUsage: [5, 6],
    ...overrides.root,
  });
  const intermediate = buildCert({
    subject: 'test intermediate',
    key: keys.intermediate,
    issuer: { cert: root, key: keys.root },
    notBefore: new Date(T0.getTime() - 30 * DAY),
    notAfter: new Date(T0.getTime() + 365 * DAY),
    ca: { pathLen: 0 },
    keyUsage: [5, 6],
    eku: ['1.3.6.1.5.5.7.3.3'],
    ...overrides.intermediate,
  });
  const leafSpec: CertSpec = {
    subject: '',
    key: keys.leaf,
    issuer: { cert: intermediate, key: keys.intermediate },
    notBefore: T0,
    notAfter: new Date(T0.getTime() + 10 * 60_000),
    keyUsage: [0],
    eku: ['1.3.6.1.5.5.7.3.3'],
    sans: [{ uri: 'https://github.com/example/repo/.github/workflows/release.yml@refs/heads/main' }],
    ...overrides.leaf,
  };
  const leaf = buildCert(leafSpec);
  return { root, intermediate, leaf, keys, leafSpec };
}
