/**
 * Certificate chain validation at the signing time(s), against the trusted root's authorities.
 *
 * Sigstore certificates are short-lived (Fulcio: 10 minutes), so "valid now" is meaningless; the
 * question is whether the chain was valid when the signature was made, as attested by a log's
 * integrated time or an RFC 3161 timestamp. Every time in `at` must fall inside the authority's
 * `validFor` window (closed interval, like the trusted root's TimeRange) and inside every
 * certificate's notBefore/notAfter.
 *
 * Trust comes only from the authority's `certChain` (leaf-most first, root last), parsed once from
 * the trusted root. Intermediates carried in a bundle (v0.1/v0.2 `x509CertificateChain`) add no
 * trust: each must be byte-identical to the authority's certificate at that position, so a bundle
 * cannot splice an extra CA into the path. A bundle chain that contains a self-issued (root)
 * certificate is rejected outright, as sigstore-conformance `bundle-with-root-cert_fail` requires.
 *
 * Cost: the checks are byte comparisons and date compares, except signatures; the authority's own
 * links are verified once per process (cached on the Certificate objects), so a bundle costs one
 * signature check for its leaf (one P-384 verify for public-good Fulcio).
 */
import { SigilError } from '../core/errors.js';
import { KEY_USAGE, type Certificate } from './certificate.js';
import { OID_KP_CODE_SIGNING } from './oids.js';

export interface ValidityWindow {
  start: Date;
  /** Open-ended when absent. */
  end?: Date;
}

export interface CertificateAuthority {
  /** Leaf-most first, root last. */
  certChain: Certificate[];
  validFor: ValidityWindow;
}

export interface ChainOptions {
  /**
   * Extended key usage the leaf must allow. Default: code signing (Fulcio). When the leaf has no
   * EKU extension it is accepted unless `requireExtKeyUsage` is set (RFC 3161 §2.3 requires the
   * TSA certificate to carry id-kp-timeStamping).
   */
  extKeyUsage?: string;
  requireExtKeyUsage?: boolean;
}

/** True when `t` is inside the closed interval [start, end]. */
export function windowContains(w: ValidityWindow, t: Date): boolean {
  const ms = t.getTime();
  return ms >= w.start.getTime() && (w.end === undefined || ms <= w.end.getTime());
}

/**
 * Validates `leaf` (plus any bundle-carried intermediates) up to one of `authorities` at every time
 * in `at`, and returns the path: leaf first, then the authority's certificates up to its root.
 * Throws CERTIFICATE_CHAIN_INVALID when no authority issued the certificate (or a constraint fails),
 * CERTIFICATE_EXPIRED when an authority issued it but a time falls outside a certificate's validity.
 */
export function verifyCertificateChain(
  leaf: Certificate,
  bundleIntermediates: readonly Certificate[],
  authorities: readonly CertificateAuthority[],
  at: readonly Date[],
  options: ChainOptions = {},
): Certificate[] {
  if (at.length === 0) {
    throw chainError('no signing time to validate the certificate chain at', 'the bundle needs a verified log entry time or an RFC 3161 timestamp');
  }
  if (authorities.length === 0) throw chainError('the trusted root has no certificate authority', 'use a trusted root with certificateAuthorities');
  checkLeaf(leaf, options);
  for (const c of bundleIntermediates) {
    if (c.isSelfIssued) {
      // sigstore-conformance bundle-with-root-cert_fail: a bundle must not carry the root; trust
      // anchors come only from the trusted root. (sigstore-js accepts bundleV01-full-cert-chain,
      // which has one; conformance is the rule sigil follows.)
      throw chainError('the bundle certificate chain contains a self-signed root certificate', 'remove the root from the bundle chain; roots come from the trusted root');
    }
  }

  const reasons: string[] = [];
  let expired: string | undefined;
  for (const [n, ca] of authorities.entries()) {
    const r = tryAuthority(leaf, bundleIntermediates, ca, at);
    if (Array.isArray(r)) return r;
    reasons.push(`authority #${n + 1}: ${r.reason}`);
    if (r.expired && expired === undefined) expired = r.reason;
  }
  if (expired !== undefined) {
    throw new SigilError('CERTIFICATE_EXPIRED', `certificate chain was not valid at the signing time: ${expired}`, {
      hint: 'the signature was made outside the certificate validity period; it cannot be trusted',
    });
  }
  throw chainError(`no trusted certificate authority issued this certificate (${reasons.join('; ')})`, 'check that the trusted root matches the instance that issued the certificate');
}

interface Failure {
  reason: string;
  expired: boolean;
}

