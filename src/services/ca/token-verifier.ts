/**
 * OIDC identity token verification for the CA (fulcio docs/how-certificate-issuing-works.md §2):
 * the `iss` claim selects an issuer from the allow-list, the issuer's discovery document names its
 * JWKS, and the token's signature, audience and validity window are checked with `jose`.
 *
 * Attacks this shuts out, each with its own error message:
 * - `alg: none` and HMAC (`HS256` signed with the issuer's *public* key as the secret, the classic
 *   key-confusion forgery): only asymmetric algorithms are accepted, checked before any key lookup;
 * - an issuer that is not on the allow-list, or a discovery document that names another issuer
 *   (OpenID Connect Discovery §4.3);
 * - tokens for another audience, expired, not yet valid, or issued in the future (beyond the skew).
 *
 * Discovery documents and key sets are cached (10 min) so a busy CA does one fetch per issuer,
 * not one per certificate; a token with an unknown `kid` triggers a refetch at most every 30 s
 * (jose's cooldown), so key rotation works and a flood of bogus kids cannot hammer the issuer.
 */
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { SigilError } from '../../core/errors.js';
import { isObject } from '../../core/json.js';
import type { CaConfig, IssuerConfig } from './config.js';

/** RFC 7518 §3.1 asymmetric signature algorithms (plus RFC 8037 EdDSA). */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const DISCOVERY_TTL_MS = 10 * 60_000;
/** An ID token is a few KiB at most; anything far larger is not one. */
const MAX_TOKEN_LENGTH = 16 * 1024;

export interface VerifiedToken {
  issuer: IssuerConfig;
  claims: JWTPayload & Record<string, unknown>;
}

function refuse(message: string, hint?: string, cause?: unknown): SigilError {
  return new SigilError('UNAUTHORIZED', message, { ...(hint ? { hint } : {}), ...(cause ? { cause } : {}) });
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;

export class TokenVerifier {
  private readonly keySets = new Map<string, { jwks: KeySet; expires: number }>();
  private readonly pending = new Map<string, Promise<KeySet>>();

  constructor(
    private readonly config: CaConfig,
    private readonly now: () => number = Date.now,
  ) {}

  private issuerFor(iss: string): IssuerConfig {
    const found = this.config.issuers.find((i) => i.url === iss);
    if (!found) {
      throw refuse(`token issuer '${iss}' is not on this CA's allow-list`, 'use a token from one of the issuers listed by GET /api/v2/configuration');
    }
    return found;
  }

  private async keySet(issuer: IssuerConfig): Promise<KeySet> {
    const cached = this.keySets.get(issuer.url);
    if (cached && cached.expires > this.now()) return cached.jwks;
    let p = this.pending.get(issuer.url);
    if (!p) {
      p = this.discover(issuer).finally(() => this.pending.delete(issuer.url));
      this.pending.set(issuer.url, p);
    }
    return p;
  }

  private async discover(issuer: IssuerConfig): Promise<KeySet> {
    const url = `${issuer.url.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let doc: unknown;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = await res.json();
    } catch (e) {
      throw refuse(`cannot fetch the discovery document of issuer ${issuer.url}: ${(e as Error).message}`, 'the issuer may be down; retry later', e);
    }
    if (!isObject(doc) || doc.issuer !== issuer.url || typeof doc.jwks_uri !== 'string') {
      throw refuse(`discovery document of ${issuer.url} is invalid or names another issuer`, 'check the issuer URL in the CA configuration');
    }
    let jwksUrl: URL;
    try {
      jwksUrl = new URL(doc.jwks_uri);
    } catch {
      throw refuse(`discovery document of ${issuer.url} has an invalid jwks_uri`);
    }
    const jwks = createRemoteJWKSet(jwksUrl, { cacheMaxAge: DISCOVERY_TTL_MS, cooldownDuration: 30_000, timeoutDuration: 5000 });
    this.keySets.set(issuer.url, { jwks, expires: this.now() + DISCOVERY_TTL_MS });
    return jwks;
  }

  async verify(token: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0) throw refuse('no identity token in the request', 'send credentials.oidcIdentityToken');
    if (token.length > MAX_TOKEN_LENGTH) throw refuse(`identity token is ${token.length} bytes, more than ${MAX_TOKEN_LENGTH}`);
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch (e) {
      throw refuse(`identity token is not a JWT: ${(e as Error).message}`, 'pass the raw ID token (three base64url parts)', e);
    }
    const alg = header.alg;
    if (alg === undefined || alg.toLowerCase() === 'none') {
      throw refuse('identity token is unsigned (alg: none)', 'tokens must be signed by the issuer');
    }
    if (/^HS\d+$/.test(alg)) {
      throw refuse(`identity token uses the symmetric algorithm ${alg}, which is refused`, 'ID tokens must be signed with the issuer\'s asymmetric key');
    }
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) throw refuse(`identity token algorithm ${alg} is not supported`);
    if (typeof unverified.iss !== 'string') throw refuse('identity token has no iss claim');
    const issuer = this.issuerFor(unverified.iss);
    const jwks = await this.keySet(issuer);
    const skew = this.config.clockSkewSeconds;
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, jwks, {
        issuer: issuer.url,
        audience: issuer.audience,
        algorithms: ASYMMETRIC_ALGORITHMS,
        clockTolerance: skew,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (e) {
      throw this.explain(e, issuer, unverified, header.kid);
    }
    const nowSec = Math.floor(this.now() / 1000);
    if (typeof claims.iat === 'number' && claims.iat > nowSec + skew) {
      throw refuse(`identity token was issued in the future (iat ${new Date(claims.iat * 1000).toISOString()})`, 'check the issuer\'s clock');
    }
    return { issuer, claims: claims as VerifiedToken['claims'] };
  }

  private explain(e: unknown, issuer: IssuerConfig, unverified: JWTPayload, kid: string | undefined): SigilError {
    if (e instanceof errors.JWTExpired) {
      return refuse(`identity token expired at ${new Date((unverified.exp ?? 0) * 1000).toISOString()}`, 'get a fresh token', e);
    }
    if (e instanceof errors.JWTClaimValidationFailed) {
      if (e.claim === 'aud') return refuse(`identity token audience ${JSON.stringify(unverified.aud)} is not '${issuer.audience}'`, `request the token with audience ${issuer.audience}`, e);
      if (e.claim === 'nbf') return refuse(`identity token is not valid before ${new Date((unverified.nbf ?? 0) * 1000).toISOString()}`, 'check the clocks', e);
      return refuse(`identity token claim ${e.claim} is invalid: ${e.message}`, undefined, e);
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) {
      return refuse(`identity token signature does not verify with the keys of ${issuer.url}`, 'the token was altered or not issued by this issuer', e);
    }
    if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) {
      return refuse(`no key of ${issuer.url} matches the token (kid ${kid === undefined ? 'absent' : JSON.stringify(kid)})`, 'the token was not issued by this issuer', e);
    }
    if (e instanceof errors.JOSEAlgNotAllowed) return refuse(`identity token algorithm is not allowed: ${e.message}`, undefined, e);
    if (e instanceof errors.JWKSTimeout || e instanceof errors.JOSEError) {
      return refuse(`identity token rejected: ${(e as Error).message}`, undefined, e);
    }
    return refuse(`identity token rejected: ${(e as Error)?.message ?? String(e)}`, undefined, e);
  }
}
