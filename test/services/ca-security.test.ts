/**
 * Every way a signing-certificate request can be illegitimate, each refused with a clear error
 * and no certificate issued: the CT log must not grow (a precertificate would already be a
 * certificate in the CT sense).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Certificate } from '../../src/x509/certificate.js';
import { DevOidcIssuer } from '../../src/services/oidc-dev/issuer.js';
import { devOidcHandler } from '../../src/services/oidc-dev/server.js';
import { listen, type RunningServer } from '../../src/services/http.js';
import { CertificateAuthority } from '../../src/services/ca/authority.js';
import { parseCaConfig } from '../../src/services/ca/config.js';
import { caHandler } from '../../src/services/ca/server.js';
import { encodeName } from '../../src/services/pki/certificate-builder.js';
import { bitString, explicit, oid, seq, smallInteger } from '../../src/services/pki/der.js';
import { clientKey, postJson, signingCertBody, startTestStack } from '../helpers/keyless.js';

type TestStack = Awaited<ReturnType<typeof startTestStack>>;

async function startIssuer(identity: { subject: string; email?: string } = { subject: 'someone', email: 'someone@example.com' }): Promise<{ issuer: DevOidcIssuer; server: RunningServer }> {
  // The issuer URL contains the port, known only once the server listens.
  const holder: { issuer?: DevOidcIssuer } = {};
  const server = await listen((req, res) => devOidcHandler(holder.issuer!)(req, res), 0);
  const issuer = new DevOidcIssuer(server.url, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, identity);
  holder.issuer = issuer;
  return { issuer, server };
}

const GITHUB_CLAIMS = {
  job_workflow_ref: 'sigil/demo/.github/workflows/release.yml@refs/tags/v1.0.0',
  job_workflow_sha: 'a'.repeat(40),
  sha: 'b'.repeat(40),
  event_name: 'push',
  repository: 'sigil/demo',
  workflow: 'release',
  ref: 'refs/tags/v1.0.0',
  runner_environment: 'github-hosted',
  repository_id: '1234',
  repository_owner: 'sigil',
  repository_owner_id: '5678',
  repository_visibility: 'public',
  workflow_ref: 'sigil/demo/.github/workflows/release.yml@refs/tags/v1.0.0',
  workflow_sha: 'c'.repeat(40),
  run_id: '42',
  run_attempt: '1',
};

describe('CA refuses illegitimate requests and issues nothing', () => {
  let stack: TestStack;
  let restricted: { issuer: DevOidcIssuer; server: RunningServer };
  let github: { issuer: DevOidcIssuer; server: RunningServer };
  let unlisted: { issuer: DevOidcIssuer; server: RunningServer };
  let url: string;
  let dir: string;

  before(async () => {
    restricted = await startIssuer({ subject: 'alice', email: 'alice@example.com' });
    github = await startIssuer({ subject: 'repo:sigil/demo:ref:refs/tags/v1.0.0' });
    unlisted = await startIssuer();
    dir = mkdtempSync(join(tmpdir(), 'sigil-ca-sec-'));
    mkdirSync(join(dir, 'ca'), { recursive: true });
    writeFileSync(
      join(dir, 'ca', 'config.json'),
      JSON.stringify({
        issuers: [
          { url: restricted.issuer.issuerUrl, type: 'email', allowedEmails: ['[a-z]+@example\\.com'] },
          { url: github.issuer.issuerUrl, type: 'github-workflow', allowedSubjects: ['repo:sigil/demo:.*'] },
        ],
      }),
    );
    stack = await startTestStack({ stateDir: dir });
    url = `${stack.urls.ca}/api/v2/signingCert`;
  });
  after(async () => {
    await stack.stop();
    await Promise.all([restricted.server.close(), github.server.close(), unlisted.server.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function refused(body: unknown, status: number, code: string, message: RegExp): Promise<void> {
    const before = stack.ctLog.size;
    const { status: got, json } = await postJson(url, body);
    assert.equal(got, status, JSON.stringify(json));
    assert.equal(json.code, code, JSON.stringify(json));
    assert.match(String(json.message), message);
    assert.ok(!('signedCertificateEmbeddedSct' in json) && !('signedCertificateDetachedSct' in json));
    assert.equal(stack.ctLog.size, before, 'no precertificate reached the CT log');
  }

  const now = () => Math.floor(Date.now() / 1000);

  test('token from an issuer that is not on the allow-list', async () => {
    const token = await unlisted.issuer.mint();
    await refused(signingCertBody(token, clientKey(), 'someone@example.com'), 401, 'UNAUTHORIZED', /not on this CA's allow-list/);
  });

  test('token for another audience', async () => {
    const token = await stack.oidc.mint({ audience: 'not-sigstore' });
    await refused(signingCertBody(token, clientKey(), 'dev@sigil.local'), 401, 'UNAUTHORIZED', /audience .*not-sigstore.* is not 'sigstore'/);
  });

  test('expired token', async () => {
    const token = await stack.oidc.mint({ issuedAt: now() - 3600, ttlSeconds: 600 });
    await refused(signingCertBody(token, clientKey(), 'dev@sigil.local'), 401, 'UNAUTHORIZED', /expired at/);
  });

  test('future-dated token: not yet valid, and issued in the future', async () => {
    const notYet = await stack.oidc.mint({ issuedAt: now() + 3600 });
    await refused(signingCertBody(notYet, clientKey(), 'dev@sigil.local'), 401, 'UNAUTHORIZED', /not valid before/);
    const futureIat = await stack.oidc.mint({ issuedAt: now() + 3600, notBefore: now() - 10 });
    await refused(signingCertBody(futureIat, clientKey(), 'dev@sigil.local'), 401, 'UNAUTHORIZED', /issued in the future/);
  });

  test('token with a bad signature (payload altered after signing)', async () => {
    const token = await stack.oidc.mint();
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.email = 'admin@sigil.local';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    await refused(signingCertBody(forged, clientKey(), 'admin@sigil.local'), 401, 'UNAUTHORIZED', /signature does not verify/);
  });

  test('unsigned token (alg: none)', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: stack.urls.oidc, sub: 'x', aud: 'sigstore', email: 'dev@sigil.local', email_verified: true, iat: now(), exp: now() + 600 })).toString('base64url');
    await refused(signingCertBody(`${header}.${payload}.`, clientKey(), 'dev@sigil.local'), 401, 'UNAUTHORIZED', /unsigned \(alg: none\)/);
  });

  test('HS256 token keyed with the issuer\'s public key (key confusion)', async () => {
    const jwks = (await (await fetch(`${stack.urls.oidc}/keys`)).json()) as { keys: { kid: string }[] };
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: jwks.keys[0]!.kid })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: stack.urls.oidc, sub: 'x', aud: 'sigstore', email: 'dev@sigil.local', email_verified: true, iat: now(), exp: now() + 600 })).toString('base64url');
    const secret = stack.oidc.publicKey.export({ type: 'spki', format: 'pem' });
    const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    await refused(signingCertBody(`${header}.${payload}.${mac}`, clientKey(), 'dev@sigil.local'), 401, 'UNAUTHORIZED', /symmetric algorithm HS256/);
  });

  test('proof of possession over another claim, or by another key', async () => {
    const token = await stack.oidc.mint();
    await refused(signingCertBody(token, clientKey(), 'someone-else@sigil.local'), 400, 'SIGNATURE_INVALID', /proof of possession does not verify/);
    const key = clientKey();
    const other = clientKey();
    const body = signingCertBody(token, key, 'dev@sigil.local') as { publicKeyRequest: { proofOfPossession: string } };
    body.publicKeyRequest.proofOfPossession = sign('sha256', Buffer.from('dev@sigil.local'), other.privateKey).toString('base64');
    await refused(body, 400, 'SIGNATURE_INVALID', /proof of possession does not verify/);
  });

  test('identity outside the issuer\'s rules (email pattern, workflow subject pattern)', async () => {
    const outsider = await restricted.issuer.mint({ email: 'mallory@evil.example', subject: 'mallory' });
    await refused(signingCertBody(outsider, clientKey(), 'mallory@evil.example'), 403, 'IDENTITY_MISMATCH', /email 'mallory@evil.example' is not allowed/);
    const otherRepo = await github.issuer.mint({ subject: 'repo:evil/fork:ref:refs/heads/main', claims: GITHUB_CLAIMS });
    await refused(signingCertBody(otherRepo, clientKey(), 'repo:evil/fork:ref:refs/heads/main'), 403, 'IDENTITY_MISMATCH', /subject 'repo:evil\/fork.*' is not allowed/);
  });

  test('email the issuer did not verify', async () => {
    const token = await restricted.issuer.mint({ claims: { email_verified: false } });
    await refused(signingCertBody(token, clientKey(), 'alice@example.com'), 403, 'IDENTITY_MISMATCH', /not verified/);
  });

  test('CSR carrying one key but signed by another', async () => {
    const victim = clientKey();
    const attacker = clientKey();
    const info = seq(smallInteger(0), encodeName({ commonName: 'x' }), victim.publicKey.export({ type: 'spki', format: 'der' }), explicit(0, Buffer.alloc(0)));
    const csr = seq(info, seq(oid('1.2.840.10045.4.3.2')), bitString(sign('sha256', info, attacker.privateKey)));
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${csr.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const token = await stack.oidc.mint();
    await refused({ credentials: { oidcIdentityToken: token }, certificateSigningRequest: Buffer.from(pem).toString('base64') }, 400, 'SIGNATURE_INVALID', /CSR signature does not verify/);
  });

  test('malformed requests: not JSON, no token, both key forms, bad base64, garbage token', async () => {
    const token = await stack.oidc.mint();
    await refused('{not json', 400, 'USAGE', /not valid JSON/);
    await refused({ publicKeyRequest: {} }, 401, 'UNAUTHORIZED', /no identity token/);
    await refused({ credentials: { oidcIdentityToken: token }, publicKeyRequest: {}, certificateSigningRequest: 'AA==' }, 400, 'USAGE', /exactly one of/);
    await refused({ credentials: { oidcIdentityToken: token }, publicKeyRequest: { publicKey: { content: clientKey().pem }, proofOfPossession: '***' } }, 400, 'ENCODING_INVALID', /not valid base64/);
    await refused(signingCertBody('a.b.c', clientKey(), 'x'), 401, 'UNAUTHORIZED', /not a JWT/);
    await refused({ credentials: { oidcIdentityToken: token }, publicKeyRequest: { publicKey: { content: 'bm90IGEga2V5' }, proofOfPossession: 'AA==' } }, 400, 'KEY_MALFORMED', /public key/);
  });

  test('weak client key (RSA-1024) is refused', async () => {
    const token = await stack.oidc.mint();
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const body = {
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: { publicKey: { content: publicKey.export({ type: 'spki', format: 'pem' }) }, proofOfPossession: sign('sha256', Buffer.from('dev@sigil.local'), privateKey).toString('base64') },
    };
    await refused(body, 400, 'KEY_UNSUPPORTED', /1024-bit RSA/);
  });

  test('request body over the size limit is refused with 413 before it is parsed', async () => {
    const { status, json } = await postJson(url, { padding: 'x'.repeat(70 * 1024) });
    assert.equal(status, 413);
    assert.match(String(json.message), /exceeds the limit/);
  });

  test('rate limit: a client over its budget gets 429', async () => {
    const ca = new CertificateAuthority({ issuer: stack.ca.issuer, config: parseCaConfig({ issuers: [{ url: stack.urls.oidc }], rateLimit: { perSecond: 1, burst: 2 } }) });
    const server = await listen(caHandler(ca), 0);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(`${server.url}/api/v2/configuration`)).status);
      assert.deepEqual(statuses.slice(0, 2), [200, 200]);
      assert.equal(statuses[3], 429);
    } finally {
      await server.close();
    }
  });

  test('allowed identities still get certificates: email rule and GitHub Actions workflow with CI extensions .9-.22', async () => {
    const alice = await restricted.issuer.mint();
    const ok = await postJson(url, signingCertBody(alice, clientKey(), 'alice@example.com'));
    assert.equal(ok.status, 200, JSON.stringify(ok.json));

    const wf = await github.issuer.mint({ claims: GITHUB_CLAIMS });
    const res = await postJson(url, signingCertBody(wf, clientKey(), 'repo:sigil/demo:ref:refs/tags/v1.0.0'));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const pem = (res.json.signedCertificateEmbeddedSct as { chain: { certificates: string[] } }).chain.certificates[0]!;
    const leaf = Certificate.fromPem(pem);
    const signer = 'https://github.com/sigil/demo/.github/workflows/release.yml@refs/tags/v1.0.0';
    assert.deepEqual(leaf.subjectAlternativeNames(), [{ type: 'uri', value: signer }]);
    const f = leaf.fulcio();
    assert.equal(f.issuer, github.issuer.issuerUrl);
    assert.equal(f.buildSignerUri, signer);
    assert.equal(f.buildSignerDigest, 'a'.repeat(40));
    assert.equal(f.runnerEnvironment, 'github-hosted');
    assert.equal(f.sourceRepositoryUri, 'https://github.com/sigil/demo');
    assert.equal(f.sourceRepositoryDigest, 'b'.repeat(40));
    assert.equal(f.sourceRepositoryRef, 'refs/tags/v1.0.0');
    assert.equal(f.sourceRepositoryIdentifier, '1234');
    assert.equal(f.sourceRepositoryOwnerUri, 'https://github.com/sigil');
    assert.equal(f.sourceRepositoryOwnerIdentifier, '5678');
    assert.equal(f.buildConfigUri, signer);
    assert.equal(f.buildConfigDigest, 'c'.repeat(40));
    assert.equal(f.buildTrigger, 'push');
    assert.equal(f.runInvocationUri, 'https://github.com/sigil/demo/actions/runs/42/attempts/1');
    assert.equal(f.sourceRepositoryVisibilityAtSigning, 'public');
    assert.equal(f.githubWorkflowRepository, 'sigil/demo');

    const missing = await github.issuer.mint({ claims: { ...GITHUB_CLAIMS, run_id: undefined } });
    await refused(signingCertBody(missing, clientKey(), 'repo:sigil/demo:ref:refs/tags/v1.0.0'), 403, 'IDENTITY_MISMATCH', /lacks the run_id claim/);
  });
});
