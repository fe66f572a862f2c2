/**
 * RFC 3161 timestamp tokens: a trusted Time-Stamp Authority's signed statement that some bytes
 * (here: the bundle's signature) existed at `genTime`. Rekor v2 entries carry no integrated
 * time, so for them this is the only evidence of when a short-lived certificate signed.
 *
 * Verification (RFC 3161 §2.4.2, RFC 5652 §5.4, RFC 5816):
 *   1. the TSTInfo messageImprint equals the hash of the signed bytes;
 *   2. the signed attributes bind the TSTInfo: content-type is id-ct-TSTInfo and message-digest
 *      equals the hash of the encapsulated TSTInfo;
 *   3. the signer certificate (embedded in the token or taken from the trusted root) chains to a
 *      trusted TSA at genTime, genTime lies in that TSA's validFor window, and the certificate
 *      is for time stamping (id-kp-timeStamping, RFC 3161 §2.3);
 *   4. its key verifies the signature over the DER of the signed attributes;
 *   5. when an ESS signing-certificate(-v2) attribute names the signer, it names this certificate.
 * `bytes` may be a TimeStampResp (what Sigstore bundles store in `signedTimestamp`) or a bare
 * TimeStampToken (a CMS ContentInfo).
 */
import { createHash } from 'node:crypto';
import { Der, TAG, contextTag, type Tlv } from '../core/der.js';
import { SigilError } from '../core/errors.js';
import { cmsSignatureScheme, digestAlgorithm, digestNameForOid, verifySignature, type HashName, type SignatureScheme } from './algorithms.js';
import { Certificate } from './certificate.js';
import { verifyCertificateChain, windowContains, type CertificateAuthority } from './chain.js';
import {
  OID_ATTR_CONTENT_TYPE,
  OID_ATTR_MESSAGE_DIGEST,
  OID_ATTR_SIGNING_CERTIFICATE,
  OID_ATTR_SIGNING_CERTIFICATE_V2,
  OID_CT_TSTINFO,
  OID_KP_TIME_STAMPING,
  OID_SIGNED_DATA,
} from './oids.js';

/** One ESSCertID / ESSCertIDv2 (RFC 2634 §5.4.1, RFC 5035 §3). */
export interface EssCertId {
  hash: HashName | 'sha1';
  certHash: Buffer;
  issuerSerial?: { issuerNames: Buffer[]; serial: Buffer };
}

export type SignerId = { issuer: Buffer; serial: Buffer } | { subjectKeyId: Buffer };

export interface TimestampToken {
  /** TSTInfo fields. */
  genTime: Date;
  policy: string;
  serialNumber: Buffer;
  messageImprint: { hash: HashName; digest: Buffer };
  nonce: Buffer | undefined;
  /** Certificates embedded in the SignedData (may be empty). */
  certificates: Certificate[];
  signer: {
    sid: SignerId;
    digest: HashName;
    scheme: SignatureScheme;
    /** The signed attributes re-tagged as SET OF (RFC 5652 §5.4): the bytes the signature covers. */
    signedAttributes: Buffer;
    signature: Buffer;
    contentType: string;
    messageDigest: Buffer;
    /** From signing-certificate-v2, or v1 if only that is present; undefined when neither is. */
    essCertIds: EssCertId[] | undefined;
  };
  /** The encapsulated TSTInfo DER. */
  tstInfo: Buffer;
}