function tryAuthority(leaf: Certificate, bundleIntermediates: readonly Certificate[], ca: CertificateAuthority, at: readonly Date[]): Certificate[] | Failure {
  const chain = ca.certChain;
  if (chain.length === 0) return { reason: 'empty certificate chain', expired: false };
  // Where the leaf joins the authority's chain: either it is one of the chain's certificates (an
  // RFC 3161 TSA lists its signing certificate first), or its issuer is.
  let k = chain.findIndex((c) => c.der.equals(leaf.der));
  let path: Certificate[];
  if (k >= 0) {
    path = chain.slice(k);
  } else {
    // A self-signed leaf could only be "issued" by itself; trust must come from the authority.
    if (leaf.isSelfIssued) return { reason: 'the signing certificate is self-signed and not one of this authority\'s certificates', expired: false };
    k = chain.findIndex((c) => isIssuerOf(c, leaf));
    if (k < 0) return { reason: 'issuer name/key id matches no certificate of this authority', expired: false };
    path = [leaf, ...chain.slice(k)];
  }
  for (const [j, c] of bundleIntermediates.entries()) {
    if (!path[j + 1]?.der.equals(c.der)) {
      return { reason: `bundle intermediate #${j + 1} is not this authority's certificate at that position`, expired: false };
    }
  }

  // Structure and signatures first, so an unrelated certificate is never reported as "expired".
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    const issuer = path[i + 1];
    if (i > 0) {
      const bad = checkIssuerConstraints(c, i - 1, path);
      if (bad) return { reason: bad, expired: false };
    }
    if (issuer) {
      if (!c.verifySignedBy(issuer)) return { reason: `signature of certificate #${i + 1} does not verify with its issuer's key`, expired: false };
    } else if (c.isSelfIssued && !c.verifySignedBy(c)) {
      return { reason: 'root certificate self-signature does not verify', expired: false };
    }
  }

  for (const t of at) {
    if (!windowContains(ca.validFor, t)) {
      return { reason: `time ${t.toISOString()} is outside the authority's validity ${windowText(ca.validFor)}`, expired: false };
    }
    for (const [i, c] of path.entries()) {
      if (!c.validAt(t)) {
        return {
          reason: `time ${t.toISOString()} is outside ${i === 0 ? 'the signing certificate' : `certificate #${i + 1}`}'s validity ${c.notBefore.toISOString()}..${c.notAfter.toISOString()}`,
          expired: true,
        };
      }
    }
  }
  return path;
}

function isIssuerOf(issuer: Certificate, child: Certificate): boolean {
  if (!issuer.subjectDer.equals(child.issuerDer)) return false;
  // RFC 5280 §4.2.1.1: when both key identifiers are present they must match; this separates
  // two CA generations with the same name (e.g. a re-keyed intermediate).
  if (child.authorityKeyId && issuer.subjectKeyId && !child.authorityKeyId.equals(issuer.subjectKeyId)) return false;
  return true;
}

/** RFC 5280 §6.1.4 (k), (l), (n): an issuing certificate must be a CA allowed to sign certificates and respect path length. */
function checkIssuerConstraints(c: Certificate, below: number, path: readonly Certificate[]): string | undefined {
  const name = `certificate #${below + 2}`;
  if (c.version !== 3 || !c.isCA) return `${name} issues certificates but is not a CA (basicConstraints cA is not true)`;
  if (!c.hasKeyUsage(KEY_USAGE.keyCertSign)) return `${name} issues certificates but its keyUsage lacks keyCertSign`;
  if (c.unhandledCriticalExtensions.length) return `${name} has unsupported critical extensions ${c.unhandledCriticalExtensions.join(', ')}`;
  const limit = c.basicConstraints?.pathLenConstraint;
  if (limit !== undefined) {
    // Intermediates between this CA and the leaf, not counting self-issued ones (§6.1.4 (l)).
    let n = 0;
    for (let j = 1; j <= below; j++) if (!path[j]!.isSelfIssued) n++;
    if (n > limit) return `${name} allows ${limit} intermediate(s) below it, the path has ${n}`;
  }
  return undefined;
}

function checkLeaf(leaf: Certificate, options: ChainOptions): void {
  if (leaf.isCA) throw chainError('the signing certificate is a CA certificate', 'sign with an end-entity certificate');
  if (!leaf.hasKeyUsage(KEY_USAGE.digitalSignature)) throw chainError('the signing certificate keyUsage does not allow digitalSignature');
  const want = options.extKeyUsage ?? OID_KP_CODE_SIGNING;
  const eku = leaf.extKeyUsage;
  if (eku ? !eku.includes(want) : options.requireExtKeyUsage === true) {
    throw chainError(`the signing certificate extendedKeyUsage does not include ${want}`, 'the certificate was issued for another purpose');
  }
  if (leaf.unhandledCriticalExtensions.length) {
    throw chainError(`the signing certificate has unsupported critical extensions ${leaf.unhandledCriticalExtensions.join(', ')}`, 'a precertificate or unknown certificate type cannot sign');
  }
}

function windowText(w: ValidityWindow): string {
  return `${w.start.toISOString()}..${w.end ? w.end.toISOString() : '(open)'}`;
}

function chainError(message: string, hint = 'the certificate was not issued by a CA in the trusted root'): SigilError {
  return new SigilError('CERTIFICATE_CHAIN_INVALID', message, { hint });
}
