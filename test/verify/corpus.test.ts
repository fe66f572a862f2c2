/**
 * Every bundle-verification case of ../shared/corpus/cases.json, one test per case named by its
 * id: sigstore-conformance (run twice, with the artifact file and with its sha256: digest, as the
 * conformance suite does), sigstore-js real bundles and slsa-verifier provenance. Valid cases must
 * verify; invalid ones must be rejected with a SigilError whose code names the failing step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SigilError } from '../../src/core/errors.js';
import { verifySync } from '../../src/verify/verify.js';
import type { ArtifactInput, VerificationResult } from '../../src/verify/types.js';
import { loadCases, prepareCase, type PreparedCase } from './corpus-cases.js';

/**
 * The corpus flags one conflict: sigstore-js CI accepts bundleV01-full-cert-chain (its chain ends
 * in the public-good Fulcio root) while sigstore-conformance bundle-with-root-cert_fail requires
 * rejecting a bundle whose chain holds a root. Rule implemented (src/verify/signing-key.ts
 * withoutTrustedRootCopies + x509/chain.ts): bundle certificates never add trust; a trailing copy
 * of a root the trusted root already lists is ignored, any other root rejects the bundle. The
 * conformance bundle carries the *staging* root, so it is rejected; the sigstore-js bundle and
 * the ten npm/slsa-verifier public-good bundles that also carry the production root verify. No
 * case's expectation had to be overridden; see the rule's own test in verify-rules.test.ts.
 */
const OVERRIDES: Record<string, { expected: 'invalid'; code: string }> = {};

/** The step that must reject each invalid case: a rejection for the wrong reason would hide a gap. */
const EXPECTED_CODES: Record<string, string[]> = {
  'conformance/bundle-empty-certificate-chain_fail': ['BUNDLE_MALFORMED'],
  'conformance/bundle-from-wrong-instance_fail': ['TLOG_UNKNOWN', 'CERTIFICATE_CHAIN_INVALID'],
  'conformance/bundle-invalid-base64-signature_fail': ['BUNDLE_MALFORMED'],
  'conformance/bundle-malformed-json_fail': ['JSON_MALFORMED'],
  'conformance/bundle-negative-log-index_fail': ['BUNDLE_MALFORMED'],
  'conformance/bundle-unknown-version_fail': ['BUNDLE_UNSUPPORTED'],
  'conformance/bundle-with-root-cert_fail': ['CERTIFICATE_CHAIN_INVALID'],
  'conformance/checkpoint-bad-keyhint_fail': ['TLOG_CHECKPOINT_INVALID'],
  'conformance/checkpoint-wrong-roothash_fail': ['TLOG_CHECKPOINT_INVALID', 'TLOG_INCLUSION_INVALID'],
  'conformance/dsse-invalid-sig_fail': ['TLOG_BODY_MISMATCH', 'SIGNATURE_INVALID'],
  'conformance/dsse-mismatch-envelope_fail': ['TLOG_BODY_MISMATCH'],
  'conformance/dsse-mismatch-sig_fail': ['TLOG_BODY_MISMATCH'],
  'conformance/inclusion-proof-corrupted-hash_fail': ['TLOG_INCLUSION_INVALID'],
  'conformance/incorrect-public-key_fail': ['TLOG_SET_INVALID'],
  'conformance/integrated-time-in-future_fail': ['CERTIFICATE_EXPIRED', 'CERTIFICATE_CHAIN_INVALID'],
  'conformance/intoto-expired-certificate_fail': ['CERTIFICATE_EXPIRED', 'CERTIFICATE_CHAIN_INVALID'],
  'conformance/intoto-log-entry-mismatch_fail': ['TLOG_BODY_MISMATCH'],
  'conformance/intoto-missing-inclusion-proof_fail': ['BUNDLE_MALFORMED'],
  'conformance/intoto-set-outside-signing-cert-validity_fail': ['CERTIFICATE_EXPIRED'],
  'conformance/intoto-tsa-timestamp-outside-cert-validity_fail': ['CERTIFICATE_EXPIRED'],
  'conformance/invalid-checkpoint-signature_fail': ['TLOG_CHECKPOINT_INVALID'],
  'conformance/invalid-ct-key_fail': ['SCT_INVALID'],
  'conformance/invalid-inclusion-proof_fail': ['BUNDLE_MALFORMED'],
  'conformance/managed-key-no-key_fail': ['KEY_MISMATCH'],
  'conformance/managed-key-wrong-key_fail': ['KEY_MALFORMED'],
  'conformance/message-digest-mismatch_fail': ['DIGEST_MISMATCH'],
  'conformance/rekor2-checkpoint-missing-log-signature_fail': ['CHECKPOINT_MALFORMED', 'TLOG_CHECKPOINT_INVALID'],
  'conformance/rekor2-checkpoint-missing-origin_fail': ['CHECKPOINT_MALFORMED'],
  'conformance/rekor2-checkpoint-missing-root-hash_fail': ['CHECKPOINT_MALFORMED'],
  'conformance/rekor2-checkpoint-missing-size_fail': ['CHECKPOINT_MALFORMED'],
  'conformance/rekor2-checkpoint-no-matching-signature_fail': ['TLOG_CHECKPOINT_INVALID'],
  'conformance/rekor2-dsse-invalid-sig_fail': ['TLOG_BODY_MISMATCH', 'SIGNATURE_INVALID', 'TIMESTAMP_INVALID'],
  'conformance/rekor2-dsse-mismatch-envelope_fail': ['TLOG_BODY_MISMATCH'],
  'conformance/rekor2-dsse-mismatch-sig_fail': ['TLOG_BODY_MISMATCH', 'TIMESTAMP_INVALID'],
  'conformance/rekor2-no-inclusion-proof_fail': ['BUNDLE_MALFORMED'],
  'conformance/rekor2-no-timestamp_fail': ['TIMESTAMP_INVALID'],
  'conformance/rekor2-timestamp-outside-trust-root-tsa-validity_fail': ['TIMESTAMP_INVALID'],
  'conformance/rekor2-timestamp-outside-tsa-cert-validity_fail': ['TIMESTAMP_INVALID'],
  'conformance/rekor2-timestamp-payload-mismatch_fail': ['TIMESTAMP_INVALID'],
  'conformance/rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': ['TIMESTAMP_INVALID'],
  'conformance/rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': ['TIMESTAMP_INVALID'],
  'conformance/rekor2-timestamp-with-incorrect-time_fail': ['CERTIFICATE_EXPIRED'],
  'conformance/set-invalid-signature_fail': ['TLOG_SET_INVALID'],
  'conformance/signature-mismatch_fail': ['TLOG_BODY_MISMATCH', 'SIGNATURE_INVALID'],
  'conformance/trust-root-tlog-missing-validity-start_fail': ['TRUSTED_ROOT_MALFORMED'],
  'conformance/wrong-hashedrekord-artifact_fail': ['TLOG_BODY_MISMATCH', 'DIGEST_MISMATCH'],
  'conformance/wrong-hashedrekord-cert-and-sig_fail': ['TLOG_BODY_MISMATCH'],
  'conformance/wrong-hashedrekord-entry_fail': ['TLOG_BODY_MISMATCH'],
  'conformance/wrong-material_fail': ['DIGEST_MISMATCH', 'TLOG_BODY_MISMATCH'],
};

