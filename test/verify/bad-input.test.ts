/**
 * Bad input through the whole stack: each damaged bundle, key or root is rejected with the code of
 * the step that caught it, and the CLI answers with exit 1 (verification failed) or 2 (bad input)
 * and one stderr line naming the cause, never a stack trace. Damage is applied to real public-good
 * bundles of the corpus, so the only thing wrong with each input is the damage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { Writable } from 'node:stream';
import { SigilError } from '../../src/core/errors.js';
import { verifySync } from '../../src/verify/verify.js';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { runCli } from '../../src/cli/main.js';
import { commands } from '../../src/cli/registry.js';
import type { Io } from '../../src/cli/command.js';
import type { VerifyPolicy } from '../../src/verify/types.js';
import { corpusPath } from '../helpers/paths.js';
import { parseBundle } from '../../src/formats/bundle.js';
import { canonicalize } from '../../src/core/canonical-json.js';
import { setPayload } from '../../src/verify/set.js';

const ID = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const policy: VerifyPolicy = { identity: { subjectAlternativeName: { exact: ID }, issuer: { exact: ISSUER } } };
const trust = { root: TrustedRoot.publicGood() };
const artifactPath = corpusPath('sigstore-conformance/bundle-verify/a.txt');
const artifact = { path: artifactPath };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const load = (name: string): Json => JSON.parse(readFileSync(corpusPath(`sigstore-conformance/bundle-verify/${name}/bundle.sigstore.json`), 'utf8')) as Json;
const v03 = (): Json => load('happy-path-v0.3');

const dir = mkdtempSync(join(tmpdir(), 'sigil-bad-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string | Buffer): string {
  const p = join(dir, `f${n++}`);
  writeFileSync(p, content);
  return p;
}

function code(bundle: Json | string, p: VerifyPolicy = policy, a: { path: string } = artifact): string {
  try {
    verifySync(typeof bundle === 'string' ? bundle : JSON.stringify(bundle), a, p, trust);
  } catch (e) {
    assert.ok(e instanceof SigilError, `not a SigilError: ${String(e)}`);
    return e.code;
  }
  return 'VERIFIED';
}

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function cli(args: string[]): Promise<{ exit: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const io: Io = { stdout, stderr, env: {}, cwd: dir };
  const exit = await runCli('sigil', commands, args, io);
  return { exit, stdout: stdout.text, stderr: stderr.text };
}

/** verify-blob of `bundle` must exit with `exit` and one stderr line naming `codeWanted`. */
async function cliRejects(bundle: Json | string, exit: 1 | 2, codeWanted: string, artifactFile = artifactPath): Promise<void> {
  const r = await cli(['verify-blob', '--bundle', file(typeof bundle === 'string' ? bundle : JSON.stringify(bundle)), '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, artifactFile]);
  assert.equal(r.exit, exit, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
  assert.match(lines[0]!, new RegExp(`^Error: ${codeWanted}`));
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stdout, '');
}

test('the untouched bundle verifies (baseline for every damage below)', async () => {
  assert.equal(code(v03()), 'VERIFIED');
  const r = await cli(['verify-blob', '--bundle', file(JSON.stringify(v03())), '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, artifactPath]);
  assert.equal(r.exit, 0, r.stderr);
  assert.match(r.stdout, /^Verified OK: /);
});

test('malformed JSON → JSON_MALFORMED, exit 2', async () => {
  const text = JSON.stringify(v03()).slice(0, 500);
  assert.equal(code(text), 'JSON_MALFORMED');
  await cliRejects(text, 2, 'JSON_MALFORMED');
});

test('unknown media type → BUNDLE_UNSUPPORTED, exit 2', async () => {
  const b = v03();
  b.mediaType = 'application/vnd.dev.sigstore.bundle.v0.9+json';
  assert.equal(code(b), 'BUNDLE_UNSUPPORTED');
  await cliRejects(b, 2, 'BUNDLE_UNSUPPORTED');
});

test('wrong base64 in the signature → BUNDLE_MALFORMED naming the field, exit 2', async () => {
  const b = v03();
  b.messageSignature.signature = 'MEUCI$$$not*base64';
  assert.equal(code(b), 'BUNDLE_MALFORMED');
  await cliRejects(b, 2, 'BUNDLE_MALFORMED: bundle.messageSignature.signature is not valid base64');
});

test('truncated certificate → CERTIFICATE_MALFORMED, exit 2', async () => {
  const b = v03();
  const der = Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64');
  b.verificationMaterial.certificate.rawBytes = der.subarray(0, der.length - 40).toString('base64');
  assert.equal(code(b), 'CERTIFICATE_MALFORMED');
  await cliRejects(b, 2, 'CERTIFICATE_MALFORMED');
});

test('swapped certificate (a genuine Fulcio certificate of another signature) → rejected, exit 1', async () => {
  const b = v03();
  b.verificationMaterial.certificate = load('happy-path-intoto-in-dsse-v3').verificationMaterial.certificate;
  // The other certificate was valid only in December 2024, not at this entry's integrated time.
  assert.equal(code(b), 'CERTIFICATE_EXPIRED');
  await cliRejects(b, 1, 'CERTIFICATE_EXPIRED');
});

test('expired certificate: log time outside the certificate validity → CERTIFICATE_EXPIRED, exit 1', async () => {
  const b = load('integrated-time-in-future_fail');
  const p: VerifyPolicy = { identity: { subjectAlternativeName: { exact: 'untrusted-sa@sigstore-conformance.iam.gserviceaccount.com' }, issuer: { exact: 'https://accounts.google.com' } } };
  assert.equal(code(b, p), 'CERTIFICATE_EXPIRED');
});

test('signature over another artifact → DIGEST_MISMATCH, exit 1', async () => {
  const other = file('not the signed content\n');
  assert.equal(code(v03(), policy, { path: other }), 'DIGEST_MISMATCH');
  await cliRejects(v03(), 1, 'DIGEST_MISMATCH', other);
});

test('message digest edited to match another artifact → TLOG_BODY_MISMATCH (the log recorded the real digest), exit 1', () => {
  const other = file('not the signed content\n');
  const b = v03();
  b.messageSignature.messageDigest.digest = createHash('sha256').update(readFileSync(other)).digest('base64');
  assert.equal(code(b, policy, { path: other }), 'TLOG_BODY_MISMATCH');
});

test('tlog body of another entry → TLOG_BODY_MISMATCH, exit 1', async () => {
  // Conformance wrong-hashedrekord-entry_fail: a genuine, logged entry of another signature made
  // by the same certificate, SET and proof intact.
  const b = load('wrong-hashedrekord-entry_fail');
  assert.equal(code(b), 'TLOG_BODY_MISMATCH');
  await cliRejects(b, 1, 'TLOG_BODY_MISMATCH');
});

test('wrong checkpoint key hint → TLOG_CHECKPOINT_INVALID, exit 1', async () => {
  const b = v03();
  const entry = b.verificationMaterial.tlogEntries[0];
  // The SET still vouches for the entry; the inclusion proof's checkpoint must come from the log too.
  entry.inclusionProof.checkpoint.envelope = entry.inclusionProof.checkpoint.envelope.replace(/(\u2014 \S+ )(\S+)/, (_m: string, head: string, sig: string) => {
    const raw = Buffer.from(sig, 'base64');
    raw[0] = raw[0]! ^ 0xff;
    return head + raw.toString('base64');
  });
  assert.equal(code(b), 'TLOG_CHECKPOINT_INVALID');
  await cliRejects(b, 1, 'TLOG_CHECKPOINT_INVALID');
});

test('altered inclusion-proof hash → TLOG_INCLUSION_INVALID, exit 1', async () => {
  const b = v03();
  const proof = b.verificationMaterial.tlogEntries[0].inclusionProof;
  const h = Buffer.from(proof.hashes[3], 'base64');
  h[5] = h[5]! ^ 0x01;
  proof.hashes[3] = h.toString('base64');
  assert.equal(code(b), 'TLOG_INCLUSION_INVALID');
  await cliRejects(b, 1, 'TLOG_INCLUSION_INVALID');
});

test('negative log index → BUNDLE_MALFORMED naming logIndex, exit 2', async () => {
  const b = v03();
  b.verificationMaterial.tlogEntries[0].logIndex = '-1';
  assert.equal(code(b), 'BUNDLE_MALFORMED');
  await cliRejects(b, 2, 'BUNDLE_MALFORMED: bundle.verificationMaterial.tlogEntries\\[0\\].logIndex must be at least 0');
});

test('SET altered → TLOG_SET_INVALID; wrong identity → IDENTITY_MISMATCH; wrong issuer → IDENTITY_MISMATCH', async () => {
  const b = v03();
  const set = Buffer.from(b.verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp, 'base64');
  set[set.length - 3] = set[set.length - 3]! ^ 0x01;
  b.verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp = set.toString('base64');
  assert.equal(code(b), 'TLOG_SET_INVALID');
  assert.equal(code(v03(), { identity: { subjectAlternativeName: { exact: 'someone@example.com' }, issuer: { exact: ISSUER } } }), 'IDENTITY_MISMATCH');
  assert.equal(code(v03(), { identity: { subjectAlternativeName: { regexp: /^https:\/\/github\.com\/sigstore-conformance\// }, issuer: { exact: 'https://accounts.google.com' } } }), 'IDENTITY_MISMATCH');
  assert.equal(code(v03(), { identity: { subjectAlternativeName: { regexp: /^https:\/\/github\.com\/sigstore-conformance\// }, issuer: { regexp: /actions\.githubusercontent/ } } }), 'VERIFIED');
  const r = await cli(['verify-blob', '--bundle', file(JSON.stringify(v03())), '--certificate-identity', 'someone@example.com', '--certificate-oidc-issuer', ISSUER, artifactPath]);
  assert.equal(r.exit, 1);
  assert.match(r.stderr, /^Error: IDENTITY_MISMATCH: certificate identity "https:\/\/github\.com\/sigstore-conformance\/.*" does not match "someone@example\.com"/);
});

test('a Fulcio extension policy: matching value verifies, other value → IDENTITY_MISMATCH', () => {
  const base = { subjectAlternativeName: { exact: ID }, issuer: { exact: ISSUER } };
  assert.equal(code(v03(), { identity: { ...base, extensions: { sourceRepositoryUri: { exact: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon' } } } }), 'VERIFIED');
  assert.equal(code(v03(), { identity: { ...base, extensions: { sourceRepositoryUri: { exact: 'https://github.com/evil/repo' } } } }), 'IDENTITY_MISMATCH');
});

test('usage errors: no identity, identity without issuer, bad regexp, --key with identity, missing artifact → exit 2 with one line', async () => {
  const bundle = file(JSON.stringify(v03()));
  const cases: [string[], RegExp][] = [
    [['verify-blob', '--bundle', bundle, artifactPath], /^Error: USAGE: pass --key, or both/],
    [['verify-blob', '--bundle', bundle, '--certificate-identity', ID, artifactPath], /^Error: USAGE: /],
    [['verify-blob', '--bundle', bundle, '--certificate-identity-regexp', '(', '--certificate-oidc-issuer', ISSUER, artifactPath], /^Error: POLICY_MALFORMED: the certificate identity regexp "\(" is invalid/],
    [['verify-blob', '--bundle', bundle, '--key', bundle, '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, artifactPath], /^Error: USAGE: --key cannot be combined/],
    [['verify-blob', '--bundle', bundle, '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, join(dir, 'missing')], /^Error: INPUT_UNREADABLE: artifact .* does not exist/],
    [['verify-blob', '--bundle', join(dir, 'missing.json'), '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, artifactPath], /^Error: INPUT_UNREADABLE: cannot read bundle/],
    [['verify-blob', '--bundle', bundle, '--key', file('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), artifactPath], /^Error: KEY_MALFORMED: /],
    [['verify-blob', '--bundle', bundle, '--trusted-root', file('{"mediaType": 3}'), '--certificate-identity', ID, '--certificate-oidc-issuer', ISSUER, artifactPath], /^Error: TRUSTED_ROOT_MALFORMED: trustedRoot.mediaType must be a string/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assert.equal(r.exit, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});

test('a certificate bundle checked with --key, and a key bundle without a key, are rejected (KEY_MISMATCH)', async () => {
  const keyBundle = load('managed-key-happy-path');
  assert.equal(code(keyBundle), 'KEY_MISMATCH');
  const pub = corpusPath('sigstore-conformance/bundle-verify/managed-key-happy-path/key.pub');
  const r = await cli(['verify-blob', '--bundle', file(JSON.stringify(v03())), '--key', pub, artifactPath]);
  assert.equal(r.exit, 1);
  assert.match(r.stderr, /^Error: KEY_MISMATCH: the bundle is signed with a certificate, not with a key/);
  const ok = await cli(['verify-blob', '--bundle', file(JSON.stringify(keyBundle)), '--key', pub, '--output', 'json', artifactPath]);
  assert.equal(ok.exit, 0, ok.stderr);
  const out = JSON.parse(ok.stdout) as Json;
  assert.equal(out.verified, true);
  assert.equal(out.signer.kind, 'key');
  assert.equal(out.tlogEntries[0].logIndex, keyBundle.verificationMaterial.tlogEntries[0].logIndex);
});

test('the SET payload is the RFC 8785 form of {body, integratedTime, logID, logIndex}', () => {
  const entry = parseBundle(JSON.stringify(v03())).bundle.verificationMaterial.tlogEntries[0]!;
  const expected = canonicalize({ body: entry.canonicalizedBody.toString('base64'), integratedTime: Number(entry.integratedTime), logID: entry.logId!.keyId.toString('hex'), logIndex: Number(entry.logIndex) });
  assert.equal(setPayload(entry).toString('utf8'), expected);
});
