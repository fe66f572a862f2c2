/**
 * HTTP face of the development OIDC issuer: OpenID Connect discovery, JWKS, an authorization
 * endpoint for the authorization-code + PKCE flow (RFC 7636) that approves at once, and a token
 * endpoint. Redirects go only to loopback addresses (RFC 8252 §7.3), codes are single-use,
 * bound to their PKCE challenge and redirect URI, and expire after 60 s.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError, RateLimiter, readBody, router, sendJson, type Route } from '../http.js';
import type { DevOidcIssuer } from './issuer.js';

const CODE_TTL_MS = 60_000;
const MAX_BODY = 16 * 1024;

interface PendingCode {
  challenge: string;
  redirectUri: string;
  clientId: string;
  nonce: string | undefined;
  expires: number;
}

function isLoopbackRedirect(uri: string): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  return u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]');
}

async function readParams(req: IncomingMessage): Promise<URLSearchParams> {
  const body = (await readBody(req, MAX_BODY)).toString('utf8');
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/json')) {
    let obj: unknown;
    try {
      obj = JSON.parse(body);
    } catch {
      throw new HttpError(400, 'JSON_MALFORMED', 'token request body is not valid JSON');
    }
    const p = new URLSearchParams();
    if (typeof obj === 'object' && obj !== null) {
      for (const [k, v] of Object.entries(obj)) if (typeof v === 'string') p.set(k, v);
    }
    return p;
  }
  return new URLSearchParams(body);
}

/** OAuth 2.0 error body (RFC 6749 §5.2). */
function oauthError(status: number, error: string, description: string): HttpError {
  return new HttpError(status, 'UNAUTHORIZED', `${error}: ${description}`);
}

export function devOidcRoutes(issuer: DevOidcIssuer): Route[] {
  const codes = new Map<string, PendingCode>();
  const sweep = () => {
    const now = Date.now();
    for (const [k, v] of codes) if (v.expires < now) codes.delete(k);
  };
  return [
    {
      method: 'GET',
      path: '/.well-known/openid-configuration',
      handler: (_req, res) => sendJson(res, 200, issuer.discovery(), { 'cache-control': 'max-age=300' }),
    },
    {
      method: 'GET',
      path: '/keys',
      handler: async (_req, res) => sendJson(res, 200, await issuer.jwks(), { 'cache-control': 'max-age=300' }),
    },
    {
      method: 'GET',
      path: '/authorize',
      handler: (_req, res, url) => {
        const q = url.searchParams;
        const redirectUri = q.get('redirect_uri') ?? '';
        if (!isLoopbackRedirect(redirectUri)) {
          throw new HttpError(400, 'USAGE', 'redirect_uri must be an http loopback address (127.0.0.1, localhost or [::1])');
        }
        if (q.get('response_type') !== 'code') throw new HttpError(400, 'USAGE', 'response_type must be code');
        const challenge = q.get('code_challenge') ?? '';
        if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
          throw new HttpError(400, 'USAGE', 'PKCE is required: code_challenge (S256, 43 base64url characters) and code_challenge_method=S256');
        }
        sweep();
        if (codes.size > 10_000) throw new HttpError(429, 'USAGE', 'too many pending authorization codes');
        const code = randomBytes(24).toString('base64url');
        codes.set(code, { challenge, redirectUri, clientId: q.get('client_id') ?? '', nonce: q.get('nonce') ?? undefined, expires: Date.now() + CODE_TTL_MS });
        const target = new URL(redirectUri);
        target.searchParams.set('code', code);
        const state = q.get('state');
        if (state !== null) target.searchParams.set('state', state);
        res.writeHead(302, { location: target.toString(), 'content-type': 'text/plain' });
        res.end(`development issuer: approved ${issuer.identity.email ?? issuer.identity.subject} without authentication\n`);
      },
    },
    {
      method: 'POST',
      path: '/token',
      handler: async (req, res) => {
        const p = await readParams(req);
        const grant = p.get('grant_type');
        let token: string;
        if (grant === 'authorization_code') {
          const code = p.get('code') ?? '';
          const pending = codes.get(code);
          codes.delete(code); // single use, whatever happens next
          if (!pending || pending.expires < Date.now()) throw oauthError(400, 'invalid_grant', 'unknown or expired authorization code');
          if (p.get('redirect_uri') !== pending.redirectUri) throw oauthError(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
          if ((p.get('client_id') ?? '') !== pending.clientId) throw oauthError(400, 'invalid_grant', 'client_id differs from the authorization request');
          const verifier = p.get('code_verifier') ?? '';
          if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) throw oauthError(400, 'invalid_request', 'code_verifier must be 43-128 unreserved characters');
          const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
          const expected = Buffer.from(pending.challenge);
          if (computed.length !== expected.length || !timingSafeEqual(computed, expected)) {
            throw oauthError(400, 'invalid_grant', 'code_verifier does not match the code_challenge');
          }
          token = await issuer.mint({ audience: pending.clientId || undefined, ...(pending.nonce ? { claims: { nonce: pending.nonce } } : {}) });
        } else if (grant === 'client_credentials') {
          // Development shortcut: the caller may name the subject and audience it wants.
          const subject = p.get('subject') ?? undefined;
          const email = p.get('email');
          token = await issuer.mint({
            ...(subject !== undefined ? { subject } : {}),
            ...(email !== null ? { email } : {}),
            ...(p.get('audience') ? { audience: p.get('audience')! } : {}),
          });
        } else {
          throw oauthError(400, 'unsupported_grant_type', 'grant_type must be authorization_code or client_credentials');
        }
        sendJson(res, 200, { access_token: token, id_token: token, token_type: 'Bearer', expires_in: 600 }, { 'cache-control': 'no-store' });
      },
    },
  ];
}

export function devOidcHandler(issuer: DevOidcIssuer, rateLimiter = new RateLimiter(200, 400)) {
  return router(devOidcRoutes(issuer), { name: 'oidc-dev', rateLimiter });
}
