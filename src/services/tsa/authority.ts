/**
 * An RFC 3161 time-stamping authority. Requests (TimeStampReq) are parsed and answers
 * (TimeStampResp with a CMS SignedData over a TSTInfo, RFC 5652) are built with
 * @peculiar/asn1-tsp and @peculiar/asn1-cms; the signature is made through a `Signer`.
 *
 * What RFC 3161 asks and this does:
 * - §2.4.1 the nonce is copied into TSTInfo; a requested policy must be one the TSA serves,
 *   otherwise the reply is a rejection with failInfo unacceptedPolicy; critical request
 *   extensions are refused (unacceptedExtension); unknown hash algorithms or a hash of the
 *   wrong length are badAlg / badDataFormat.
 * - §2.4.1 certReq: the signing certificate chain is included only when asked.
 * - RFC 5816 / RFC 5035: the signer is identified by the ESS signing-certificate-v2 signed
 *   attribute (SHA-256 of the TSA certificate plus its issuer and serial), so the certificate
 *   cannot be substituted.
 * - genTime is whole seconds: DER GeneralizedTime drops trailing fraction zeros (X.690 §11.7),
 *   and sigstore-js only parses a fraction of exactly three digits, so fractions would make one
 *   reply in ten unverifiable there; accuracy says ±1 s instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as cms from '@peculiar/asn1-cms';
import * as tsp from '@peculiar/asn1-tsp';
import * as x509 from '@peculiar/asn1-x509';
import { SigilError } from '../../core/errors.js';
import type { Signer } from '../../crypto/signer.js';
import { keyHashAlgorithm } from '../../crypto/keys.js';
import { signatureAlgorithmFor } from '../pki/algorithms.js';
import { explicit, octetString, oid, seq, set, smallInteger, tlv, unsignedInteger } from '../pki/der.js';
import { certificateParts } from '../pki/issuer.js';

/** The policy of Sigstore's timestamp authority (fulcio docs/oid-info.md, 1.3.6.1.4.1.57264.2). */
export const DEFAULT_TSA_POLICY = '1.3.6.1.4.1.57264.2';

