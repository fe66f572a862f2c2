import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync, readdirSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { runSigil, type CliResult } from '../helpers/cli-run.js';
import { encryptCosignKey } from '../../src/crypto/cosign-key.js';
import { generateKeyPair, exportPrivateKeyPem, exportPublicKeyPem } from '../../src/crypto/keys.js';
import { parseBundle } from '../../src/formats/bundle.js';

async function sigil(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}, answers?: string[]): Promise<CliResult> {
  return runSigil(args, env, { cwd, ...(answers ? { answers } : {}) });
}

/** Exit 2 with one line naming the cause, and no stack trace. */
function badInput(r: CliResult, cause: RegExp): void {
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
  assert.match(r.stderr, cause);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

const PW = { SIGIL_PASSWORD: 'correct horse' };

test('generate-key-pair: cosign.key (0600, encrypted) + cosign.pub; never overwrites without --force', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-gkp-'));
  const r = await sigil(dir, ['generate-key-pair'], PW);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Private key written to .*cosign\.key/);
  assert.equal(statSync(join(dir, 'cosign.key')).mode & 0o777, 0o600);
  assert.match(readFileSync(join(dir, 'cosign.key'), 'utf8'), /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/);
  assert.match(readFileSync(join(dir, 'cosign.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
  const before = readFileSync(join(dir, 'cosign.key'));
  badInput(await sigil(dir, ['generate-key-pair'], PW), /CONFLICT: .*cosign\.key already exists/);
  assert.deepEqual(readFileSync(join(dir, 'cosign.key')), before, 'existing key untouched');
  const forced = await sigil(dir, ['generate-key-pair', '--force', '--output', 'json', '--algorithm', 'ecdsa-p384'], PW);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(forced.stdout).keyDetails, 'PKIX_ECDSA_P384_SHA_384');
  assert.equal(statSync(join(dir, 'cosign.key')).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');

  const p = await sigil(dir, ['generate-key-pair', '--output-key-prefix', 'release', '--algorithm', 'ed25519'], { COSIGN_PASSWORD: '' });
  assert.equal(p.code, 0, p.stderr);
  assert.ok(existsSync(join(dir, 'release.key')) && existsSync(join(dir, 'release.pub')));
  badInput(await sigil(dir, ['generate-key-pair', '--output-key-prefix', 'x', '--algorithm', 'dsa'], PW), /USAGE: unknown --algorithm dsa/);
  badInput(await sigil(dir, ['generate-key-pair', '--output-key-prefix', 'no/such/dir/k'], PW), /cannot write .*no\/such\/dir\/k\.key/);
});

test('password: env first (SIGIL_PASSWORD, COSIGN_PASSWORD), then prompt with confirmation; no env and no terminal is a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-pw-'));
  badInput(await sigil(dir, ['generate-key-pair', '--output-key-prefix', 'a']), /password is needed .* no terminal.*SIGIL_PASSWORD/);
  badInput(await sigil(dir, ['generate-key-pair', '--output-key-prefix', 'b'], {}, ['one', 'two']), /two passwords differ/);
  assert.ok(!existsSync(join(dir, 'b.key')));
  const ok = await sigil(dir, ['generate-key-pair', '--output-key-prefix', 'c'], {}, ['typed', 'typed']);
  assert.equal(ok.code, 0, ok.stderr);
  writeFileSync(join(dir, 'f.txt'), 'data');
  // The prompted password decrypts the key; the wrong one from the environment does not.
  const s = await sigil(dir, ['sign-blob', '--key', 'c.key', 'f.txt'], {}, ['typed']);
  assert.equal(s.code, 0, s.stderr);
  badInput(await sigil(dir, ['sign-blob', '--key', 'c.key', 'f.txt'], { SIGIL_PASSWORD: 'nope', COSIGN_PASSWORD: 'typed' }), /KEY_PASSWORD_INVALID: wrong password/);
  assert.equal((await sigil(dir, ['sign-blob', '--key', 'c.key', 'f.txt'], { COSIGN_PASSWORD: 'typed' })).code, 0);
});

