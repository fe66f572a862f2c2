/**
 * The two binaries as separate processes, as the conformance suite and users run them:
 * `sigil-conformance verify-bundle` (docs/cli_protocol.md argument order) and `sigil verify-blob`.
 * Run from source through tsx so the test does not depend on a build; exit codes and the single
 * stderr line are what a caller sees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, corpusPath } from '../helpers/paths.js';

const ID = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const caseDir = (name: string): string => corpusPath('sigstore-conformance/bundle-verify', name);
const A_TXT = corpusPath('sigstore-conformance/bundle-verify/a.txt');

function run(bin: 'sigil' | 'conformance', args: string[]): { status: number | null; stdout: string; stderr: string } {
  const entry = join(REPO_ROOT, 'src/cli', bin === 'sigil' ? 'sigil.ts' : 'conformance.ts');
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('sigil-conformance verify-bundle: happy-path-v0.3 with the artifact path and with its sha256 digest (default public-good root)', () => {
  const bundle = join(caseDir('happy-path-v0.3'), 'bundle.sigstore.json');
  const byPath = run('conformance', ['verify-bundle', '--bundle', bundle, '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, A_TXT]);
  assert.equal(byPath.status, 0, byPath.stderr);
  const digest = `sha256:${createHash('sha256').update(readFileSync(A_TXT)).digest('hex')}`;
  const byDigest = run('conformance', ['verify-bundle', '--bundle', bundle, '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, digest]);
  assert.equal(byDigest.status, 0, byDigest.stderr);
});

test('sigil-conformance verify-bundle: rekor2-dsse-happy-path with --trusted-root (Rekor v2 hashedrekord over DSSE, TSA time)', () => {
  const dir = caseDir('rekor2-dsse-happy-path');
  const r = run('conformance', ['verify-bundle', '--bundle', join(dir, 'bundle.sigstore.json'), '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, '--trusted-root', join(dir, 'trusted_root.json'), A_TXT]);
  assert.equal(r.status, 0, r.stderr);
});

test('sigil-conformance verify-bundle: managed-key-happy-path with --key; a _fail case exits non-zero with one line', () => {
  const dir = caseDir('managed-key-happy-path');
  const ok = run('conformance', ['verify-bundle', '--bundle', join(dir, 'bundle.sigstore.json'), '--key', join(dir, 'key.pub'), A_TXT]);
  assert.equal(ok.status, 0, ok.stderr);
  const bad = run('conformance', ['verify-bundle', '--bundle', join(caseDir('checkpoint-bad-keyhint_fail'), 'bundle.sigstore.json'), '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, A_TXT]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^Error: TLOG_CHECKPOINT_INVALID: /);
  assert.equal(bad.stderr.trimEnd().split('\n').length, 1);
  const malformed = run('conformance', ['verify-bundle', '--bundle', join(caseDir('bundle-malformed-json_fail'), 'bundle.sigstore.json'), '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, A_TXT]);
  assert.equal(malformed.status, 2);
  assert.match(malformed.stderr, /^Error: JSON_MALFORMED: bundle is not valid JSON/);
});

test('sigil verify-blob --output json reports signer, log entry and timestamps; a tampered artifact exits 1', () => {
  const bundle = join(caseDir('happy-path-v0.2'), 'bundle.sigstore.json');
  const r = run('sigil', ['verify-blob', '--bundle', bundle, '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, '--output', 'json', A_TXT]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { verified: boolean; signer: { kind: string; issuer: string }; tlogEntries: { logIndex: string }[]; timestamps: { source: string }[] };
  assert.equal(out.verified, true);
  assert.equal(out.signer.kind, 'certificate');
  assert.equal(out.signer.issuer, ISSUER);
  assert.equal(out.tlogEntries.length, 1);
  assert.equal(out.timestamps[0]!.source, 'transparency-log');
  const other = corpusPath('sigstore-conformance/bundle-verify/wrong-material_fail/artifact');
  const bad = run('sigil', ['verify-blob', '--bundle', bundle, '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, other]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^Error: DIGEST_MISMATCH: /);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
});

test('sigil verify-blob-attestation: the statement subject must match the artifact and the predicate type --type', () => {
  const bundle = join(caseDir('happy-path-intoto-in-dsse-v3'), 'bundle.sigstore.json');
  const ok = run('sigil', ['verify-blob-attestation', '--bundle', bundle, '--type', 'slsaprovenance1', '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, A_TXT]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /https:\/\/slsa\.dev\/provenance\/v1 attestation for subject "a\.txt"/);
  const wrongType = run('sigil', ['verify-blob-attestation', '--bundle', bundle, '--type', 'spdxjson', '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, A_TXT]);
  assert.equal(wrongType.status, 1);
  assert.match(wrongType.stderr, /^Error: POLICY_VIOLATION: the attestation's predicate type is "https:\/\/slsa\.dev\/provenance\/v1"/);
  // A genuine attestation, but about a.txt: sigstore-js would accept it for any file.
  const otherFile = corpusPath('sigstore-conformance/bundle-verify/wrong-material_fail/artifact');
  const wrongSubject = run('sigil', ['verify-blob-attestation', '--bundle', bundle, '--type', 'slsaprovenance1', '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, otherFile]);
  assert.equal(wrongSubject.status, 1);
  assert.match(wrongSubject.stderr, /^Error: SUBJECT_MISMATCH: .* is not a subject of the attestation \(subjects: "a\.txt"\)/);
});