/** Parses a TimeStampResp or TimeStampToken; throws TIMESTAMP_MALFORMED (or TIMESTAMP_INVALID for a refused response). */
export function parseTimestampToken(bytes: Uint8Array): TimestampToken {
  const d = new Der(bytes, 'TIMESTAMP_MALFORMED', 'RFC 3161 timestamp');
  const top = d.seq(d.root(), 'timestamp');
  let contentInfo: Tlv;
  if (top[0]?.tag === TAG.SEQUENCE) {
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
    const [statusInfo, token, ...extra] = top;
    if (extra.length) d.fail('TimeStampResp has extra fields');
    const status = d.smallInt(d.seq(statusInfo, 'PKIStatusInfo')[0], 'PKIStatus');
    // RFC 3161 §2.4.2: granted (0) and grantedWithMods (1) carry a token; anything else is a refusal.
    if (status > 1) throw new SigilError('TIMESTAMP_INVALID', `the timestamp response has status ${status} (not granted)`, { hint: 'the TSA refused the request' });
    contentInfo = token ?? d.fail('TimeStampResp has no timeStampToken');
  } else {
    contentInfo = d.root();
  }
  const [ctype, content, ...cx] = d.seq(contentInfo, 'ContentInfo');
  if (d.oid(ctype, 'ContentInfo contentType') !== OID_SIGNED_DATA) d.fail('ContentInfo is not SignedData');
  if (cx.length) d.fail('ContentInfo has extra fields');
  const [signedData, ...sx] = d.seq(content, 'ContentInfo content', contextTag(0, true));
  if (sx.length) d.fail('ContentInfo content has extra fields');

  // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo, [0] certificates, [1] crls, signerInfos }
  const f = d.seq(signedData, 'SignedData');
  let i = 0;
  d.smallInt(f[i++], 'SignedData version');
  d.seq(f[i++], 'SignedData digestAlgorithms', TAG.SET);
  const [eType, eContentWrap, ...ex] = d.seq(f[i++], 'encapContentInfo');
  if (d.oid(eType, 'eContentType') !== OID_CT_TSTINFO) d.fail('encapsulated content is not a TSTInfo');
  if (ex.length) d.fail('encapContentInfo has extra fields');
  const [eContent, ...ecx] = d.seq(eContentWrap, 'eContent', contextTag(0, true));
  if (ecx.length) d.fail('eContent has extra fields');
  const tstInfo = d.octets(eContent, 'eContent');
  const certificates: Certificate[] = [];
  if (f[i]?.tag === contextTag(0, true)) {
    for (const c of d.children(f[i++]!)) {
      // CertificateChoices: only plain certificates (SEQUENCE) are used; attribute and other certificate formats are skipped.
      if (c.tag !== TAG.SEQUENCE) continue;
      try {
        certificates.push(Certificate.fromDer(d.bytes(c)));
      } catch (e) {
        d.fail(`embedded certificate is malformed: ${(e as Error).message}`);
      }
    }
  }
  if (f[i]?.tag === contextTag(1, true)) i++; // crls: not used, revocation is not part of Sigstore verification
  const signerInfos = d.seq(f[i++], 'signerInfos', TAG.SET);
  if (i !== f.length) d.fail('SignedData has unexpected fields');
  // RFC 3161 §2.4.2: the token has exactly one signer, the TSA.
  if (signerInfos.length !== 1) d.fail(`SignedData has ${signerInfos.length} signers, expected exactly one`);

  const signer = parseSignerInfo(d, signerInfos[0]!);
  const tst = parseTstInfo(new Der(tstInfo, 'TIMESTAMP_MALFORMED', 'RFC 3161 TSTInfo'));
  return { ...tst, certificates, signer, tstInfo };
}

