/**
 * Identity policy for keyless (Fulcio) signatures: who must have signed. A certificate chain to a
 * trusted CA only proves that *someone* with an OIDC token signed; without an identity check any
 * GitHub user's workflow would pass. So verification of a certificate bundle always needs a
 * policy with at least the SAN and the OIDC issuer.
 *
 * Matching follows cosign (`--certificate-identity[-regexp]`, `--certificate-oidc-issuer[-regexp]`):
 * exact values compare whole strings; regular expressions are searched, not anchored, exactly like
 * Go's regexp.MatchString in cosign, so write `^...$` to pin the whole value.
 */
import { SigilError } from '../core/errors.js';
import type { FulcioExtensions, FulcioField } from '../x509/fulcio.js';

export type StringMatcher = { exact: string } | { regexp: RegExp };

export interface IdentityPolicy {
  /** Subject alternative name of the signing certificate (email, URI or other name). */
  subjectAlternativeName?: StringMatcher;
  /** OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8, or .1 in older certificates). */
  issuer?: StringMatcher;
  /** Any other Fulcio extension, by its name in `FulcioExtensions`. */
  extensions?: Partial<Record<FulcioField, StringMatcher>>;
}

/** What a verified certificate says about its holder. Plain data, so it crosses worker threads. */
export interface SignerIdentity {
  subjectAlternativeNames: string[];
  extensions: FulcioExtensions;
}

/** Builds a matcher from an exact value and/or a regexp source; at most one may be given. */
export function stringMatcher(exact: string | undefined, regexp: string | undefined, what: string): StringMatcher | undefined {
  if (exact !== undefined && regexp !== undefined) {
    throw new SigilError('POLICY_MALFORMED', `give either an exact ${what} or a ${what} regexp, not both`);
  }
  if (exact !== undefined) {
    if (exact === '') throw new SigilError('POLICY_MALFORMED', `the expected ${what} is empty`);
    return { exact };
  }
  if (regexp !== undefined) {
    try {
      return { regexp: new RegExp(regexp, 'u') };
    } catch (e) {
      throw new SigilError('POLICY_MALFORMED', `the ${what} regexp ${JSON.stringify(regexp)} is invalid: ${(e as Error).message}`, { cause: e });
    }
  }
  return undefined;
}

export function matches(m: StringMatcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  return 'exact' in m ? m.exact === value : m.regexp.test(value);
}

export function describeMatcher(m: StringMatcher): string {
  return 'exact' in m ? JSON.stringify(m.exact) : `/${m.regexp.source}/`;
}

/** Throws IDENTITY_MISMATCH naming the first requirement the signer does not meet. */
export function checkIdentity(policy: IdentityPolicy, signer: SignerIdentity): void {
  const san = policy.subjectAlternativeName;
  if (san && !signer.subjectAlternativeNames.some((v) => matches(san, v))) {
    throw new SigilError('IDENTITY_MISMATCH', `certificate identity ${signer.subjectAlternativeNames.map((s) => JSON.stringify(s)).join(', ') || '(none)'} does not match ${describeMatcher(san)}`, {
      hint: 'check --certificate-identity; the bundle was signed by someone else',
    });
  }
  const iss = policy.issuer;
  if (iss && !matches(iss, signer.extensions.issuer)) {
    throw new SigilError('IDENTITY_MISMATCH', `certificate OIDC issuer ${JSON.stringify(signer.extensions.issuer ?? '(none)')} does not match ${describeMatcher(iss)}`, {
      hint: 'check --certificate-oidc-issuer',
    });
  }
  for (const [name, m] of Object.entries(policy.extensions ?? {}) as [FulcioField, StringMatcher | undefined][]) {
    if (m && !matches(m, signer.extensions[name])) {
      throw new SigilError('IDENTITY_MISMATCH', `certificate extension ${name} ${JSON.stringify(signer.extensions[name] ?? '(absent)')} does not match ${describeMatcher(m)}`);
    }
  }
}

/** True when the policy constrains who signed (SAN and issuer both set), which a certificate bundle requires. */
export function isCompleteIdentityPolicy(p: IdentityPolicy | undefined): boolean {
  return !!p && p.subjectAlternativeName !== undefined && p.issuer !== undefined;
}
