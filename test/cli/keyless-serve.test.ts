/**
 * The services started one by one, as in a deployment: `sigil oidc serve`, `sigil ca serve`
 * (its own CT log on the same port), `sigil tsa serve`, each its own process, then a keyless
 * signing through them with the client library.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beginKeyless, keylessSignBlob } from '../../src/sign/keyless.js';
import { Certificate } from '../../src/x509/certificate.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { runSigil } from '../helpers/cli-run.js';

const ENV = { SIGIL_STATE_PASSWORD: 'serve-test' };

function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/sigil.ts'), ...args], { cwd: REPO_ROOT, env: { ...process.env, ...ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${err}`)), 60_000);
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = out.split('\n').find((l) => ready.test(l));
      if (m) {
        clearTimeout(timer);
        resolve({ child, line: m });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}: ${err}`));
    });
  });
}

async function stop(child: ChildProcess | undefined): Promise<number | null> {
  if (!child || child.exitCode !== null) return child?.exitCode ?? null;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('sigil oidc serve + ca serve + tsa serve as separate processes', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  let oidcUrl: string;
  let caUrl: string;
  let tsaUrl: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sigil-serve-'));
    const state = join(dir, 'state');
    const oidc = await start(['oidc', 'serve', '--state', state, '--port', '0', '--email', 'ci@example.com', '--subject', 'ci'], /listening on/);
    children.push(oidc.child);
    oidcUrl = /on (http:\/\/\S+)/.exec(oidc.line)![1]!;
    mkdirSync(join(state, 'ca'), { recursive: true });
    writeFileSync(join(state, 'ca', 'config.json'), JSON.stringify({ issuers: [{ url: oidcUrl, type: 'email', allowedEmails: ['.*@example\\.com'] }] }));
    const ca = await start(['ca', 'serve', '--state', state, '--port', '0'], /CA listening on/);
    children.push(ca.child);
    caUrl = /on (http:\/\/\S+)/.exec(ca.line)![1]!;
    const tsa = await start(['tsa', 'serve', '--state', state, '--port', '0'], /TSA listening on/);
    children.push(tsa.child);
    tsaUrl = /on (http:\/\/\S+)/.exec(tsa.line)![1]!;
  });

  after(async () => {
    for (const c of children) await stop(c);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a token from `sigil oidc token`, a certificate with an SCT from `ca serve`, a timestamp from `tsa serve`', async () => {
    const t = await runSigil(['oidc', 'token', '--state', join(dir, 'state')], ENV);
    assert.equal(t.code, 0, t.stderr);
    const session = await beginKeyless({ token: t.stdout.trim(), caUrl, tsaUrls: [tsaUrl] });
    assert.equal(session.identity.subjectAlternativeName, 'ci@example.com');
    assert.equal(session.identity.issuer, oidcUrl);
    assert.ok(Certificate.fromDer(session.certificate).extension('1.3.6.1.4.1.11129.2.4.2'), 'embedded SCT from the CT log of ca serve');
    const sth = (await (await fetch(`${caUrl}/ct/v1/get-sth`)).json()) as { tree_size: number };
    assert.equal(sth.tree_size, 1);
    const result = await keylessSignBlob(Buffer.from('x'), session);
    assert.equal((result.json.verificationMaterial as { timestampVerificationData: { rfc3161Timestamps: unknown[] } }).timestampVerificationData.rfc3161Timestamps.length, 1);
  });

  test('ca serve refuses an identity outside its rules; the services stop cleanly on SIGTERM', async () => {
    const t = await runSigil(['oidc', 'token', '--state', join(dir, 'state'), '--email', 'mallory@evil.example'], ENV);
    await assert.rejects(beginKeyless({ token: t.stdout.trim(), caUrl }), (e: Error & { code?: string }) => e.code === 'UNAUTHORIZED' && /not allowed/.test(e.message));
    const tsa = children.pop();
    assert.equal(await stop(tsa), 0);
  });
});
