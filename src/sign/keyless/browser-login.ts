/**
 * Interactive OIDC login for keyless signing: the authorization code flow with PKCE (RFC 7636) and
 * a loopback redirect (RFC 8252 §7.3), as cosign and sigstore-js do it. A one-shot HTTP server on
 * 127.0.0.1 receives the redirect; `state` ties the answer to this login (CSRF) and the ID token
 * must carry this login's `nonce` (replay of another login's token).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { SigilError } from '../../core/errors.js';
import { isObject } from '../../core/json.js';

export interface BrowserLoginOptions {
  issuer: string;
  clientId?: string;
  /** Opens the authorization URL (a browser, or a test that follows redirects). */
  openUrl: (url: string) => void | Promise<void>;
  /** Tells the user what is happening (the URL, in case no browser opens). */
  say: (line: string) => void;
  timeoutMs?: number;
}

async function discover(issuer: string): Promise<{ authorization: string; token: string }> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let doc: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = await res.json();
  } catch (e) {
    throw new SigilError('NETWORK', `cannot read the OIDC discovery document ${url}: ${(e as Error).message}`, { cause: e, hint: 'check --oidc-issuer' });
  }
  if (!isObject(doc) || typeof doc.authorization_endpoint !== 'string' || typeof doc.token_endpoint !== 'string') {
    throw new SigilError('NETWORK', `${url} lacks authorization_endpoint or token_endpoint`);
  }
  return { authorization: doc.authorization_endpoint, token: doc.token_endpoint };
}

function page(text: string): string {
  return `<!doctype html><meta charset="utf-8"><title>sigil</title><p>${text.replace(/[<>&]/g, '')}</p>`;
}

export async function browserLogin(opts: BrowserLoginOptions): Promise<string> {
  const clientId = opts.clientId ?? 'sigstore';
  const endpoints = await discover(opts.issuer);
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');

  let server: Server | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const codeP = new Promise<{ code: string; redirectUri: string }>((resolve, reject) => {
      server = createServer((req, res) => {
        const u = new URL(req.url ?? '/', 'http://127.0.0.1');
        if (u.pathname !== '/auth/callback') {
          res.writeHead(404).end();
          return;
        }
        const err = u.searchParams.get('error');
        if (u.searchParams.get('state') !== state) {
          res.writeHead(400, { 'content-type': 'text/html' }).end(page('Login failed: state mismatch.'));
          reject(new SigilError('UNAUTHORIZED', 'OIDC login answered with a wrong state (possible CSRF)', { hint: 'start the login again' }));
          return;
        }
        const code = u.searchParams.get('code');
        if (err || !code) {
          res.writeHead(400, { 'content-type': 'text/html' }).end(page('Login failed.'));
          reject(new SigilError('UNAUTHORIZED', `OIDC login failed: ${err ?? 'no authorization code'} ${u.searchParams.get('error_description') ?? ''}`.trim()));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html' }).end(page('sigil: login complete, you can close this tab.'));
        const addr = server!.address() as AddressInfo;
        resolve({ code, redirectUri: `http://127.0.0.1:${addr.port}/auth/callback` });
      });
      server.listen(0, '127.0.0.1');
      timer = setTimeout(() => reject(new SigilError('UNAUTHORIZED', 'OIDC login timed out', { hint: 'finish the login in the browser, or pass --identity-token' })), opts.timeoutMs ?? 120_000);
    });
    await new Promise<void>((r) => server!.once('listening', () => r()));
    const port = (server!.address() as AddressInfo).port;
    const redirectUri = `http://127.0.0.1:${port}/auth/callback`;
    const auth = new URL(endpoints.authorization);
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid email', code_challenge: challenge, code_challenge_method: 'S256', state, nonce })) {
      auth.searchParams.set(k, v);
    }
    opts.say(`Opening the browser for OIDC login. If it does not open, visit:\n  ${auth.toString()}`);
    await opts.openUrl(auth.toString());
    const { code } = await codeP;
    const res = await fetch(endpoints.token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: clientId }),
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await res.json().catch(() => undefined)) as unknown;
    if (!res.ok || !isObject(json) || typeof json.id_token !== 'string') {
      throw new SigilError('UNAUTHORIZED', `the OIDC token endpoint refused the code exchange (HTTP ${res.status})`, { hint: 'start the login again' });
    }
    let claims: Record<string, unknown>;
    try {
      claims = decodeJwt(json.id_token);
    } catch (e) {
      throw new SigilError('UNAUTHORIZED', 'the OIDC provider returned an ID token that is not a JWT', { cause: e });
    }
    if (claims.nonce !== nonce) throw new SigilError('UNAUTHORIZED', 'the ID token does not carry this login\'s nonce (replayed token)', { hint: 'start the login again' });
    return json.id_token;
  } finally {
    if (timer) clearTimeout(timer);
    server?.close();
  }
}
