/**
 * An X.509 certificate read from DER once, with the fields a Sigstore verifier needs.
 *
 * The TBSCertificate is walked with sigil's strict DER reader rather than through OpenSSL's
 * `X509Certificate`: the fields a policy decides on (SANs, Fulcio extensions, validity, CA
 * constraints) are then read from exactly the bytes whose signature is checked, so no parser
 * differential can separate "what was signed" from "what was matched". It is also cheaper on the
 * verify hot path: the walk costs a few µs, and the public key is decoded with `createPublicKey`
 * only when asked (97 µs vs 135 µs for `new X509Certificate(der).publicKey`, measured on a Fulcio
 * leaf; see bench/x509.ts). OpenSSL's view stays available through `.x509` for display.
 *
 * Certificates are immutable; `fromDer` keeps a small cache by DER bytes so a certificate seen
 * again (the trusted root's CAs, a leaf shared by several bundles) is parsed, key-decoded and
 * signature-checked once.
 */
import { X509Certificate, createPublicKey, hash, type KeyObject } from 'node:crypto';
import { Der, TAG, contextTag, encodeTlv, type Tlv } from '../core/der.js';
import { SigilError } from '../core/errors.js';
import { decodePemBlocks } from '../core/pem.js';
import { signatureScheme, verifySignature, type SignatureScheme } from './algorithms.js';
import {
  parseAuthorityKeyId,
  parseBasicConstraints,
  parseExtKeyUsage,
  parseKeyUsage,
  parseSubjectAltNames,
  parseSubjectKeyId,
  type BasicConstraints,
  type Extension,
  type SubjectAltName,
} from './extensions.js';
import { parseFulcioExtensions, type FulcioExtensions } from './fulcio.js';
import {
  OID_EC_PUBLIC_KEY,
  OID_AUTHORITY_KEY_ID,
  OID_BASIC_CONSTRAINTS,
  OID_EXT_KEY_USAGE,
  OID_KEY_USAGE,
  OID_SUBJECT_ALT_NAME,
  OID_SUBJECT_KEY_ID,
} from './oids.js';

export type { Extension, SubjectAltName, BasicConstraints } from './extensions.js';
export type { FulcioExtensions } from './fulcio.js';
export { KEY_USAGE } from './extensions.js';

/** Extensions whose semantics sigil enforces; any other extension marked critical makes the certificate unusable (RFC 5280 §4.2). */
const PROCESSED_EXTENSIONS = new Set([
  OID_SUBJECT_KEY_ID,
  OID_KEY_USAGE,
  OID_SUBJECT_ALT_NAME,
  OID_BASIC_CONSTRAINTS,
  OID_AUTHORITY_KEY_ID,
  OID_EXT_KEY_USAGE,
]);

/** Named curves whose uncompressed points are imported as JWK (RFC 5480 §2.1.1.1 OIDs). */
const EC_CURVES: Record<string, { crv: string; size: number }> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', size: 32 },
  '1.3.132.0.34': { crv: 'P-384', size: 48 },
  '1.3.132.0.35': { crv: 'P-521', size: 66 },
};

const CACHE_LIMIT = 512;
const cache = new Map<string, Certificate>();

/** Positive signature results: child → issuers whose key verified its signature. Only successes are kept. */
const verifiedBy = new WeakMap<Certificate, WeakSet<Certificate>>();

export class Certificate {
  /** The certificate's DER encoding (do not modify). */
  readonly der: Buffer;
  /** The TBSCertificate element, header included: the bytes the issuer signed. */
  readonly tbs: Buffer;
  /** 1, 2 or 3. */
  readonly version: number;
  /** serialNumber INTEGER content bytes (big-endian two's complement). */
  readonly serialNumber: Buffer;
  readonly signatureAlgorithm: SignatureScheme;
  readonly signatureValue: Buffer;
  /** Issuer and subject Name DER (compared byte-wise for chain building). */
  readonly issuerDer: Buffer;
  readonly subjectDer: Buffer;
  /** Validity bounds in ms since the epoch; `notBefore`/`notAfter` return fresh Dates from them. */
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Buffer;
  readonly extensions: readonly Extension[];
  readonly basicConstraints: BasicConstraints | undefined;
  /** KeyUsage bits (see KEY_USAGE), undefined when the extension is absent. */
  readonly keyUsage: number | undefined;
  /** ExtendedKeyUsage purpose OIDs, undefined when the extension is absent. */
  readonly extKeyUsage: readonly string[] | undefined;
  readonly subjectKeyId: Buffer | undefined;
  readonly authorityKeyId: Buffer | undefined;
  /** OIDs of critical extensions sigil does not process (RFC 5280 §4.2: such a certificate must be rejected). */
  readonly unhandledCriticalExtensions: readonly string[];