function parseSignerInfo(d: Der, t: Tlv): TimestampToken['signer'] {
  const f = d.seq(t, 'SignerInfo');
  let i = 0;
  d.smallInt(f[i++], 'SignerInfo version');
  const sidT = f[i++];
  let sid: SignerId;
  if (sidT?.tag === TAG.SEQUENCE) {
    const [issuer, serial, ...x] = d.children(sidT);
    if (!issuer || x.length) d.fail('IssuerAndSerialNumber is malformed');
    d.expect(issuer, TAG.SEQUENCE, 'sid issuer');
    sid = { issuer: d.bytes(issuer), serial: d.integerBytes(serial, 'sid serialNumber') };
  } else if (sidT?.tag === contextTag(0, false)) {
    sid = { subjectKeyId: d.value(sidT) };
  } else {
    return d.fail('SignerInfo sid is neither IssuerAndSerialNumber nor SubjectKeyIdentifier');
  }
  const digest = digestAlgorithm(d, f[i++], 'SignerInfo digestAlgorithm');
  const attrsT = f[i];
  // RFC 3161 §2.4.1 requires the ESS signing-certificate attribute, so signed attributes must be
  // present; a signature directly over the TSTInfo is refused.
  if (attrsT?.tag !== contextTag(0, true)) d.fail('SignerInfo has no signed attributes');
  i++;
  const scheme = cmsSignatureScheme(d, f[i++], digest);
  const signature = d.octets(f[i++], 'SignerInfo signature');
  if (f[i]?.tag === contextTag(1, true)) i++; // unsignedAttrs
  if (i !== f.length) d.fail('SignerInfo has unexpected fields');

  const attrs = new Map<string, Tlv[]>();
  for (const a of d.children(attrsT)) {
    const [type, values, ...x] = d.seq(a, 'signed attribute');
    const oid = d.oid(type, 'signed attribute type');
    if (x.length) d.fail(`signed attribute ${oid} has extra fields`);
    // RFC 5652 §5.3: each of these attributes appears once with one value.
    if (attrs.has(oid)) d.fail(`signed attribute ${oid} appears twice`);
    attrs.set(oid, d.seq(values, `signed attribute ${oid} values`, TAG.SET));
  }
  const single = (oid: string, what: string): Tlv => {
    const v = attrs.get(oid);
    if (!v) d.fail(`signed attributes lack ${what}`);
    if (v.length !== 1) d.fail(`${what} attribute must have exactly one value`);
    return v[0]!;
  };
  const contentType = d.oid(single(OID_ATTR_CONTENT_TYPE, 'content-type'), 'content-type');
  const messageDigest = d.octets(single(OID_ATTR_MESSAGE_DIGEST, 'message-digest'), 'message-digest');
  let essCertIds: EssCertId[] | undefined;
  if (attrs.has(OID_ATTR_SIGNING_CERTIFICATE_V2)) essCertIds = parseEss(d, single(OID_ATTR_SIGNING_CERTIFICATE_V2, 'signing-certificate-v2'), true);
  else if (attrs.has(OID_ATTR_SIGNING_CERTIFICATE)) essCertIds = parseEss(d, single(OID_ATTR_SIGNING_CERTIFICATE, 'signing-certificate'), false);

  // RFC 5652 §5.4: the signature covers the DER of SignedAttrs with the EXPLICIT SET OF tag, not the [0] IMPLICIT one.
  const signedAttributes = Buffer.from(d.bytes(attrsT));
  signedAttributes[0] = TAG.SET;
  return { sid, digest, scheme, signedAttributes, signature, contentType, messageDigest, essCertIds };
}

