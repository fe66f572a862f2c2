import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { DevOidcIssuer } from '../../src/services/oidc-dev/issuer.js';
import { devOidcHandler } from '../../src/services/oidc-dev/server.js';
import { listen, type RunningServer } from '../../src/services/http.js';

describe('development OIDC issuer', () => {
  let server: RunningServer;
  let issuer: DevOidcIssuer;

  before(async () => {
    const holder: { handler?: ReturnType<typeof devOidcHandler> } = {};
    server = await listen((req, res) => holder.handler!(req, res), 0);
    issuer = new DevOidcIssuer(server.url, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { subject: 'dev', email: 'dev@sigil.local' });
    holder.handler = devOidcHandler(issuer);
  });
  after(async () => server.close());

  async function verify(token: string, audience = 'sigstore') {
    const jwks = (await (await fetch(`${server.url}/keys`)).json()) as { keys: object[] };
    return (await jwtVerify(token, createLocalJWKSet(jwks as never), { issuer: server.url, audience })).payload;
  }

  test('discovery names the issuer, JWKS, authorization and token endpoints; tokens verify against the JWKS', async () => {
    const doc = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(doc.issuer, server.url);
    assert.equal(doc.jwks_uri, `${server.url}/keys`);
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
    const claims = await verify(await issuer.mint());
    assert.equal(claims.sub, 'dev');
    assert.equal(claims.email, 'dev@sigil.local');
    assert.equal(claims.email_verified, true);
    assert.equal((claims.exp as number) - (claims.iat as number), 600);
  });

  test('client_credentials grant mints a token for a named subject (a workload identity has no email)', async () => {
    const res = await fetch(`${server.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&subject=https%3A%2F%2Fci.example%2Fjob%2F1' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { id_token: string };
    const claims = await verify(body.id_token);
    assert.equal(claims.sub, 'https://ci.example/job/1');
    assert.equal(claims.email, undefined);
  });

  test('authorization code + PKCE: redirect to the loopback URI with state, code exchanged once with the right verifier', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirect = 'http://127.0.0.1:9/callback';
    const auth = await fetch(`${server.url}/authorize?response_type=code&client_id=sigstore&redirect_uri=${encodeURIComponent(redirect)}&code_challenge=${challenge}&code_challenge_method=S256&state=xyz&nonce=n1`, { redirect: 'manual' });
    assert.equal(auth.status, 302);
    const loc = new URL(auth.headers.get('location')!);
    assert.equal(`${loc.origin}${loc.pathname}`, redirect);
    assert.equal(loc.searchParams.get('state'), 'xyz');
    const code = loc.searchParams.get('code')!;
    const exchange = (v: string) =>
      fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: v, redirect_uri: redirect, client_id: 'sigstore' }) });
    const wrong = await exchange(randomBytes(32).toString('base64url'));
    assert.equal(wrong.status, 400, 'a wrong verifier is refused (and burns the code)');
    const again = await exchange(verifier);
    assert.equal(again.status, 400, 'codes are single use');
    assert.match(((await again.json()) as { message: string }).message, /invalid_grant/);
  });

  test('authorization code + PKCE happy path returns an ID token carrying the nonce', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirect = 'http://localhost:8123/cb';
    const auth = await fetch(`${server.url}/authorize?response_type=code&client_id=sigstore&redirect_uri=${encodeURIComponent(redirect)}&code_challenge=${challenge}&code_challenge_method=S256&nonce=abc`, { redirect: 'manual' });
    const code = new URL(auth.headers.get('location')!).searchParams.get('code')!;
    const res = await fetch(`${server.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirect, client_id: 'sigstore' }) });
    assert.equal(res.status, 200);
    const claims = await verify(((await res.json()) as { id_token: string }).id_token);
    assert.equal(claims.nonce, 'abc');
  });

  test('refuses non-loopback redirects, missing PKCE and unknown grants', async () => {
    const base = `${server.url}/authorize?response_type=code&client_id=sigstore&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&redirect_uri=`;
    assert.equal((await fetch(base + encodeURIComponent('https://evil.example/cb'), { redirect: 'manual' })).status, 400);
    assert.equal((await fetch(`${server.url}/authorize?response_type=code&redirect_uri=${encodeURIComponent('http://127.0.0.1:1/cb')}`, { redirect: 'manual' })).status, 400);
    assert.equal((await fetch(`${server.url}/token`, { method: 'POST', body: 'grant_type=password' })).status, 400);
    assert.equal((await fetch(`${server.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' })).status, 400);
  });
});
