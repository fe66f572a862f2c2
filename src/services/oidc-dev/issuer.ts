/**
 * A development OpenID Connect issuer: a discovery document, a JWKS and ID tokens (ES256) for a
 * configured identity. It authenticates nobody, so it exists for local stacks and tests only;
 * the CA treats it as one more issuer on its allow-list and verifies its tokens exactly like
 * GitHub's or Google's (discovery → JWKS → signature → claims).
 */
import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, type JWK } from 'jose';
import { SigilError } from '../../core/errors.js';

/** Printed by every entry point that starts or uses the issuer. */
export const DEV_ISSUER_WARNING =
  'development OIDC issuer: it hands a token to anyone who asks, for local use and tests only; never put it on a CA allow-list outside a dev stack';

export interface DevIdentity {
  subject: string;
  /** When set, the token carries `email` and `email_verified: true` (an email identity for the CA). */
  email?: string;
}

export interface MintOptions {
  subject?: string;
  email?: string | null;
  audience?: string;
  /** Lifetime in seconds (default 600). */
  ttlSeconds?: number;
  /** Extra claims (CI claims such as GitHub's job_workflow_ref, or a nonce). */
  claims?: Record<string, unknown>;
  /** Overrides for tests that need expired or future-dated tokens. */
  issuedAt?: number;
  notBefore?: number;
}

export class DevOidcIssuer {
  readonly kid: string;
  readonly publicKey: KeyObject;
  private jwksCache: { keys: JWK[] } | undefined;

  /**
   * @param issuerUrl  the `iss` of every token and base of the discovery document (no trailing slash)
   * @param privateKey the ES256 (P-256) signing key
   * @param identity   who the tokens are for unless a request names a subject
   */
  constructor(
    readonly issuerUrl: string,
    private readonly privateKey: KeyObject,
    readonly identity: DevIdentity,
    readonly defaultAudience = 'sigstore',
  ) {
    if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new SigilError('KEY_UNSUPPORTED', 'the development OIDC issuer signs with an ECDSA P-256 key (ES256)');
    }
    if (privateKey.type !== 'private') throw new SigilError('KEY_MALFORMED', 'the development OIDC issuer needs a private key');
    this.publicKey = createPublicKey(privateKey);
    // kid: first 16 hex digits of SHA-256 over the SPKI, stable across restarts with the same key.
    const pub = this.publicKey;
    this.kid = createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
  }

  discovery(): Record<string, unknown> {
    return {
      issuer: this.issuerUrl,
      jwks_uri: `${this.issuerUrl}/keys`,
      authorization_endpoint: `${this.issuerUrl}/authorize`,
      token_endpoint: `${this.issuerUrl}/token`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'client_credentials'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'email'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'email', 'email_verified'],
    };
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    if (!this.jwksCache) {
      const jwk = await exportJWK(this.publicKey);
      this.jwksCache = { keys: [{ ...jwk, kid: this.kid, alg: 'ES256', use: 'sig' }] };
    }
    return this.jwksCache;
  }

  /** Mints an ID token for the configured identity (or the subject/email given). */
  async mint(opts: MintOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const iat = opts.issuedAt ?? now;
    const subject = opts.subject ?? this.identity.subject;
    if (!subject) throw new SigilError('USAGE', 'a token needs a subject');
    // A subject given without an email is a workload identity (URI SAN); otherwise use the configured email.
    const email = opts.email === null ? undefined : (opts.email ?? (opts.subject === undefined ? this.identity.email : undefined));
    const claims: Record<string, unknown> = { ...(opts.claims ?? {}) };
    if (email !== undefined) {
      claims.email = email;
      // Tests of the CA ask for unverified emails explicitly; otherwise the issuer vouches for it.
      if (claims.email_verified === undefined) claims.email_verified = true;
    }
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: this.kid, typ: 'JWT' })
      .setIssuer(this.issuerUrl)
      .setSubject(subject)
      .setAudience(opts.audience ?? this.defaultAudience)
      .setIssuedAt(iat)
      .setNotBefore(opts.notBefore ?? iat)
      .setExpirationTime(iat + (opts.ttlSeconds ?? 600))
      .setJti(randomBytes(12).toString('base64url'));
    return jwt.sign(this.privateKey);
  }
}
