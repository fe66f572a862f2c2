/**
 * From verified token claims to what goes into the certificate: the subject alternative name,
 * the Fulcio extensions (fulcio docs/oid-info.md) and the claim the proof of possession must sign.
 * The per-issuer identity rules of the configuration are enforced here, before any key or
 * certificate work, so a disallowed identity costs the CA almost nothing.
 */
import { SigilError } from '../../core/errors.js';
import { utf8String } from '../pki/der.js';
import { extension, type SanEntry } from '../pki/certificate-builder.js';
import { FULCIO_EXTENSIONS, type FulcioField } from '../../x509/fulcio.js';
import type { IssuerConfig } from './config.js';
import type { VerifiedToken } from './token-verifier.js';

/** OID of a Fulcio extension by field name (src/x509/fulcio.ts holds the table, fulcio docs/oid-info.md). */
const FULCIO_OID = Object.fromEntries(Object.entries(FULCIO_EXTENSIONS).map(([k, [oid]]) => [k, oid])) as Record<FulcioField, string>;

export interface Principal {
  san: SanEntry;
  /** The exact string the proof of possession signs (Fulcio's challenge claim). */
  challenge: string;
  /** DER Extension encodings to add to the certificate. */
  extensions: Buffer[];
}

function refuse(message: string, hint?: string): SigilError {
  return new SigilError('IDENTITY_MISMATCH', message, { kind: 'input', ...(hint ? { hint } : {}) });
}

/** .1–.6 hold the raw string (deprecated form); .8 onwards a DER UTF8String. */
const rawExt = (oid: string, value: string) => extension(oid, false, Buffer.from(value, 'utf8'));
const utf8Ext = (oid: string, value: string) => extension(oid, false, utf8String(value));

function issuerExtensions(iss: string): Buffer[] {
  return [rawExt(FULCIO_OID.issuerV1, iss), utf8Ext(FULCIO_OID.issuerV2, iss)];
}

function checkPatterns(value: string, patterns: RegExp[], what: string, issuer: IssuerConfig): void {
  if (patterns.length && !patterns.some((p) => p.test(value))) {
    throw refuse(`${what} '${value}' is not allowed for issuer ${issuer.url}`, 'this CA only certifies the identities its configuration lists for the issuer');
  }
}

function claimString(claims: Record<string, unknown>, name: string, issuer: IssuerConfig): string {
  const v = claims[name];
  if (typeof v !== 'string' || v === '') throw refuse(`token of ${issuer.url} lacks the ${name} claim`);
  return v;
}

/** Joins path segments onto a base URL the way Fulcio's url.JoinPath does (no double slashes). */
function joinUrl(base: string, ...parts: string[]): string {
  return [base.replace(/\/+$/, ''), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ''))].join('/');
}

export function principalFor(token: VerifiedToken): Principal {
  const { issuer, claims } = token;
  const sub = claimString(claims, 'sub', issuer);
  checkPatterns(sub, issuer.allowedSubjects, 'subject', issuer);
  switch (issuer.type) {
    case 'email': {
      const email = claimString(claims, 'email', issuer);
      // Fulcio requires the issuer to vouch for the address; an unverified email proves nothing.
      if (claims.email_verified !== true) throw refuse(`email ${email} is not verified by ${issuer.url}`, 'verify the address with the identity provider');
      if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw refuse(`email claim '${email}' is not an email address`);
      checkPatterns(email, issuer.allowedEmails, 'email', issuer);
      return { san: { type: 'email', value: email }, challenge: email, extensions: issuerExtensions(issuer.url) };
    }
    case 'uri': {
      let u: URL;
      try {
        u = new URL(sub);
      } catch {
        throw refuse(`subject '${sub}' is not a URI, which issuer ${issuer.url} must provide`);
      }
      if (issuer.subjectDomain !== undefined && u.hostname !== issuer.subjectDomain) {
        throw refuse(`subject URI host ${u.hostname} is not ${issuer.subjectDomain}`);
      }
      return { san: { type: 'uri', value: sub }, challenge: sub, extensions: issuerExtensions(issuer.url) };
    }
    case 'github-workflow': {
      const c = (n: string) => claimString(claims, n, issuer);
      const base = issuer.serverUrl;
      const jobWorkflowRef = c('job_workflow_ref');
      const repository = c('repository');
      const signerUri = joinUrl(base, jobWorkflowRef);
      const eventName = c('event_name');
      const sha = c('sha');
      const ref = c('ref');
      const extensions = [
        ...issuerExtensions(issuer.url),
        rawExt(FULCIO_OID.githubWorkflowTrigger, eventName),
        rawExt(FULCIO_OID.githubWorkflowSha, sha),
        rawExt(FULCIO_OID.githubWorkflowName, c('workflow')),
        rawExt(FULCIO_OID.githubWorkflowRepository, repository),
        rawExt(FULCIO_OID.githubWorkflowRef, ref),
        utf8Ext(FULCIO_OID.buildSignerUri, signerUri),
        utf8Ext(FULCIO_OID.buildSignerDigest, c('job_workflow_sha')),
        utf8Ext(FULCIO_OID.runnerEnvironment, c('runner_environment')),
        utf8Ext(FULCIO_OID.sourceRepositoryUri, joinUrl(base, repository)),
        utf8Ext(FULCIO_OID.sourceRepositoryDigest, sha),
        utf8Ext(FULCIO_OID.sourceRepositoryRef, ref),
        utf8Ext(FULCIO_OID.sourceRepositoryIdentifier, c('repository_id')),
        utf8Ext(FULCIO_OID.sourceRepositoryOwnerUri, joinUrl(base, c('repository_owner'))),
        utf8Ext(FULCIO_OID.sourceRepositoryOwnerIdentifier, c('repository_owner_id')),
        utf8Ext(FULCIO_OID.buildConfigUri, joinUrl(base, c('workflow_ref'))),
        utf8Ext(FULCIO_OID.buildConfigDigest, c('workflow_sha')),
        utf8Ext(FULCIO_OID.buildTrigger, eventName),
        utf8Ext(FULCIO_OID.runInvocationUri, joinUrl(base, repository, 'actions/runs', c('run_id'), 'attempts', c('run_attempt'))),
        utf8Ext(FULCIO_OID.sourceRepositoryVisibilityAtSigning, c('repository_visibility')),
      ];
      return { san: { type: 'uri', value: signerUri }, challenge: sub, extensions };
    }
  }
}
