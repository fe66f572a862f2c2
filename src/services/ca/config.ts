/**
 * The CA's configuration: which OIDC issuers it trusts, what audience tokens must carry, how
 * long certificates live, and, per issuer, which identities may get a certificate at all.
 * Sigstore's public Fulcio has no per-issuer identity rules (fulcio#1989); a private CA usually
 * wants them ("only *@example.com", "only workflows of github.com/example/*"), so they are here.
 * Patterns are regular expressions matched against the whole value, compiled once at load so a
 * bad pattern fails the start, not a signing request.
 */
import { SigilError } from '../../core/errors.js';
import { isObject } from '../../core/json.js';

/**
 * How an issuer's tokens map to a certificate identity (Fulcio's issuer types):
 * - email: SAN rfc822Name from the verified `email` claim; the proof of possession signs the email.
 * - uri: SAN URI from `sub` (workload identities); the proof signs `sub`.
 * - github-workflow: SAN URI of the job workflow ref plus the CI extensions 1.3.6.1.4.1.57264.1.9–.22.
 */
export type IssuerType = 'email' | 'uri' | 'github-workflow';

export interface IssuerConfig {
  url: string;
  type: IssuerType;
  /** Expected `aud`; defaults to the CA-wide audience. */
  audience: string;
  /** `sub` must fully match one of these when given. */
  allowedSubjects: RegExp[];
  /** `email` must fully match one of these when given (email issuers). */
  allowedEmails: RegExp[];
  /** uri issuers: the subject URI's host must equal this domain when given. */
  subjectDomain: string | undefined;
  /** github-workflow issuers: base URL the workflow and repository paths hang from. */
  serverUrl: string;
}

export interface CaConfig {
  audience: string;
  /** Tolerated clock difference for exp/nbf/iat, seconds. */
  clockSkewSeconds: number;
  /** Lifetime of issued certificates, seconds (Fulcio: 10 minutes). */
  certificateValiditySeconds: number;
  issuers: IssuerConfig[];
  /** Largest accepted request body, bytes. */
  maxRequestBytes: number;
  /** Token bucket per client address. */
  rateLimit: { perSecond: number; burst: number };
}

const TYPES: readonly IssuerType[] = ['email', 'uri', 'github-workflow'];

function bad(msg: string): SigilError {
  return new SigilError('POLICY_MALFORMED', `CA configuration: ${msg}`, { hint: 'fix the CA configuration file' });
}

function compilePatterns(v: unknown, path: string): RegExp[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((p) => typeof p !== 'string')) throw bad(`${path} must be an array of regular expressions`);
  return (v as string[]).map((p) => {
    try {
      return new RegExp(`^(?:${p})$`, 'u');
    } catch (e) {
      throw bad(`${path}: '${p}' is not a valid regular expression (${(e as Error).message})`);
    }
  });
}

function num(o: Record<string, unknown>, key: string, def: number, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw bad(`${key} must be a number between ${min} and ${max}`);
  return v;
}

function issuerUrl(v: unknown, path: string): string {
  if (typeof v !== 'string') throw bad(`${path}.url must be a string`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(`${path}.url '${v}' is not a URL`);
  }
  // Plain http only for loopback: discovery over the network must be authenticated by TLS.
  const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw bad(`${path}.url must be https (http only on loopback)`);
  return v;
}

export function parseCaConfig(input: unknown): CaConfig {
  if (!isObject(input)) throw bad('the document must be a JSON object');
  const audience = input.audience === undefined ? 'sigstore' : input.audience;
  if (typeof audience !== 'string' || audience === '') throw bad('audience must be a non-empty string');
  const rawIssuers = input.issuers;
  if (!Array.isArray(rawIssuers) || rawIssuers.length === 0) throw bad('issuers must be a non-empty array');
  const seen = new Set<string>();
  const issuers = rawIssuers.map((r, i): IssuerConfig => {
    const path = `issuers[${i}]`;
    if (!isObject(r)) throw bad(`${path} must be an object`);
    const url = issuerUrl(r.url, path);
    if (seen.has(url)) throw bad(`${path}.url ${url} is listed twice`);
    seen.add(url);
    const type = r.type ?? 'email';
    if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) throw bad(`${path}.type must be one of ${TYPES.join(', ')}`);
    const aud = r.audience ?? audience;
    if (typeof aud !== 'string' || aud === '') throw bad(`${path}.audience must be a non-empty string`);
    if (r.subjectDomain !== undefined && typeof r.subjectDomain !== 'string') throw bad(`${path}.subjectDomain must be a string`);
    const serverUrl = r.serverUrl ?? 'https://github.com';
    if (typeof serverUrl !== 'string') throw bad(`${path}.serverUrl must be a string`);
    return {
      url,
      type: type as IssuerType,
      audience: aud,
      allowedSubjects: compilePatterns(r.allowedSubjects, `${path}.allowedSubjects`),
      allowedEmails: compilePatterns(r.allowedEmails, `${path}.allowedEmails`),
      subjectDomain: r.subjectDomain as string | undefined,
      serverUrl: serverUrl.replace(/\/+$/, ''),
    };
  });
  const rl = input.rateLimit;
  if (rl !== undefined && !isObject(rl)) throw bad('rateLimit must be an object');
  return {
    audience,
    clockSkewSeconds: num(input, 'clockSkewSeconds', 60, 0, 600),
    certificateValiditySeconds: num(input, 'certificateValiditySeconds', 600, 60, 86_400),
    issuers,
    maxRequestBytes: num(input, 'maxRequestBytes', 64 * 1024, 1024, 1024 * 1024),
    rateLimit: {
      perSecond: rl ? num(rl, 'perSecond', 2000, 1, 1e6) : 2000,
      burst: rl ? num(rl, 'burst', 4000, 1, 1e6) : 4000,
    },
  };
}

/** The configuration document as written to disk (patterns as their source strings). */
export function caConfigToJson(c: CaConfig): Record<string, unknown> {
  const src = (r: RegExp[]) => r.map((x) => x.source.slice(4, -2));
  return {
    audience: c.audience,
    clockSkewSeconds: c.clockSkewSeconds,
    certificateValiditySeconds: c.certificateValiditySeconds,
    maxRequestBytes: c.maxRequestBytes,
    rateLimit: c.rateLimit,
    issuers: c.issuers.map((i) => ({
      url: i.url,
      type: i.type,
      audience: i.audience,
      ...(i.allowedSubjects.length ? { allowedSubjects: src(i.allowedSubjects) } : {}),
      ...(i.allowedEmails.length ? { allowedEmails: src(i.allowedEmails) } : {}),
      ...(i.subjectDomain ? { subjectDomain: i.subjectDomain } : {}),
      ...(i.type === 'github-workflow' ? { serverUrl: i.serverUrl } : {}),
    })),
  };
}
