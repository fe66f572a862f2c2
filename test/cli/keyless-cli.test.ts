/**
 * The keyless CLI as a user runs it: `sigil up` in its own process, then `sigil oidc token`,
 * `sigil sign-blob --keyless`, `sigil attest-blob --keyless`, `sigil verify-blob`, and the
 * sigstore-conformance protocol (`sign-bundle` then `verify-bundle`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { conformanceSignBundle } from '../../src/cli/conformance/sign-bundle.js';
import { conformanceVerifyBundle } from '../../src/cli/conformance/verify-bundle.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { runSigil } from '../helpers/cli-run.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function conformance(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli('sigil-conformance', [conformanceVerifyBundle, conformanceSignBundle], args, { stdout, stderr, env: {}, cwd: process.cwd() });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('keyless CLI against `sigil up` in a separate process', () => {
  let dir: string;
  let up: ChildProcess;
  let ready: { url: string; urls: { oidc: string; ca: string }; signingConfig: string; trustedRoot: string };
  let token: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sigil-up-cli-'));
    up = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/sigil.ts'), 'up', '--state', join(dir, 'state'), '--port', '0', '--output', 'json'], {
      cwd: REPO_ROOT,
      env: { ...process.env, SIGIL_STATE_PASSWORD: 'test-password' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    up.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    ready = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`sigil up did not get ready: ${err}`)), 60_000);
      up.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      });
      up.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`sigil up exited with ${code}: ${err}`));
      });
    });
    const t = await runSigil(['oidc', 'token', '--state', join(dir, 'state')], { SIGIL_STATE_PASSWORD: 'test-password' });
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stderr, /local use and tests only/);
    token = t.stdout.trim();
  });

  after(async () => {
    if (up.exitCode === null) {
      const exited = new Promise((r) => up.once('exit', r));
      up.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('sigil up wrote the signing config and trusted root and serves every service', async () => {
    const sc = JSON.parse(readFileSync(ready.signingConfig, 'utf8'));
    assert.equal(sc.mediaType, 'application/vnd.dev.sigstore.signingconfig.v0.2+json');
    const tr = JSON.parse(readFileSync(ready.trustedRoot, 'utf8'));
    assert.equal(tr.certificateAuthorities.length, 1);
    assert.equal(tr.ctlogs.length, 1);
    assert.equal(tr.tlogs.length, 1);
    assert.equal(tr.timestampAuthorities.length, 1);
    const index = (await (await fetch(ready.url)).json()) as { urls: Record<string, string> };
    assert.equal(index.urls.ca, ready.urls.ca);
  });

  test('sign-blob --keyless and attest-blob --keyless, then verify-blob with identity policy', async () => {
    const file = join(dir, 'release.tar');
    writeFileSync(file, 'artifact bytes\n');
    const common = ['--keyless', '--signing-config', ready.signingConfig, '--identity-token', token];
    const s = await runSigil(['sign-blob', ...common, '--bundle', join(dir, 'release.sigstore.json'), file]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stderr, /certificate for dev@sigil\.local/);
    const policy = ['--trusted-root', ready.trustedRoot, '--certificate-identity', 'dev@sigil.local', '--certificate-oidc-issuer', ready.urls.oidc];
    const v = await runSigil(['verify-blob', '--bundle', join(dir, 'release.sigstore.json'), ...policy, file]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    const wrong = await runSigil(['verify-blob', '--bundle', join(dir, 'release.sigstore.json'), '--trusted-root', ready.trustedRoot, '--certificate-identity', 'mallory@sigil.local', '--certificate-oidc-issuer', ready.urls.oidc, file]);
    assert.equal(wrong.code, 1);

    writeFileSync(join(dir, 'pred.json'), JSON.stringify({ buildDefinition: { buildType: 'https://example/build' } }));
    const a = await runSigil(['attest-blob', ...common, '--predicate', join(dir, 'pred.json'), '--type', 'slsaprovenance1', '--bundle', join(dir, 'release.intoto.json'), file]);
    assert.equal(a.code, 0, a.stderr);
    const va = await runSigil(['verify-blob-attestation', '--bundle', join(dir, 'release.intoto.json'), '--type', 'slsaprovenance1', ...policy, file]);
    assert.equal(va.code, 0, va.stderr + va.stdout);

    const noKey = await runSigil(['sign-blob', file]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /--keyless/);
    const both = await runSigil(['sign-blob', ...common, '--key', 'x.key', file]);
    assert.equal(both.code, 2);
  });

  test('sigil-conformance sign-bundle then verify-bundle (blob and --in-toto)', async () => {
    const file = join(dir, 'a.txt');
    writeFileSync(file, 'conformance\n');
    const bundle = join(dir, 'a.sigstore.json');
    const signed = await conformance(['sign-bundle', '--identity-token', token, '--bundle', bundle, '--trusted-root', ready.trustedRoot, '--signing-config', ready.signingConfig, file]);
    assert.equal(signed.code, 0, signed.stderr);
    const verified = await conformance(['verify-bundle', '--bundle', bundle, '--certificate-identity', 'dev@sigil.local', '--certificate-oidc-issuer', ready.urls.oidc, '--trusted-root', ready.trustedRoot, file]);
    assert.equal(verified.code, 0, verified.stderr);

    const digest = createHash('sha256').update('conformance\n').digest('hex');
    const statement = join(dir, 'statement.json');
    writeFileSync(statement, JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'a.txt', digest: { sha256: digest } }], predicateType: 'https://example/predicate', predicate: { ok: true } }));
    const dsse = join(dir, 'statement.sigstore.json');
    const s2 = await conformance(['sign-bundle', '--in-toto', '--identity-token', token, '--bundle', dsse, '--trusted-root', ready.trustedRoot, '--signing-config', ready.signingConfig, statement]);
    assert.equal(s2.code, 0, s2.stderr);
    const v2 = await conformance(['verify-bundle', '--bundle', dsse, '--certificate-identity', 'dev@sigil.local', '--certificate-oidc-issuer', ready.urls.oidc, '--trusted-root', ready.trustedRoot, `sha256:${digest}`]);
    assert.equal(v2.code, 0, v2.stderr);

    const bad = await conformance(['sign-bundle', '--identity-token', 'not.a.jwt', '--bundle', join(dir, 'x.json'), '--signing-config', ready.signingConfig, file]);
    assert.notEqual(bad.code, 0);
  });
});