function parseEss(d: Der, t: Tlv, v2: boolean): EssCertId[] {
  const [certs] = d.seq(t, v2 ? 'SigningCertificateV2' : 'SigningCertificate');
  const ids = d.seq(certs, 'ESS certs');
  if (ids.length === 0) d.fail('ESS signing-certificate attribute lists no certificate');
  return ids.map((idT) => {
    const f = d.seq(idT, 'ESSCertID');
    let i = 0;
    let hash: HashName | 'sha1' = v2 ? 'sha256' : 'sha1';
    if (v2 && f[i]?.tag === TAG.SEQUENCE) {
      // hashAlgorithm DEFAULT id-sha256
      const [algOid] = d.seq(f[i++], 'ESSCertIDv2 hashAlgorithm');
      const oid = d.oid(algOid, 'ESSCertIDv2 hashAlgorithm');
      const name = digestNameForOid(oid);
      if (!name || name === 'sha1') d.fail(`ESSCertIDv2 hash algorithm ${oid} is not supported`);
      hash = name;
    }
    const certHash = d.octets(f[i++], 'ESS certHash');
    let issuerSerial: EssCertId['issuerSerial'];
    if (f[i]) {
      const [names, serial] = d.seq(f[i++], 'ESS issuerSerial');
      const issuerNames: Buffer[] = [];
      for (const gn of d.seq(names, 'ESS issuerSerial issuer')) {
        // directoryName [4] EXPLICIT Name; other GeneralName forms cannot name a certificate issuer.
        if (gn.tag === contextTag(4, true)) {
          const [n] = d.children(gn);
          issuerNames.push(d.bytes(d.expect(n, TAG.SEQUENCE, 'ESS issuer Name')));
        }
      }
      issuerSerial = { issuerNames, serial: d.integerBytes(serial, 'ESS issuerSerial serialNumber') };
    }
    if (i !== f.length) d.fail('ESSCertID has extra fields');
    return issuerSerial ? { hash, certHash, issuerSerial } : { hash, certHash };
  });
}

function parseTstInfo(d: Der): Pick<TimestampToken, 'genTime' | 'policy' | 'serialNumber' | 'messageImprint' | 'nonce'> {
  const f = d.seq(d.root(), 'TSTInfo');
  let i = 0;
  const version = d.smallInt(f[i++], 'TSTInfo version');
  if (version !== 1) d.fail(`TSTInfo version ${version} is not 1`);
  const policy = d.oid(f[i++], 'TSTInfo policy');
  const [alg, hashed, ...mx] = d.seq(f[i++], 'messageImprint');
  if (mx.length) d.fail('messageImprint has extra fields');
  const messageImprint = { hash: digestAlgorithm(d, alg, 'messageImprint hashAlgorithm'), digest: d.octets(hashed, 'hashedMessage') };
  const serialNumber = d.integerBytes(f[i++], 'TSTInfo serialNumber');
  const genT = d.expect(f[i++], TAG.GENERALIZED_TIME, 'genTime');
  const genTime = d.time(genT, 'genTime');
  if (f[i]?.tag === TAG.SEQUENCE) d.seq(f[i++], 'accuracy');
  if (f[i]?.tag === TAG.BOOLEAN) d.boolean(f[i++]!, 'ordering');
  let nonce: Buffer | undefined;
  if (f[i]?.tag === TAG.INTEGER) nonce = d.integerBytes(f[i++], 'nonce');
  if (f[i]?.tag === contextTag(0, true)) d.children(f[i++]!); // tsa name
  if (f[i]?.tag === contextTag(1, true)) d.children(f[i++]!); // extensions
  if (i !== f.length) d.fail('TSTInfo has unexpected fields');
  if (messageImprint.digest.length !== { sha256: 32, sha384: 48, sha512: 64 }[messageImprint.hash]) d.fail('hashedMessage length does not match its algorithm');
  return { genTime, policy, serialNumber, messageImprint, nonce };
}

function hash(alg: HashName | 'sha1', data: Uint8Array): Buffer {
  return createHash(alg).update(data).digest();
}

function matchesSid(cert: Certificate, sid: SignerId): boolean {
  if ('subjectKeyId' in sid) return cert.subjectKeyId !== undefined && cert.subjectKeyId.equals(sid.subjectKeyId);
  return cert.issuerDer.equals(sid.issuer) && cert.serialNumber.equals(sid.serial);
}

function invalid(message: string, hint = 'the timestamp does not prove when the signature was made'): SigilError {
  return new SigilError('TIMESTAMP_INVALID', message, { hint });
}

