/**
 * Trusted roots, key rings and identity matchers: the shipped public-good root decodes with its
 * logs indexed by log ID; every corpus root loads except the one whose log window lacks a start;
 * validity windows are closed intervals; identity policies match exactly or by regexp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { SigilError } from '../../src/core/errors.js';
import { TrustedRoot, withinWindow } from '../../src/trust/trusted-root.js';
import { KeyRing } from '../../src/trust/keyring.js';
import { checkIdentity, stringMatcher, matches, type SignerIdentity } from '../../src/trust/identity.js';
import { corpusPath } from '../helpers/paths.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function rejects(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SigilError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('the shipped public-good root equals the corpus copy and indexes its logs by log ID', () => {
  const shipped = TrustedRoot.publicGood();
  assert.strictEqual(TrustedRoot.publicGood(), shipped, 'decoded once per process');
  assert.deepEqual(shipped.source, JSON.parse(readFileSync(corpusPath('trusted-roots/public-good/trusted_root.json'), 'utf8')));
  assert.equal(shipped.certificateAuthorities.length, 2);
  assert.equal(shipped.timestampAuthorities.length, 1);
  assert.equal(shipped.ctlogs.length, 2);
  const rekor = shipped.tlogsFor(Buffer.from('wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=', 'base64'));
  assert.equal(rekor.length, 1);
  assert.equal(rekor[0]!.hostname, 'rekor.sigstore.dev');
  assert.equal(rekor[0]!.hash, 'sha256');
  const v2 = shipped.tlogsFor(Buffer.from('zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=', 'base64'));
  assert.equal(v2[0]!.keyDetails, 'PKIX_ED25519');
  assert.equal(v2[0]!.hash, null);
  assert.deepEqual(shipped.tlogsFor(Buffer.alloc(32)), []);
});

test('every corpus trusted root loads, except trust-root-tlog-missing-validity-start_fail', () => {
  const dir = corpusPath('sigstore-conformance/bundle-verify');
  for (const name of readdirSync(dir)) {
    const p = `${dir}/${name}/trusted_root.json`;
    if (!existsSync(p)) continue;
    if (name === 'trust-root-tlog-missing-validity-start_fail') rejects(() => TrustedRoot.fromFile(p), 'TRUSTED_ROOT_MALFORMED', /validFor.start is missing/);
    else assert.doesNotThrow(() => TrustedRoot.fromFile(p), name);
  }
});

test('validity windows are closed intervals; an open end is open', () => {
  const w = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-02-01T00:00:00Z') };
  assert.ok(withinWindow(w, w.start));
  assert.ok(withinWindow(w, w.end));
  assert.ok(!withinWindow(w, new Date(w.end.getTime() + 1)));
  assert.ok(!withinWindow(w, new Date(w.start.getTime() - 1)));
  assert.ok(withinWindow({ start: w.start }, new Date('2999-01-01T00:00:00Z')));
});

test('malformed trusted roots: media type, certificate, key, timestamps, window order', () => {
  const base = (): Json => JSON.parse(readFileSync(corpusPath('trusted-roots/public-good/trusted_root.json'), 'utf8')) as Json;
  const edit = (f: (r: Json) => void): Json => {
    const r = base();
    f(r);
    return r;
  };
  rejects(() => TrustedRoot.fromJSON(edit((r) => (r.mediaType = 'application/json'))), 'TRUSTED_ROOT_MALFORMED', /unsupported trusted root media type/);
  rejects(() => TrustedRoot.fromJSON(edit((r) => (r.certificateAuthorities[0].certChain.certificates[0].rawBytes = 'MIIB'))), 'TRUSTED_ROOT_MALFORMED', /certificates\[0\] is not a valid certificate/);
  rejects(() => TrustedRoot.fromJSON(edit((r) => (r.tlogs[0].publicKey.rawBytes = 'AAAA'))), 'TRUSTED_ROOT_MALFORMED', /tlogs\[0\].publicKey.rawBytes is not a valid PKIX_ECDSA_P256_SHA_256 key/);
  rejects(() => TrustedRoot.fromJSON(edit((r) => (r.tlogs[0].publicKey.validFor.start = '2021-01-12 11:53:27'))), 'TRUSTED_ROOT_MALFORMED', /not an RFC 3339 UTC timestamp/);
  rejects(() => TrustedRoot.fromJSON(edit((r) => (r.ctlogs[0].publicKey.validFor = { start: '2022-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' }))), 'TRUSTED_ROOT_MALFORMED', /ends before it starts/);
  rejects(() => TrustedRoot.fromJSON(edit((r) => delete r.certificateAuthorities[0].validFor)), 'TRUSTED_ROOT_MALFORMED', /validFor is missing/);
  rejects(() => TrustedRoot.parse('{'), 'TRUSTED_ROOT_MALFORMED', /trusted root is not valid JSON/);
  // A key type sigil cannot use makes that log unusable, not the root.
  const lms = TrustedRoot.fromJSON(edit((r) => (r.tlogs[0].publicKey.keyDetails = 'LMS_SHA256')));
  assert.equal(lms.tlogs.length, 1);
});

test('key ring: npm registry keys by hint and usage, with their windows', () => {
  const text = readFileSync(corpusPath('trusted-roots/public-good/npm-registry-keys.json'));
  const ring = KeyRing.parse(text, 'npm:attestations');
  const k = ring.get('SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA');
  assert.equal(k.length, 1);
  assert.equal(k[0]!.validFor.end?.toISOString(), '2025-01-29T00:00:00.000Z');
  assert.equal(KeyRing.fromJSON(ring.source).size, ring.size, 'rebuilt from its source (worker threads)');
  assert.ok(KeyRing.parse(text).size > ring.size);
  rejects(() => KeyRing.fromJSON({ keys: [{ keyId: 'x', publicKey: { rawBytes: 'AAAA' } }] }), 'TRUSTED_ROOT_MALFORMED', /not an SPKI public key/);
});

test('identity matchers: exact, regexp (searched, as cosign), both given is a usage error, bad regexp is POLICY_MALFORMED', () => {
  const signer: SignerIdentity = { subjectAlternativeNames: ['https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1'], extensions: { issuer: 'https://token.actions.githubusercontent.com', sourceRepositoryUri: 'https://github.com/o/r' } };
  const iss = stringMatcher('https://token.actions.githubusercontent.com', undefined, 'issuer')!;
  assert.doesNotThrow(() => checkIdentity({ subjectAlternativeName: stringMatcher(undefined, '^https://github\\.com/o/r/', 'identity')!, issuer: iss }, signer));
  assert.ok(matches(stringMatcher(undefined, 'workflows/release', 'identity')!, signer.subjectAlternativeNames[0]));
  rejects(() => checkIdentity({ subjectAlternativeName: { exact: 'https://github.com/o/r' }, issuer: iss }, signer), 'IDENTITY_MISMATCH', /does not match "https:\/\/github.com\/o\/r"/);
  rejects(() => checkIdentity({ subjectAlternativeName: { regexp: /.*/ }, issuer: { exact: 'https://accounts.google.com' } }, signer), 'IDENTITY_MISMATCH', /OIDC issuer/);
  rejects(() => checkIdentity({ extensions: { sourceRepositoryUri: { exact: 'https://github.com/evil/r' } } }, signer), 'IDENTITY_MISMATCH', /sourceRepositoryUri/);
  rejects(() => checkIdentity({ extensions: { buildTrigger: { regexp: /push/ } } }, signer), 'IDENTITY_MISMATCH', /buildTrigger "\(absent\)"/);
  rejects(() => stringMatcher('a', 'b', 'identity'), 'POLICY_MALFORMED', /either an exact identity or a identity regexp/);
  rejects(() => stringMatcher(undefined, '[', 'identity'), 'POLICY_MALFORMED', /regexp "\[" is invalid/);
  rejects(() => stringMatcher('', undefined, 'identity'), 'POLICY_MALFORMED', /empty/);
});