  readonly #tbsTlv: Tlv;
  readonly #extsWrapper: Tlv | undefined;
  readonly #extsTlv: Tlv | undefined;
  #ecPoint: { crv: string; size: number; point: Buffer } | undefined;
  #publicKey: KeyObject | undefined;
  #x509: X509Certificate | undefined;
  #sans: SubjectAltName[] | undefined;
  #fulcio: FulcioExtensions | undefined;

  private constructor(der: Buffer) {
    const d = new Der(der, 'CERTIFICATE_MALFORMED', 'certificate');
    this.der = der;
    const [tbsT, outerAlgT, sigT, ...rest] = d.seq(d.root(), 'Certificate');
    if (rest.length) d.fail('Certificate has more than three fields');
    this.#tbsTlv = d.expect(tbsT, TAG.SEQUENCE, 'tbsCertificate');
    this.tbs = d.bytes(tbsT!);
    this.signatureAlgorithm = signatureScheme(d, outerAlgT, 'signatureAlgorithm');
    const sig = d.bitString(sigT, 'signatureValue');
    if (sig.unused !== 0) d.fail('signatureValue has unused bits');
    this.signatureValue = sig.bytes;

    const f = d.children(this.#tbsTlv);
    let i = 0;
    let version = 1;
    if (f[i]?.tag === contextTag(0, true)) {
      const [v, ...vx] = d.children(f[i++]!);
      if (vx.length) d.fail('version has extra fields');
      version = d.smallInt(v, 'version') + 1;
      if (version > 3) d.fail(`unknown version ${version}`);
    }
    this.version = version;
    this.serialNumber = d.integerBytes(f[i++], 'serialNumber');
    const innerAlgT = f[i++];
    // RFC 5280 §4.1.1.2: the outer signatureAlgorithm MUST equal the signed TBS signature field;
    // otherwise an attacker could relabel the algorithm outside the signed bytes.
    if (!innerAlgT || !d.bytes(innerAlgT).equals(d.bytes(outerAlgT!))) d.fail('tbsCertificate signature algorithm differs from signatureAlgorithm');
    this.issuerDer = d.bytes(checkName(d, f[i++], 'issuer'));
    const [nbT, naT, ...vx] = d.seq(f[i++], 'validity');
    if (vx.length) d.fail('validity has extra fields');
    this.notBeforeMs = d.time(nbT, 'notBefore').getTime();
    this.notAfterMs = d.time(naT, 'notAfter').getTime();
    this.subjectDer = d.bytes(checkName(d, f[i++], 'subject'));
    const spkiT = d.expect(f[i++], TAG.SEQUENCE, 'subjectPublicKeyInfo');
    const [spkiAlg, spkiKey, ...sx] = d.children(spkiT);
    const [keyAlgOid, keyAlgParam] = d.seq(spkiAlg, 'subjectPublicKeyInfo algorithm');
    const keyAlg = d.oid(keyAlgOid, 'subjectPublicKeyInfo algorithm');
    const keyBits = d.bitString(spkiKey, 'subjectPublicKey');
    if (sx.length) d.fail('subjectPublicKeyInfo has extra fields');
    this.spki = d.bytes(spkiT);
    if (keyAlg === OID_EC_PUBLIC_KEY && keyAlgParam?.tag === TAG.OID && keyBits.unused === 0) {
      const curve = EC_CURVES[d.oid(keyAlgParam, 'namedCurve')];
      if (curve && keyBits.bytes.length === 1 + 2 * curve.size && keyBits.bytes[0] === 0x04) this.#ecPoint = { crv: curve.crv, size: curve.size, point: keyBits.bytes };
    }
    if (f[i]?.tag === contextTag(1, false)) i++; // issuerUniqueID
    if (f[i]?.tag === contextTag(2, false)) i++; // subjectUniqueID
    const extensions: Extension[] = [];
    if (f[i]?.tag === contextTag(3, true)) {
      if (version !== 3) d.fail('extensions present in a certificate that is not version 3');
      const wrapper = f[i++]!;
      const [extSeq, ...ex] = d.children(wrapper);
      if (ex.length) d.fail('extensions field has extra elements');
      this.#extsWrapper = wrapper;
      this.#extsTlv = extSeq;
      const seen = new Set<string>();
      const list = d.seq(extSeq, 'extensions');
      if (list.length === 0) d.fail('extensions is empty');
      for (const e of list) {
        const ef = d.seq(e, 'extension');
        const oid = d.oid(ef[0], 'extnID');
        let critical = false;
        let j = 1;
        if (ef[j]?.tag === TAG.BOOLEAN) critical = d.boolean(ef[j++]!, 'critical');
        const value = d.octets(ef[j++], `extension ${oid} value`);
        if (j !== ef.length) d.fail(`extension ${oid} has extra fields`);
        // RFC 5280 §4.2: at most one instance of an extension; two SAN or basicConstraints
        // extensions would let different verifiers read different values.
        if (seen.has(oid)) d.fail(`extension ${oid} appears twice`);
        seen.add(oid);
        extensions.push({ oid, critical, value, tlv: e });
      }
    }
    if (i !== f.length) d.fail('tbsCertificate has unexpected trailing fields');
    this.extensions = extensions;

    let bc: BasicConstraints | undefined;
    let ku: number | undefined;
    let eku: string[] | undefined;
    let ski: Buffer | undefined;
    let aki: Buffer | undefined;
    const unhandled: string[] = [];
    for (const e of extensions) {
      if (e.oid === OID_BASIC_CONSTRAINTS) bc = parseBasicConstraints(d, e.value);
      else if (e.oid === OID_KEY_USAGE) ku = parseKeyUsage(d, e.value);
      else if (e.oid === OID_EXT_KEY_USAGE) eku = parseExtKeyUsage(d, e.value);
      else if (e.oid === OID_SUBJECT_KEY_ID) ski = parseSubjectKeyId(d, e.value);
      else if (e.oid === OID_AUTHORITY_KEY_ID) aki = parseAuthorityKeyId(d, e.value);
      else if (e.oid === OID_SUBJECT_ALT_NAME) this.#sans = parseSubjectAltNames(d, e.value);
      if (e.critical && !PROCESSED_EXTENSIONS.has(e.oid)) unhandled.push(e.oid);
    }
    this.basicConstraints = bc;
    this.keyUsage = ku;
    this.extKeyUsage = eku;
    this.subjectKeyId = ski;
    this.authorityKeyId = aki;
    this.unhandledCriticalExtensions = unhandled;
  }

  /**
   * Parses a DER certificate; the same bytes return the same (cached, immutable) object.
   * `{ cache: false }` always parses afresh: the verifier uses it for per-bundle leaf certificates,
   * which are rarely seen twice, so that benchmarks measure a full parse and signature check of
   * every bundle instead of a cache hit (issue 2: no per-bundle result cache across iterations).
   */
  static fromDer(der: Uint8Array, options: { cache?: boolean } = {}): Certificate {
    const buf = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    if (options.cache === false) return new Certificate(Buffer.from(buf));
    // Keyed by SHA-256 (~1 µs) rather than by the DER as a string: 512 retained 2 KiB string keys
    // made the old generation churn, and GC was a third of a cold parse.
    const key = hash('sha256', buf, 'base64');
    const hit = cache.get(key);
    if (hit) return hit;
    // Own copy: the caller's buffer may be a view into a larger, reusable one.
    const cert = new Certificate(Buffer.from(buf));
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(key, cert);
    return cert;
  }

  /** The first CERTIFICATE block of a PEM text. */
  static fromPem(text: string): Certificate {
    const [first] = Certificate.fromPemAll(text);
    if (!first) throw new SigilError('CERTIFICATE_MALFORMED', 'no PEM CERTIFICATE block found', { hint: 'pass a PEM certificate (-----BEGIN CERTIFICATE-----)' });
    return first;
  }

  /** Every CERTIFICATE block of a PEM text, in order (a chain file). */
  static fromPemAll(text: string): Certificate[] {
    return decodePemBlocks(text)
      .filter((b) => b.label === 'CERTIFICATE')
      .map((b) => Certificate.fromDer(b.der));
  }

  /** The subject public key, decoded once. */
  get publicKey(): KeyObject {
    if (!this.#publicKey) {
      try {
        const ec = this.#ecPoint;
        // OpenSSL 3's SPKI decoder costs ~100 µs a key; importing the same uncompressed EC point as
        // a JWK takes about half (bench/x509.ts), and OpenSSL still checks the point is on the curve.
        this.#publicKey = ec
          ? createPublicKey({
              key: { kty: 'EC', crv: ec.crv, x: ec.point.subarray(1, 1 + ec.size).toString('base64url'), y: ec.point.subarray(1 + ec.size).toString('base64url') },
              format: 'jwk',
            })
          : createPublicKey({ key: this.spki, format: 'der', type: 'spki' });
      } catch (e) {
        throw new SigilError('CERTIFICATE_MALFORMED', `certificate: subject public key cannot be decoded: ${(e as Error).message}`, { cause: e });
      }
    }
    return this.#publicKey;
  }

  /** OpenSSL's view of the same certificate (subject/issuer strings, fingerprints); parsed on first use. */
  get x509(): X509Certificate {
    if (!this.#x509) {
      try {
        this.#x509 = new X509Certificate(this.der);
      } catch (e) {
        throw new SigilError('CERTIFICATE_MALFORMED', `certificate: OpenSSL rejects it: ${(e as Error).message}`, { cause: e });
      }
    }
    return this.#x509;
  }

  get isCA(): boolean {
    return this.basicConstraints?.ca === true;
  }

  /** Subject and issuer names are identical (RFC 5280 §6.1: self-issued); roots are self-issued. */
  get isSelfIssued(): boolean {
    return this.subjectDer.equals(this.issuerDer);
  }

  /** Serial number as lower-case hex without sign padding. */
  get serialHex(): string {
    const s = this.serialNumber;
    return (s.length > 1 && s[0] === 0 ? s.subarray(1) : s).toString('hex');
  }

  // Dates are mutable and certificates are shared through the DER cache, so each caller gets its own copy.
  get notBefore(): Date {
    return new Date(this.notBeforeMs);
  }

  get notAfter(): Date {
    return new Date(this.notAfterMs);
  }

  /** True when `t` lies in [notBefore, notAfter], both ends inclusive (RFC 5280 §4.1.2.5). */
  validAt(t: Date): boolean {
    const ms = t.getTime();
    return ms >= this.notBeforeMs && ms <= this.notAfterMs;
  }

  hasKeyUsage(bit: number): boolean {
    return this.keyUsage === undefined || (this.keyUsage & bit) !== 0;
  }

  extension(oid: string): Extension | undefined {
    return this.extensions.find((e) => e.oid === oid);
  }

  subjectAlternativeNames(): SubjectAltName[] {
    return this.#sans ? this.#sans.map((s) => ({ ...s })) : [];
  }

  fulcio(): FulcioExtensions {
    this.#fulcio ??= parseFulcioExtensions(this.extensions);
    return { ...this.#fulcio };
  }

  /**
   * True when `issuer`'s key verifies this certificate's signature. Names and constraints are
   * checked by the chain validator, not here. Successes are remembered per (certificate, issuer).
   */
  verifySignedBy(issuer: Certificate): boolean {
    const known = verifiedBy.get(this);
    if (known?.has(issuer)) return true;
    const ok = verifySignature(this.signatureAlgorithm, issuer.publicKey, this.tbs, this.signatureValue);
    if (ok) {
      if (known) known.add(issuer);
      else verifiedBy.set(this, new WeakSet([issuer]));
    }
    return ok;
  }

  /**
   * The TBSCertificate re-encoded without the extension `oid` (RFC 6962 §3.2: the precertificate
   * TBS an SCT signs is the final TBS minus the SCT list extension, with every enclosing length
   * re-encoded). Undefined if the extension is absent.
   */
  tbsWithoutExtension(oid: string): Buffer | undefined {
    const ext = this.extension(oid);
    const wrapper = this.#extsWrapper;
    const extsSeq = this.#extsTlv;
    if (!ext || !wrapper || !extsSeq) return undefined;
    const buf = this.der;
    const tbs = this.#tbsTlv;
    const remaining = [buf.subarray(extsSeq.valueStart, ext.tlv.start), buf.subarray(ext.tlv.end, extsSeq.end)];
    // [3] is the last TBS field and holds only the SEQUENCE; if nothing is left it is omitted.
    const extsField = remaining[0]!.length + remaining[1]!.length === 0 ? [] : [encodeTlv(contextTag(3, true), encodeTlv(TAG.SEQUENCE, ...remaining))];
    return encodeTlv(TAG.SEQUENCE, buf.subarray(tbs.valueStart, wrapper.start), ...extsField, buf.subarray(wrapper.end, tbs.end));
  }
}

function checkName(d: Der, t: Tlv | undefined, what: string): Tlv {
  // Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue); walked so a
  // malformed name fails here rather than in whatever later reads it.
  for (const rdn of d.seq(t, what)) {
    const atvs = d.seq(rdn, `${what} RDN`, TAG.SET);
    if (atvs.length === 0) d.fail(`${what} has an empty RDN`);
    for (const atv of atvs) {
      const [type, value, ...x] = d.seq(atv, `${what} attribute`);
      d.oid(type, `${what} attribute type`);
      if (!value || x.length) d.fail(`${what} attribute is malformed`);
    }
  }
  return t!;
}
