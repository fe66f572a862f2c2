/**
 * Step 1, structure: turns a parsed bundle into what the later steps check — the signed content,
 * the signing material (with certificates decoded once), the log entries and the RFC 3161 tokens.
 *
 * Certificates are parsed here and nowhere else in the pipeline. What a bundle chain may contain
 * (no root, no CA leaf, only the authority's own intermediates) is decided by x509/chain.ts in the
 * signing-key step.
 */
import type { Envelope, TransparencyLogEntry } from '@sigstore/protobuf-specs';
import { SigilError } from '../core/errors.js';
import type { DigestAlgorithm } from '../core/digest.js';
import { sha256 } from '../core/digest.js';
import { certificateMaterial, digestAlgorithmOf, type BundleVersion, type ParsedBundle } from '../formats/bundle.js';
import { envelopePae, INTOTO_PAYLOAD_TYPE } from '../formats/dsse.js';
import { parseStatement, type Statement } from '../formats/intoto.js';
import { Certificate } from '../x509/certificate.js';

export type SignedContent =
  | { kind: 'message-signature'; signature: Buffer; digestAlg: DigestAlgorithm; digest: Buffer }
  | {
      kind: 'dsse';
      envelope: Envelope;
      signature: Buffer;
      /** The bytes the signature covers. */
      pae: Buffer;
      /** SHA-256 of the payload, what dsse/intoto log entries record. */
      payloadSha256: Buffer;
      /** The in-toto statement when payloadType says so (parsed, not yet trusted). */
      statement?: Statement;
    };

export type SigningMaterial = { kind: 'key'; hint: string } | { kind: 'certificate'; leaf: Certificate; intermediates: Certificate[] };

export interface Entity {
  version: BundleVersion;
  mediaType: string;
  content: SignedContent;
  material: SigningMaterial;
  tlogEntries: TransparencyLogEntry[];
  rfc3161Tokens: Buffer[];
}

// Parsed without Certificate's DER cache: a bundle's certificates are verified in full every time.
function parseCert(der: Buffer, what: string): Certificate {
  try {
    return Certificate.fromDer(der, { cache: false });
  } catch (e) {
    if (e instanceof SigilError && e.code === 'CERTIFICATE_MALFORMED') throw new SigilError('CERTIFICATE_MALFORMED', `${what}: ${e.message}`, { cause: e, hint: 'the certificate was truncated or altered' });
    throw new SigilError('CERTIFICATE_MALFORMED', `${what} is not a valid X.509 certificate: ${(e as Error).message}`, { cause: e, hint: 'the certificate was truncated or altered' });
  }
}

export function toEntity(parsed: ParsedBundle): Entity {
  const b = parsed.bundle;
  let content: SignedContent;
  if (b.content.$case === 'messageSignature') {
    const ms = b.content.messageSignature;
    content = { kind: 'message-signature', signature: ms.signature, digestAlg: digestAlgorithmOf(ms.messageDigest!.algorithm), digest: ms.messageDigest!.digest };
  } else {
    const env = b.content.dsseEnvelope;
    content = {
      kind: 'dsse',
      envelope: env,
      signature: env.signatures[0]!.sig,
      pae: envelopePae(env),
      payloadSha256: sha256(env.payload),
      ...(env.payloadType === INTOTO_PAYLOAD_TYPE ? { statement: parseStatement(env.payload) } : {}),
    };
  }

  let material: SigningMaterial;
  const certs = certificateMaterial(b);
  if (!certs) {
    const c = b.verificationMaterial.content;
    material = { kind: 'key', hint: c.$case === 'publicKey' ? c.publicKey.hint : '' };
  } else {
    const leaf = parseCert(certs.leaf, 'signing certificate');
    const intermediates = certs.chain.map((der, i) => parseCert(der, `bundle certificate chain [${i + 1}]`));
    material = { kind: 'certificate', leaf, intermediates };
  }

  return {
    version: parsed.version,
    mediaType: b.mediaType,
    content,
    material,
    tlogEntries: b.verificationMaterial.tlogEntries,
    rfc3161Tokens: (b.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []).map((t) => t.signedTimestamp),
  };
}
