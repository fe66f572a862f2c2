/**
 * Step 5, signature: the signature verifies with the signing key over
 *   - the artifact, for a message signature (over its bytes, or over its digest when only the
 *     digest is known, via crypto/prehash.ts), after checking that the bundle's messageDigest is
 *     the artifact's digest;
 *   - the DSSE pre-authentication encoding, for an envelope; then the in-toto statement must name
 *     the artifact among its subjects. sigstore-js stops at the envelope signature, which accepts
 *     a genuine attestation about some other file as an attestation about this one.
 */
import { SigilError } from '../core/errors.js';
import { bytesEqual } from '../core/encoding.js';
import type { DigestAlgorithm } from '../core/digest.js';
import { findSubject, type Subject } from '../formats/intoto.js';
import type { PreparedArtifact } from './artifact.js';
import { verifyWithKey, verifyWithSpki } from './signature-check.js';
import type { SigningKey } from './signing-key.js';
import type { Entity } from './structure.js';
import type { VerifyPolicy } from './types.js';

/** Certificates' keys are single-use (SPKI fast path); keys from --key or a key ring are reused KeyObjects. */
function check(k: SigningKey, alg: DigestAlgorithm | null, data: Buffer | undefined, sig: Buffer, digest?: Buffer): boolean {
  return k.certificate ? verifyWithSpki(k.spki, k.key, alg, data, sig, digest) : verifyWithKey(k.key(), alg, data, sig, digest);
}

function invalid(message: string, hint: string): SigilError {
  return new SigilError('SIGNATURE_INVALID', message, { hint });
}

export interface SignatureResult {
  artifactDigest: { alg: DigestAlgorithm; hex: string };
  subject?: Subject;
}

/** The artifact digest a message-signature bundle is about, checked against the bundle's messageDigest. */
export function messageArtifactDigest(entity: Entity, artifact: PreparedArtifact): { alg: DigestAlgorithm; value: Buffer } {
  const c = entity.content;
  if (c.kind !== 'message-signature') throw new SigilError('INTERNAL', 'not a message signature');
  const value = artifact.digests[c.digestAlg];
  if (!value) {
    const have = Object.keys(artifact.digests).join(', ');
    throw new SigilError('DIGEST_MISMATCH', `the bundle signs a ${c.digestAlg} digest, the artifact was given as ${have}`, {
      hint: `pass the file, or its ${c.digestAlg} digest`,
    });
  }
  if (!bytesEqual(value, c.digest)) {
    throw new SigilError('DIGEST_MISMATCH', `the bundle's message digest ${c.digestAlg}:${c.digest.toString('hex')} is not the artifact's (${value.toString('hex')})`, {
      hint: 'the bundle was made for a different artifact',
    });
  }
  return { alg: c.digestAlg, value };
}

export function verifySignature(entity: Entity, key: SigningKey, artifact: PreparedArtifact, policy: VerifyPolicy): SignatureResult {
  const c = entity.content;
  if (c.kind === 'message-signature') {
    const d = messageArtifactDigest(entity, artifact);
    // The artifact digest is already known (and checked against the bundle and the log), so the
    // bytes are hashed at most once more, and only when no digest-based engine applies.
    const ok = check(key, c.digestAlg, artifact.bytes, c.signature, d.value);
    if (!ok) throw invalid(`the signature does not verify over ${artifact.describe}`, 'the artifact or the signature was altered, or it was signed by another key');
    return { artifactDigest: { alg: d.alg, hex: d.value.toString('hex') } };
  }

  if (!check(key, null, c.pae, c.signature)) {
    throw invalid('the DSSE envelope signature does not verify', 'the envelope payload or signature was altered, or it was signed by another key');
  }
  const st = c.statement;
  if (!st) {
    throw new SigilError('SUBJECT_MISMATCH', `the DSSE payload type ${JSON.stringify(c.envelope.payloadType)} is not an in-toto statement, so nothing ties it to the artifact`, {
      hint: 'sigil verifies DSSE bundles whose payload is an in-toto statement (application/vnd.in-toto+json)',
    });
  }
  if (policy.predicateType !== undefined && st.predicateType !== policy.predicateType) {
    throw new SigilError('POLICY_VIOLATION', `the attestation's predicate type is ${JSON.stringify(st.predicateType)}, expected ${JSON.stringify(policy.predicateType)}`, {
      hint: 'check --type',
    });
  }
  for (const [alg, value] of Object.entries(artifact.digests) as [DigestAlgorithm, Buffer][]) {
    const subject = findSubject(st, alg, value);
    if (subject) return { artifactDigest: { alg, hex: value.toString('hex') }, subject };
  }
  const names = st.subjects.map((s) => JSON.stringify(s.name)).join(', ');
  throw new SigilError('SUBJECT_MISMATCH', `${artifact.describe} is not a subject of the attestation (subjects: ${names})`, {
    hint: 'the attestation is about a different artifact',
  });
}
