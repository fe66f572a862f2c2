/**
 * The consumer pipeline, read top to bottom like the algorithm (ARCHITECTURE.md):
 *   structure → timestamps → signing key → transparency log → signature → policy.
 * Each step is one module, returns a typed result and throws a SigilError whose code names what
 * failed. Nothing is accepted by default: every step must positively prove its claim.
 *
 * Trust material (TrustedRoot, KeyRing) is parsed once by the caller and reused; a bundle is
 * verified in full every time (no per-bundle result is cached here).
 */
import { SigilError } from '../core/errors.js';
import type { DigestAlgorithm } from '../core/digest.js';
import { bundleFromJSON, parseBundle, type ParsedBundle } from '../formats/bundle.js';
import { subjectAlgorithms } from '../formats/intoto.js';
import { prepareArtifact, prepareArtifactSync, type PreparedArtifact } from './artifact.js';
import { requireIdentityPolicy, verifyPolicy } from './policy.js';
import { messageArtifactDigest, verifySignature } from './signature.js';
import { verifySigningKey } from './signing-key.js';
import { toEntity, type Entity } from './structure.js';
import { verifyTimestamps } from './timestamps.js';
import { verifyTlogEntries } from './tlog.js';
import type { ArtifactInput, SignerInfo, TrustMaterial, VerificationResult, VerifyPolicy } from './types.js';

export type BundleInput = ParsedBundle | string | Uint8Array | Record<string, unknown>;

function isParsed(b: BundleInput): b is ParsedBundle {
  return typeof b === 'object' && !(b instanceof Uint8Array) && 'bundle' in b && 'version' in b;
}

export function toParsedBundle(b: BundleInput): ParsedBundle {
  if (typeof b === 'string' || b instanceof Uint8Array) return parseBundle(b);
  if (isParsed(b)) return b;
  return bundleFromJSON(b);
}

/** Digest algorithms the artifact must be hashed with for this bundle. */
function neededAlgorithms(e: Entity): DigestAlgorithm[] {
  if (e.content.kind === 'message-signature') return [e.content.digestAlg];
  const algs = e.content.statement ? subjectAlgorithms(e.content.statement) : [];
  return algs.length ? algs : ['sha256'];
}

/** Structure step plus the checks on the policy that need no crypto. */
function prepare(bundle: BundleInput, policy: VerifyPolicy): Entity {
  const entity = toEntity(toParsedBundle(bundle));
  // With --key the signing-key step rejects a certificate bundle (KEY_MISMATCH) instead.
  if (entity.material.kind === 'certificate' && !policy.key) requireIdentityPolicy(policy);
  return entity;
}

function run(entity: Entity, artifact: PreparedArtifact, policy: VerifyPolicy, trust: TrustMaterial): VerificationResult {
  const { timestamps, promised } = verifyTimestamps(entity, trust.root);
  const key = verifySigningKey(entity, timestamps, policy, trust);
  const tlogEntries = verifyTlogEntries({
    entity,
    key,
    root: trust.root,
    timestamps,
    promised,
    ...(entity.content.kind === 'message-signature' ? { artifactDigest: messageArtifactDigest(entity, artifact) } : {}),
    threshold: policy.tlogThreshold ?? 1,
  });
  const sig = verifySignature(entity, key, artifact, policy);
  verifyPolicy(key, policy);

  let signer: SignerInfo;
  if (key.certificate) {
    const c = key.certificate;
    const ext = key.identity!.extensions;
    signer = {
      kind: 'certificate',
      subjectAlternativeNames: key.identity!.subjectAlternativeNames,
      ...(ext.issuer !== undefined ? { issuer: ext.issuer } : {}),
      extensions: ext,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      serialNumber: c.serialHex,
    };
  } else {
    signer = { kind: 'key', hint: key.hint ?? '' };
  }
  const st = entity.content.kind === 'dsse' ? entity.content.statement : undefined;
  return {
    bundleVersion: entity.version,
    mediaType: entity.mediaType,
    content: entity.content.kind,
    signer,
    timestamps,
    tlogEntries,
    artifactDigest: sig.artifactDigest,
    ...(st && sig.subject ? { statement: { type: st.type, predicateType: st.predicateType, subjectName: sig.subject.name, predicate: st.predicate } } : {}),
  };
}

function checkPolicyShape(policy: VerifyPolicy): void {
  for (const k of ['tlogThreshold', 'ctlogThreshold', 'timestampThreshold'] as const) {
    const v = policy[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new SigilError('POLICY_MALFORMED', `${k} must be a non-negative integer`);
  }
}

/** Verifies synchronously (worker threads, benchmarks; the artifact file is read with blocking I/O). */
export function verifySync(bundle: BundleInput, artifact: ArtifactInput, policy: VerifyPolicy, trust: TrustMaterial): VerificationResult {
  checkPolicyShape(policy);
  const entity = prepare(bundle, policy);
  return run(entity, prepareArtifactSync(artifact, neededAlgorithms(entity)), policy, trust);
}

/** Verifies a bundle for an artifact under a policy and trust material; resolves to what was proven or rejects with a SigilError. */
export async function verify(bundle: BundleInput, artifact: ArtifactInput, policy: VerifyPolicy, trust: TrustMaterial): Promise<VerificationResult> {
  checkPolicyShape(policy);
  const entity = prepare(bundle, policy);
  return run(entity, await prepareArtifact(artifact, neededAlgorithms(entity)), policy, trust);
}
