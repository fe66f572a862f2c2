/**
 * Sigstore bundles (protobuf-specs `dev.sigstore.bundle.v1.Bundle`) in their JSON form, media
 * types v0.1, v0.2 and v0.3. Parsing is strict and checks the per-version requirements that the
 * generated `Bundle.fromJSON` does not (sigstore_bundle.proto comments; sigstore-js
 * packages/bundle/src/validate.ts enforces the same set):
 *   - v0.1: every tlog entry carries an inclusion promise (SET);
 *   - v0.2+: every tlog entry carries an inclusion proof with a checkpoint;
 *   - v0.3: the verification material is a single `certificate`, never an `x509CertificateChain`;
 *     `certificate` itself only exists from v0.3 on;
 *   - a DSSE envelope carries exactly one signature; a message signature carries its digest.
 * Writing always produces v0.3 (`application/vnd.dev.sigstore.bundle.v0.3+json`).
 */
import { Bundle as ProtoBundle, HashAlgorithm } from '@sigstore/protobuf-specs';
import type {
  Envelope,
  InclusionProof,
  MessageSignature,
  TimestampVerificationData,
  TransparencyLogEntry,
  VerificationMaterial,
  X509Certificate as ProtoCertificate,
} from '@sigstore/protobuf-specs';
import { SigilError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import { DIGEST_LENGTHS, type DigestAlgorithm } from '../core/digest.js';
import { envelopeFromJSON } from './dsse.js';
import { ProtoReader } from './proto-json.js';

export type BundleVersion = '0.1' | '0.2' | '0.3';

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

const MEDIA_TYPES: Record<string, BundleVersion> = {
  'application/vnd.dev.sigstore.bundle+json;version=0.1': '0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2': '0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3': '0.3',
  [BUNDLE_V03_MEDIA_TYPE]: '0.3',
};

export type BundleContent = NonNullable<ProtoBundle['content']>;
export type MaterialContent = NonNullable<VerificationMaterial['content']>;

/** A bundle that passed validation: content and verification material are present. */
export interface ValidBundle extends ProtoBundle {
  verificationMaterial: VerificationMaterial & { content: MaterialContent };
  content: BundleContent;
}

export interface ParsedBundle {
  version: BundleVersion;
  bundle: ValidBundle;
}

const HASH_NAMES = ['SHA2_256', 'SHA2_384', 'SHA2_512'] as const;
type HashName = (typeof HASH_NAMES)[number];
const HASH_BY_NAME: Record<HashName, HashAlgorithm> = {
  SHA2_256: HashAlgorithm.SHA2_256,
  SHA2_384: HashAlgorithm.SHA2_384,
  SHA2_512: HashAlgorithm.SHA2_512,
};

/** node:crypto name of a protobuf HashAlgorithm sigil accepts (SHA-2 only). */
export function digestAlgorithmOf(alg: HashAlgorithm): DigestAlgorithm {
  switch (alg) {
    case HashAlgorithm.SHA2_256:
      return 'sha256';
    case HashAlgorithm.SHA2_384:
      return 'sha384';
    case HashAlgorithm.SHA2_512:
      return 'sha512';
    default:
      throw new SigilError('BUNDLE_UNSUPPORTED', `hash algorithm ${String(alg)} is not supported`);
  }
}

export function hashAlgorithmOf(alg: DigestAlgorithm): HashAlgorithm {
  return { sha256: HashAlgorithm.SHA2_256, sha384: HashAlgorithm.SHA2_384, sha512: HashAlgorithm.SHA2_512 }[alg];
}

const r: ProtoReader = new ProtoReader('BUNDLE_MALFORMED');

/** Parses bundle JSON text (or bytes). Malformed JSON → JSON_MALFORMED; anything else wrong → BUNDLE_MALFORMED / BUNDLE_UNSUPPORTED. */
export function parseBundle(text: string | Uint8Array): ParsedBundle {
  return bundleFromJSON(parseJson(text, 'bundle'));
}

/** Validates an already parsed JSON value as a bundle. */
export function bundleFromJSON(json: unknown): ParsedBundle {
  const o = r.object(json, 'bundle');
  if (o.mediaType === undefined) r.fail('bundle.mediaType', 'is missing', 'is this a Sigstore bundle?');
  const mediaType = r.string(o.mediaType, 'bundle.mediaType');
  const version = MEDIA_TYPES[mediaType];
  if (!version) {
    throw new SigilError('BUNDLE_UNSUPPORTED', `unsupported bundle media type ${JSON.stringify(mediaType.slice(0, 100))}`, {
      hint: 'sigil reads Sigstore bundles v0.1, v0.2 and v0.3',
    });
  }
  const vm = readVerificationMaterial(r.object(o.verificationMaterial, 'bundle.verificationMaterial'), version);
  const hasMsg = o.messageSignature !== undefined && o.messageSignature !== null;
  const hasDsse = o.dsseEnvelope !== undefined && o.dsseEnvelope !== null;
  if (hasMsg === hasDsse) {
    r.fail('bundle', hasMsg ? 'has both messageSignature and dsseEnvelope' : 'has neither messageSignature nor dsseEnvelope');
  }
  const content: BundleContent = hasMsg
    ? { $case: 'messageSignature', messageSignature: readMessageSignature(o.messageSignature) }
    : { $case: 'dsseEnvelope', dsseEnvelope: readBundleEnvelope(o.dsseEnvelope) };
  return { version, bundle: { mediaType, verificationMaterial: vm, content } };
}

function readMessageSignature(v: unknown): MessageSignature {
  const o = r.object(v, 'bundle.messageSignature');
  const md = r.object(o.messageDigest, 'bundle.messageSignature.messageDigest');
  const algName = r.enumName(md.algorithm, 'bundle.messageSignature.messageDigest.algorithm', HASH_NAMES);
  const algorithm = HASH_BY_NAME[algName];
  const digest = r.bytes(md.digest, 'bundle.messageSignature.messageDigest.digest');
  if (digest.length !== DIGEST_LENGTHS[digestAlgorithmOf(algorithm)]) {
    r.fail('bundle.messageSignature.messageDigest.digest', `has ${digest.length} bytes, not a ${algName} digest`);
  }
  const signature = r.nonEmptyBytes(o.signature, 'bundle.messageSignature.signature');
  return { messageDigest: { algorithm, digest }, signature };
}

function readBundleEnvelope(v: unknown): Envelope {
  const env = envelopeFromJSON(v, 'bundle.dsseEnvelope', 'BUNDLE_MALFORMED');
  // sigstore_bundle.proto: "the DSSE envelope MUST contain exactly one signature".
  if (env.signatures.length !== 1) r.fail('bundle.dsseEnvelope.signatures', `must hold exactly one signature, found ${env.signatures.length}`);
  if (env.payload.length === 0) r.fail('bundle.dsseEnvelope.payload', 'must not be empty');
  return env;
}

function readCertificate(v: unknown, path: string): ProtoCertificate {
  const o = r.object(v, path);
  return { rawBytes: r.nonEmptyBytes(o.rawBytes, `${path}.rawBytes`) };
}

function readVerificationMaterial(o: Record<string, unknown>, version: BundleVersion): ValidBundle['verificationMaterial'] {
  const p = 'bundle.verificationMaterial';
  const present = (['publicKey', 'x509CertificateChain', 'certificate'] as const).filter((k) => o[k] !== undefined && o[k] !== null);
  if (present.length !== 1) {
    r.fail(p, present.length === 0 ? 'has no publicKey, x509CertificateChain or certificate' : `has more than one of ${present.join(', ')}`);
  }
  let content: MaterialContent;
  switch (present[0]) {
    case 'publicKey': {
      const pk = r.object(o.publicKey, `${p}.publicKey`);
      content = { $case: 'publicKey', publicKey: { hint: r.optString(pk.hint, `${p}.publicKey.hint`) } };
      break;
    }
    case 'x509CertificateChain': {
      if (version === '0.3') r.fail(`${p}.x509CertificateChain`, 'is not allowed in a v0.3 bundle (use certificate)');
      const chain = r.object(o.x509CertificateChain, `${p}.x509CertificateChain`);
      const certs = r.array(chain.certificates, `${p}.x509CertificateChain.certificates`);
      if (certs.length === 0) r.fail(`${p}.x509CertificateChain.certificates`, 'is empty', 'the bundle must carry the signing certificate');
      content = {
        $case: 'x509CertificateChain',
        x509CertificateChain: { certificates: certs.map((c, i) => readCertificate(c, `${p}.x509CertificateChain.certificates[${i}]`)) },
      };
      break;
    }
    default: {
      if (version !== '0.3') r.fail(`${p}.certificate`, `is only defined from bundle v0.3 on, this is v${version}`);
      content = { $case: 'certificate', certificate: readCertificate(o.certificate, `${p}.certificate`) };
    }
  }
  const tlogEntries = r.array(o.tlogEntries, `${p}.tlogEntries`).map((e, i) => readTlogEntry(e, `${p}.tlogEntries[${i}]`, version));
  let timestampVerificationData: TimestampVerificationData | undefined;
  const tvd = r.optObject(o.timestampVerificationData, `${p}.timestampVerificationData`);
  if (tvd) {
    timestampVerificationData = {
      rfc3161Timestamps: r.array(tvd.rfc3161Timestamps, `${p}.timestampVerificationData.rfc3161Timestamps`).map((t, i) => {
        const tp = `${p}.timestampVerificationData.rfc3161Timestamps[${i}]`;
        return { signedTimestamp: r.nonEmptyBytes(r.object(t, tp).signedTimestamp, `${tp}.signedTimestamp`) };
      }),
    };
  }
  return { content, tlogEntries, timestampVerificationData };
}

function readTlogEntry(v: unknown, p: string, version: BundleVersion): TransparencyLogEntry {
  const o = r.object(v, p);
  // proto3 JSON omits zero values: the first entry of a log (index 0) has no logIndex field.
  const logIndex = r.optInt64(o.logIndex, `${p}.logIndex`, { min: 0n });
  const logId = r.object(o.logId, `${p}.logId`);
  const kv = r.object(o.kindVersion, `${p}.kindVersion`);
  const kindVersion = { kind: r.nonEmptyString(kv.kind, `${p}.kindVersion.kind`), version: r.nonEmptyString(kv.version, `${p}.kindVersion.version`) };
  const integratedTime = r.optInt64(o.integratedTime, `${p}.integratedTime`, { min: 0n });
  const promise = r.optObject(o.inclusionPromise, `${p}.inclusionPromise`);
  const inclusionPromise = promise
    ? { signedEntryTimestamp: r.nonEmptyBytes(promise.signedEntryTimestamp, `${p}.inclusionPromise.signedEntryTimestamp`) }
    : undefined;
  const proof = r.optObject(o.inclusionProof, `${p}.inclusionProof`);
  const inclusionProof = proof ? readInclusionProof(proof, `${p}.inclusionProof`) : undefined;
  if (version === '0.1' && !inclusionPromise) {
    r.fail(`${p}.inclusionPromise`, 'is missing (required in a v0.1 bundle)');
  }
  if (version !== '0.1') {
    if (!inclusionProof) r.fail(`${p}.inclusionProof`, `is missing (required from bundle v0.2 on, this is v${version})`);
    if (!inclusionProof.checkpoint) r.fail(`${p}.inclusionProof.checkpoint`, `is missing (required from bundle v0.2 on)`);
  }
  return {
    logIndex,
    logId: { keyId: r.nonEmptyBytes(logId.keyId, `${p}.logId.keyId`) },
    kindVersion,
    integratedTime,
    inclusionPromise,
    inclusionProof,
    canonicalizedBody: r.nonEmptyBytes(o.canonicalizedBody, `${p}.canonicalizedBody`),
  };
}

function readInclusionProof(o: Record<string, unknown>, p: string): InclusionProof {
  const logIndex = r.optInt64(o.logIndex, `${p}.logIndex`, { min: 0n });
  const treeSize = r.int64(o.treeSize, `${p}.treeSize`, { min: 1n });
  if (BigInt(logIndex) >= BigInt(treeSize)) r.fail(`${p}.logIndex`, `(${logIndex}) must be below treeSize (${treeSize})`);
  const rootHash = r.bytes(o.rootHash, `${p}.rootHash`);
  if (rootHash.length !== 32) r.fail(`${p}.rootHash`, `must be 32 bytes, got ${rootHash.length}`);
  const hashes = r.array(o.hashes, `${p}.hashes`).map((h, i) => {
    const b = r.bytes(h, `${p}.hashes[${i}]`);
    if (b.length !== 32) r.fail(`${p}.hashes[${i}]`, `must be 32 bytes, got ${b.length}`);
    return b;
  });
  const cp = r.optObject(o.checkpoint, `${p}.checkpoint`);
  const checkpoint = cp ? { envelope: r.nonEmptyString(cp.envelope, `${p}.checkpoint.envelope`) } : undefined;
  return { logIndex, treeSize, rootHash, hashes, checkpoint };
}

/** The leaf certificate bytes and the extra chain certificates of a certificate bundle. */
export function certificateMaterial(b: ValidBundle): { leaf: Buffer; chain: Buffer[] } | undefined {
  const c = b.verificationMaterial.content;
  switch (c.$case) {
    case 'certificate':
      return { leaf: c.certificate.rawBytes, chain: [] };
    case 'x509CertificateChain': {
      const [leaf, ...chain] = c.x509CertificateChain.certificates;
      return { leaf: leaf!.rawBytes, chain: chain.map((x) => x.rawBytes) };
    }
    default:
      return undefined;
  }
}

/**
 * Serializes a bundle as v0.3 JSON. A certificate chain becomes its leaf (v0.3 carries the leaf
 * only; the chain comes from the trusted root). Entries must meet the v0.3 rule (inclusion proof
 * with checkpoint), so a v0.1 bundle with promise-only entries cannot be re-labelled as v0.3.
 */
export function bundleToJSON(b: ValidBundle): Record<string, unknown> {
  const mat = b.verificationMaterial.content;
  const content: MaterialContent = mat.$case === 'x509CertificateChain' ? { $case: 'certificate', certificate: mat.x509CertificateChain.certificates[0]! } : mat;
  const out: ValidBundle = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { ...b.verificationMaterial, content },
    content: b.content,
  };
  const json = ProtoBundle.toJSON(out) as Record<string, unknown>;
  // Round-trip through the strict reader so nothing invalid is ever written.
  bundleFromJSON(json);
  return json;
}

export function serializeBundle(b: ValidBundle): string {
  return JSON.stringify(bundleToJSON(b));
}