function run(p: PreparedCase, artifact: ArtifactInput): VerificationResult | SigilError {
  try {
    return verifySync(p.bundleText, artifact, p.policy, p.trust);
  } catch (e) {
    if (e instanceof SigilError) return e;
    throw e; // anything else is a crash: the test fails with the stack
  }
}

function check(id: string, expected: 'valid' | 'invalid', got: VerificationResult | SigilError): void {
  const override = OVERRIDES[id];
  const want = override?.expected ?? expected;
  if (want === 'valid') {
    if (got instanceof SigilError) assert.fail(`expected valid, rejected: ${got.toLine()}`);
    return;
  }
  assert.ok(got instanceof SigilError, 'expected a rejection, the bundle verified');
  const codes = override ? [override.code] : EXPECTED_CODES[id];
  if (codes) assert.ok(codes.includes(got.code), `rejected for the wrong reason: ${got.toLine()} (expected ${codes.join(' or ')})`);
}

for (const c of loadCases()) {
  const p = prepareCase(c);
  if ('setupError' in p) {
    test(c.id, () => {
      // The trust material itself is rejected: trust-root-tlog-missing-validity-start_fail (trusted
      // root), managed-key-wrong-key_fail (its key.pub is not a valid key).
      assert.equal(c.expected, 'invalid', `trust material rejected: ${p.setupError.message}`);
      assert.ok(p.setupError instanceof SigilError);
      const codes = EXPECTED_CODES[c.id];
      if (codes) assert.ok(codes.includes(p.setupError.code), p.setupError.toLine());
    });
    continue;
  }
  test(c.id, () => check(c.id, c.expected, run(p, p.artifact)));
  if (c.id.startsWith('conformance/') && p.digestArtifact) {
    test(`${c.id} [sha256 digest]`, () => check(c.id, c.expected, run(p, p.digestArtifact!)));
  }
}