/** Checks the ESS signing-certificate attribute against the chosen signer certificate; undefined when it matches or is absent. */
function essMismatch(ids: EssCertId[] | undefined, cert: Certificate): string | undefined {
  if (!ids) return undefined;
  const first = ids[0]!;
  // RFC 2634 §5.4: the first ESSCertID identifies the signing certificate.
  if (!hash(first.hash, cert.der).equals(first.certHash)) return 'ESS signing-certificate hash does not match the signer certificate';
  if (first.issuerSerial) {
    if (!first.issuerSerial.serial.equals(cert.serialNumber)) return 'ESS signing-certificate serial does not match the signer certificate';
    if (first.issuerSerial.issuerNames.length && !first.issuerSerial.issuerNames.some((n) => n.equals(cert.issuerDer))) {
      return 'ESS signing-certificate issuer does not match the signer certificate';
    }
  }
  return undefined;
}

/**
 * Verifies an RFC 3161 timestamp over `signedBytes` against the trusted TSAs and returns its
 * genTime. Throws TIMESTAMP_MALFORMED when the token cannot be parsed and TIMESTAMP_INVALID when it
 * does not verify (wrong imprint, untrusted or expired TSA, bad signature).
 */
export function verifyTimestampToken(tokenDer: Uint8Array, signedBytes: Uint8Array, tsas: readonly CertificateAuthority[]): Date {
  const token = parseTimestampToken(tokenDer);
  const { signer, genTime } = token;
  if (!hash(token.messageImprint.hash, signedBytes).equals(token.messageImprint.digest)) {
    throw invalid('the timestamp message imprint does not match the signature bytes', 'the timestamp was issued for other data');
  }
  if (signer.contentType !== OID_CT_TSTINFO) throw invalid(`signed content-type attribute is ${signer.contentType}, not id-ct-TSTInfo`);
  if (!hash(signer.digest, token.tstInfo).equals(signer.messageDigest)) {
    throw invalid('signed message-digest attribute does not match the TSTInfo', 'the TSTInfo was altered after signing');
  }
  if (tsas.length === 0) throw invalid('the trusted root lists no timestamp authority', 'use a trusted root with timestampAuthorities');

  const reasons: string[] = [];
  for (const [n, tsa] of tsas.entries()) {
    const label = `TSA #${n + 1}`;
    if (!windowContains(tsa.validFor, genTime)) {
      reasons.push(`${label}: genTime ${genTime.toISOString()} is outside its validity ${tsa.validFor.start.toISOString()}..${tsa.validFor.end?.toISOString() ?? '(open)'}`);
      continue;
    }
    // Trusted-root certificates first; an embedded certificate is only a candidate, validated like any leaf.
    const candidates = [...tsa.certChain, ...token.certificates.filter((c) => !tsa.certChain.some((t) => t.der.equals(c.der)))].filter((c) =>
      matchesSid(c, signer.sid),
    );
    if (candidates.length === 0) {
      reasons.push(`${label}: no certificate matches the token's signer`);
      continue;
    }
    for (const cert of candidates) {
      const r = tryCandidate(cert, tsa, token);
      if (r === undefined) return genTime;
      reasons.push(`${label}: ${r}`);
    }
  }
  throw invalid(`no trusted timestamp authority verifies this timestamp (${reasons.join('; ')})`, 'the timestamp was not issued by a TSA in the trusted root, or not while it was trusted');
}

function tryCandidate(cert: Certificate, tsa: CertificateAuthority, token: TimestampToken): string | undefined {
  try {
    verifyCertificateChain(cert, [], [tsa], [token.genTime], { extKeyUsage: OID_KP_TIME_STAMPING, requireExtKeyUsage: true });
  } catch (e) {
    if (e instanceof SigilError) return `signer certificate: ${e.message}`;
    throw e;
  }
  const ess = essMismatch(token.signer.essCertIds, cert);
  if (ess) return ess;
  if (!verifySignature(token.signer.scheme, cert.publicKey, token.signer.signedAttributes, token.signer.signature)) {
    return 'signature over the signed attributes does not verify with the signer certificate';
  }
  return undefined;
}