const HASHES: Record<string, { name: 'sha256' | 'sha384' | 'sha512'; length: number }> = {
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', length: 32 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', length: 48 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', length: 64 },
};
const HASH_OID: Record<string, string> = { sha256: '2.16.840.1.101.3.4.2.1', sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' };

const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';

/**
 * RFC 3161 §2.4.2 PKIFailureInfo bit numbers. (@peculiar/asn1-tsp's PKIFailureInfoFlags puts all
 * but badAlg one bit too low — OpenSSL reads its unacceptedPolicy as timeNotAvailable — so the
 * bit string is built from the RFC's numbers here.)
 */
const FAILURE_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;

export type TsaFailure = keyof typeof FAILURE_BITS;

/** DER named-bit BIT STRING with one bit set (X.690 §11.2.2: trailing zero bits removed). */
function failureInfo(f: TsaFailure): tsp.PKIFailureInfo {
  const bit = FAILURE_BITS[f];
  const bytes = new Uint8Array(Math.floor(bit / 8) + 1);
  bytes[Math.floor(bit / 8)] = 0x80 >> bit % 8;
  return new tsp.PKIFailureInfo(bytes.buffer, 7 - (bit % 8));
}

/** A request the TSA refuses; becomes a TimeStampResp with status rejection (§2.4.2). */
export class TimestampRejection extends SigilError {
  constructor(
    readonly failure: TsaFailure,
    message: string,
  ) {
    super('TIMESTAMP_MALFORMED', message);
  }
}

export interface TimestampRequest {
  hashAlgorithm: 'sha256' | 'sha384' | 'sha512';
  hashedMessage: Buffer;
  nonce: Buffer | undefined;
  policy: string | undefined;
  certReq: boolean;
}

export interface TimestampAuthorityOptions {
  signer: Signer;
  /** TSA certificate first, then its issuers up to the root (DER). */
  chain: Buffer[];
  policy?: string;
  /** Policies accepted in requests besides the default. */
  acceptedPolicies?: string[];
  now?: () => number;
}

export class TimestampAuthority {
  readonly chain: Buffer[];
  readonly policy: string;
  private readonly accepted: Set<string>;
  private readonly signer: Signer;
  private readonly now: () => number;
  private readonly signingCertificateV2: Buffer;
  private readonly digestAlg: 'sha256' | 'sha384' | 'sha512';
  /** The constant parts of every reply, serialised once with @peculiar/asn1-cms (see stamp()). */
  private readonly parts: { versionAndDigestAlgorithms: Buffer; certificates: Buffer; signerInfoHead: Buffer; signatureAlgorithm: Buffer; statusGranted: Buffer };

  constructor(opts: TimestampAuthorityOptions) {
    const leaf = opts.chain[0];
    if (!leaf) throw new SigilError('CERTIFICATE_MALFORMED', 'a TSA needs its certificate chain');
    if (!opts.signer.keyDetails.startsWith('PKIX_ECDSA')) {
      // Sigstore verifiers (sigstore-js, sigstore-go) accept ECDSA timestamp signatures only.
      throw new SigilError('KEY_UNSUPPORTED', 'the TSA signs with an ECDSA key (P-256, P-384 or P-521)');
    }
    const parts = certificateParts(leaf);
    if (!opts.signer.publicKey.export({ type: 'spki', format: 'der' }).equals(parts.subjectPublicKeyInfo)) {
      throw new SigilError('KEY_MISMATCH', 'the TSA key does not match its certificate', { hint: 'pass the certificate chain that belongs to the key' });
    }
    this.signer = opts.signer;
    this.chain = opts.chain;
    this.policy = opts.policy ?? DEFAULT_TSA_POLICY;
    this.accepted = new Set([this.policy, ...(opts.acceptedPolicies ?? [])]);
    this.now = opts.now ?? Date.now;
    this.digestAlg = keyHashAlgorithm(opts.signer.publicKey) as 'sha256' | 'sha384' | 'sha512';
    const sid = new cms.IssuerAndSerialNumber({ issuer: AsnConvert.parse(parts.issuer, x509.Name), serialNumber: toArrayBuffer(parts.serialNumber) });
    const digestAlgorithm = Buffer.from(AsnConvert.serialize(new x509.AlgorithmIdentifier({ algorithm: HASH_OID[this.digestAlg]! })));
    // RFC 5035 §5.4: ESSCertIDv2 { certHash (SHA-256, the DEFAULT algorithm, hence omitted), issuerSerial }.
    const issuerSerial = seq(seq(explicit(4, parts.issuer)), tlvInteger(parts.serialNumber));
    this.signingCertificateV2 = seq(seq(seq(octetString(createHash('sha256').update(leaf).digest()), issuerSerial)));
    const certificateSet = Buffer.from(AsnConvert.serialize(new cms.CertificateSet(opts.chain.map((c) => new cms.CertificateChoices({ certificate: AsnConvert.parse(c, x509.Certificate) })))));
    this.parts = {
      // SignedData: version 3 (RFC 5652 §5.1, eContentType is not id-data), digestAlgorithms SET.
      versionAndDigestAlgorithms: Buffer.concat([smallInteger(cms.CMSVersion.v3), set(digestAlgorithm)]),
      // certificates [0] IMPLICIT CertificateSet: the SET's tag becomes context-specific constructed 0.
      certificates: Buffer.concat([Buffer.from([0xa0]), certificateSet.subarray(1)]),
      // SignerInfo: version 1 (issuerAndSerialNumber sid), sid, digestAlgorithm.
      signerInfoHead: Buffer.concat([smallInteger(1), Buffer.from(AsnConvert.serialize(sid)), digestAlgorithm]),
      signatureAlgorithm: signatureAlgorithmFor(opts.signer.keyDetails),
      statusGranted: Buffer.from(AsnConvert.serialize(new tsp.PKIStatusInfo({ status: tsp.PKIStatus.granted }))),
    };
  }

  /** Parses and checks a DER TimeStampReq; throws TimestampRejection with the RFC 3161 failure. */
  parseRequest(der: Uint8Array): TimestampRequest {
    let req: tsp.TimeStampReq;
    try {
      req = AsnConvert.parse(der, tsp.TimeStampReq);
    } catch (e) {
      throw new TimestampRejection('badDataFormat', `request is not a DER TimeStampReq: ${(e as Error).message}`);
    }
    if (req.version !== 1) throw new TimestampRejection('badRequest', `request version ${req.version} is not 1`);
    if (req.extensions?.some((e) => e.critical)) throw new TimestampRejection('unacceptedExtension', 'request carries a critical extension this TSA does not support');
    return this.checkRequest({
      hashAlgorithmOid: req.messageImprint.hashAlgorithm.algorithm,
      hashedMessage: Buffer.from(req.messageImprint.hashedMessage.buffer),
      nonce: req.nonce ? Buffer.from(req.nonce) : undefined,
      policy: req.reqPolicy,
      certReq: req.certReq,
    });
  }

  checkRequest(r: { hashAlgorithmOid: string; hashedMessage: Buffer; nonce: Buffer | undefined; policy: string | undefined; certReq: boolean }): TimestampRequest {
    const h = HASHES[r.hashAlgorithmOid];
    if (!h) throw new TimestampRejection('badAlg', `hash algorithm ${r.hashAlgorithmOid} is not supported (use SHA-256, SHA-384 or SHA-512)`);
    if (r.hashedMessage.length !== h.length) throw new TimestampRejection('badDataFormat', `a ${h.name} message imprint is ${h.length} bytes, got ${r.hashedMessage.length}`);
    if (r.policy !== undefined && !this.accepted.has(r.policy)) throw new TimestampRejection('unacceptedPolicy', `policy ${r.policy} is not served by this TSA (it serves ${[...this.accepted].join(', ')})`);
    if (r.nonce !== undefined && r.nonce.length > 64) throw new TimestampRejection('badRequest', 'nonce longer than 64 bytes');
    return { hashAlgorithm: h.name, hashedMessage: r.hashedMessage, nonce: r.nonce, policy: r.policy, certReq: r.certReq };
  }

  hashOid(name: string): string {
    const o = HASH_OID[name];
    if (!o) throw new TimestampRejection('badAlg', `hash algorithm ${name} is not supported`);
    return o;
  }

  /** Issues a timestamp token and returns the DER TimeStampResp (status granted). */
  async stamp(req: TimestampRequest): Promise<Buffer> {
    const genTime = new Date(Math.floor(this.now() / 1000) * 1000);
    const tstInfo = new tsp.TSTInfo({
      version: tsp.TSTInfoVersion.v1,
      policy: req.policy ?? this.policy,
      messageImprint: new tsp.MessageImprint({
        hashAlgorithm: new x509.AlgorithmIdentifier({ algorithm: HASH_OID[req.hashAlgorithm]! }),
        hashedMessage: new OctetString(req.hashedMessage),
      }),
      serialNumber: toArrayBuffer(positive(randomBytes(16))),
      genTime,
      accuracy: new tsp.Accuracy({ seconds: 1 }),
      ordering: false,
      ...(req.nonce ? { nonce: toArrayBuffer(req.nonce) } : {}),
    });
    const tstDer = Buffer.from(AsnConvert.serialize(tstInfo));

    // RFC 5652 §5.3-5.4: signed attributes; the signature covers their DER SET OF encoding.
    const attrs = [
      attribute(OID_CONTENT_TYPE, oid(tsp.id_ct_tstInfo)),
      attribute(OID_MESSAGE_DIGEST, octetString(createHash(this.digestAlg).update(tstDer).digest())),
      attribute(OID_SIGNING_CERTIFICATE_V2, this.signingCertificateV2),
    ].sort(Buffer.compare); // X.690 §11.6: SET OF components in ascending encoding order
    const signature = await this.signer.sign(set(...attrs));

    // RFC 5652 §5.1-5.3 SignedData, assembled from the pieces serialised at start-up plus this
    // reply's TSTInfo, signed attributes and signature: serialising the whole structure through
    // the schema layer cost ~1.5 ms a reply (mostly the embedded certificates).
    const p = this.parts;
    const signerInfo = seq(p.signerInfoHead, tlv(0xa0, ...attrs), p.signatureAlgorithm, octetString(signature));
    const signedData = seq(
      p.versionAndDigestAlgorithms,
      seq(oid(tsp.id_ct_tstInfo), explicit(0, octetString(tstDer))),
      ...(req.certReq ? [p.certificates] : []),
      set(signerInfo),
    );
    const token = seq(oid(OID_SIGNED_DATA), explicit(0, signedData));
    return seq(p.statusGranted, token);
  }

  /** A TimeStampResp with status rejection and the failure bit (RFC 3161 §2.4.2). */
  rejection(r: TimestampRejection): Buffer {
    const resp = new tsp.TimeStampResp({
      status: new tsp.PKIStatusInfo({
        status: tsp.PKIStatus.rejection,
        statusString: new tsp.PKIFreeText([r.message]),
        failInfo: failureInfo(r.failure),
      }),
    });
    return Buffer.from(AsnConvert.serialize(resp));
  }
}

function attribute(type: string, value: Buffer): Buffer {
  return seq(oid(type), set(value));
}

function tlvInteger(unsigned: Buffer): Buffer {
  return unsignedInteger(unsigned);
}

function positive(b: Buffer): Buffer {
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b;
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