test('sign-blob: bundle file (default name, --bundle, --bundle -), --output json, verified by verify-blob; tampering fails with exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-sb-'));
  assert.equal((await sigil(dir, ['generate-key-pair'], PW)).code, 0);
  writeFileSync(join(dir, 'app.tgz'), 'release contents');
  const r = await sigil(dir, ['sign-blob', '--key', 'cosign.key', 'app.tgz'], PW);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Wrote bundle to .*app\.tgz\.sigstore\.json/);
  assert.equal(parseBundle(readFileSync(join(dir, 'app.tgz.sigstore.json'))).version, '0.3');

  const j = await sigil(dir, ['sign-blob', '--key', 'cosign.key', '--bundle', 'out.json', '--output', 'json', 'app.tgz'], PW);
  assert.equal(j.code, 0, j.stderr);
  const info = JSON.parse(j.stdout);
  assert.equal(info.digest, `sha256:${createHash('sha256').update('release contents').digest('hex')}`);
  assert.equal(info.keyDetails, 'PKIX_ECDSA_P256_SHA_256');
  assert.equal(info.tlogEntries, 0);

  const s = await sigil(dir, ['sign-blob', '--key', 'cosign.key', '--bundle', '-', 'app.tgz'], PW);
  assert.equal(parseBundle(s.stdout).bundle.content.$case, 'messageSignature');

  const v = await sigil(dir, ['verify-blob', '--bundle', 'out.json', '--key', 'cosign.pub', '--insecure-ignore-tlog', 'app.tgz']);
  assert.equal(v.code, 0, v.stderr);
  appendFileSync(join(dir, 'app.tgz'), 'x');
  const t = await sigil(dir, ['verify-blob', '--bundle', 'out.json', '--key', 'cosign.pub', '--insecure-ignore-tlog', 'app.tgz']);
  assert.equal(t.code, 1);
  assert.doesNotMatch(t.stderr, /\n\s+at /);

  // Keys sigil did not write: unencrypted PKCS#8 needs no password; a cosign key with the legacy label works.
  const { privateKey } = generateKeyPair();
  writeFileSync(join(dir, 'plain.pem'), exportPrivateKeyPem(privateKey));
  assert.equal((await sigil(dir, ['sign-blob', '--key', 'plain.pem', 'app.tgz'])).code, 0);
  writeFileSync(join(dir, 'legacy.key'), encryptCosignKey(privateKey, 'p', { label: 'ENCRYPTED COSIGN PRIVATE KEY', scrypt: { N: 1024, r: 8, p: 1 } }));
  assert.equal((await sigil(dir, ['sign-blob', '--key', 'legacy.key', 'app.tgz'], { COSIGN_PASSWORD: 'p' })).code, 0);
});

