/**
 * Step 6, policy: the verified signer must be who the caller expects. For certificate bundles the
 * policy must name both the identity (SAN) and the OIDC issuer; checking only the chain would
 * accept anyone with a GitHub or Google account. Key-signed bundles are bound to the caller's key
 * in the signing-key step, so they carry no identity to match here.
 */
import { SigilError } from '../core/errors.js';
import { checkIdentity, isCompleteIdentityPolicy } from '../trust/identity.js';
import type { SigningKey } from './signing-key.js';
import type { VerifyPolicy } from './types.js';

/** Fails before any crypto when a certificate bundle would be verified without an identity policy. */
export function requireIdentityPolicy(policy: VerifyPolicy): void {
  if (!isCompleteIdentityPolicy(policy.identity)) {
    throw new SigilError('USAGE', 'a certificate-signed bundle needs an expected identity and OIDC issuer', {
      hint: 'pass --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp)',
    });
  }
}

export function verifyPolicy(key: SigningKey, policy: VerifyPolicy): void {
  if (!key.identity) return;
  requireIdentityPolicy(policy);
  checkIdentity(policy.identity!, key.identity);
}