test('sign-blob / attest-blob bad input: exit 2 naming the cause, no stack trace, no partial output', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-bad-'));
  assert.equal((await sigil(dir, ['generate-key-pair'], PW)).code, 0);
  writeFileSync(join(dir, 'f'), 'x');
  writeFileSync(join(dir, 'garbage.key'), 'this is not a key');
  writeFileSync(join(dir, 'trunc.key'), readFileSync(join(dir, 'cosign.key'), 'utf8').slice(0, 200));
  writeFileSync(join(dir, 'pred.json'), '{"a": 1}');
  writeFileSync(join(dir, 'bad.json'), '{"a": ');
  writeFileSync(join(dir, 'arr.json'), '[1]');
  const { publicKey } = generateKeyPair();
  writeFileSync(join(dir, 'pub.pem'), exportPublicKeyPem(publicKey));
  writeFileSync(join(dir, 'secret.key'), 'x');
  chmodSync(join(dir, 'secret.key'), 0o000);

  badInput(await sigil(dir, ['sign-blob', 'f'], PW), /USAGE: --key is required/);
  badInput(await sigil(dir, ['sign-blob', '--key', 'cosign.key'], PW), /USAGE: the file to sign is missing/);
  badInput(await sigil(dir, ['sign-blob', '--key', 'cosign.key', 'f', 'g'], PW), /USAGE: expected one file/);
  badInput(await sigil(dir, ['sign-blob', '--key', 'cosign.key', 'missing.bin'], PW), /INPUT_UNREADABLE: cannot read file to sign missing\.bin: no such file/);
  badInput(await sigil(dir, ['sign-blob', '--key', 'nokey.key', 'f'], PW), /INPUT_UNREADABLE: cannot read private key nokey\.key/);
  badInput(await sigil(dir, ['sign-blob', '--key', 'cosign.key', 'f'], { SIGIL_PASSWORD: 'wrong' }), /KEY_PASSWORD_INVALID: wrong password for private key cosign\.key/);
  badInput(await sigil(dir, ['sign-blob', '--key', 'garbage.key', 'f'], PW), /KEY_MALFORMED: private key garbage\.key/);
  badInput(await sigil(dir, ['sign-blob', '--key', 'trunc.key', 'f'], PW), /KEY_MALFORMED: .*(truncated|END line)/);
  badInput(await sigil(dir, ['sign-blob', '--key', 'pub.pem', 'f'], PW), /KEY_MALFORMED: .*public key; a private key was expected/);
  badInput(await sigil(dir, ['sign-blob', '--key', 'cosign.key', '--bundle', 'no/dir/out.json', 'f'], PW), /cannot write .*no\/dir\/out\.json/);
  badInput(await sigil(dir, ['sign-blob', '--kee', 'cosign.key', 'f'], PW), /Unknown option '--kee'/);
  if (process.getuid?.() !== 0) badInput(await sigil(dir, ['sign-blob', '--key', 'secret.key', 'f'], PW), /permission denied/);

  badInput(await sigil(dir, ['attest-blob', '--key', 'cosign.key', 'f'], PW), /USAGE: --predicate is required/);
  badInput(await sigil(dir, ['attest-blob', '--predicate', 'pred.json', 'f'], PW), /USAGE: --key is required/);
  badInput(await sigil(dir, ['attest-blob', '--key', 'cosign.key', '--predicate', 'pred.json', '--type', 'not a type', 'f'], PW), /USAGE: invalid predicate type/);
  badInput(await sigil(dir, ['attest-blob', '--key', 'cosign.key', '--predicate', 'bad.json', 'f'], PW), /JSON_MALFORMED: predicate bad\.json is not valid JSON/);
  badInput(await sigil(dir, ['attest-blob', '--key', 'cosign.key', '--predicate', 'arr.json', 'f'], PW), /STATEMENT_MALFORMED: predicate arr\.json must be a JSON object/);
  badInput(await sigil(dir, ['attest-blob', '--key', 'cosign.key', '--predicate', 'nope.json', 'f'], PW), /INPUT_UNREADABLE: cannot read predicate nope\.json/);
  badInput(await sigil(dir, ['attest-blob', '--key', 'cosign.key', '--predicate', 'pred.json', 'missing'], PW), /INPUT_UNREADABLE: cannot read .*missing/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('sigstore.json') || f.endsWith('.tmp')), [], 'failed runs wrote nothing');
});

test('attest-blob: --type names, bundle verified by verify-blob with the subject check', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-ab-'));
  assert.equal((await sigil(dir, ['generate-key-pair'], PW)).code, 0);
  writeFileSync(join(dir, 'app.tgz'), 'bits');
  writeFileSync(join(dir, 'sbom.json'), JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'app' }));
  const r = await sigil(dir, ['attest-blob', '--key', 'cosign.key', '--predicate', 'sbom.json', '--type', 'spdxjson', '--output', 'json', 'app.tgz'], PW);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.predicateType, 'https://spdx.dev/Document');
  assert.equal(info.subject.digest.sha256, createHash('sha256').update('bits').digest('hex'));
  const b = parseBundle(readFileSync(join(dir, 'app.tgz.intoto.sigstore.json')));
  assert.equal(b.bundle.content.$case, 'dsseEnvelope');
  const v = await sigil(dir, ['verify-blob', '--bundle', 'app.tgz.intoto.sigstore.json', '--key', 'cosign.pub', '--insecure-ignore-tlog', 'app.tgz']);
  assert.equal(v.code, 0, v.stderr);
  writeFileSync(join(dir, 'other.tgz'), 'other bits');
  const w = await sigil(dir, ['verify-blob', '--bundle', 'app.tgz.intoto.sigstore.json', '--key', 'cosign.pub', '--insecure-ignore-tlog', 'other.tgz']);
  assert.equal(w.code, 1);
  assert.match(w.stderr, /SUBJECT_MISMATCH/);
});

test('demo: the npm start flow runs end to end and detects tampering', async () => {
  const r = await sigil(tmpdir(), ['demo']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /verified\s+signature: OK/);
  assert.match(r.stdout, /rejected\s+signature: DIGEST_MISMATCH/);
  assert.match(r.stdout, /rejected\s+attestation: SUBJECT_MISMATCH/);
  assert.match(r.stdout, /tampering is detected/);
});
