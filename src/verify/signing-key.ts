/**
 * Step 3, signing key: which public key the signature must verify with, and why it is trusted.
 *   - Key-signed bundles: the key the caller passed (`--key`), or a key from the caller's key ring
 *     selected by the bundle's hint and valid at every verified timestamp. The hint alone never
 *     introduces a key.
 *   - Certificate bundles: the leaf must chain to a trusted CA, with every certificate valid at
 *     every verified timestamp (so at signing time), and carry enough valid SCTs when the root
 *     lists CT logs. At least `timestampThreshold` verified timestamps are required: without a
 *     trusted time a short-lived certificate proves nothing.
 */
import type { KeyObject } from 'node:crypto';
import { SigilError } from '../core/errors.js';
import { publicKeyDer } from '../crypto/keys.js';
import { withinWindow } from '../trust/trusted-root.js';
import type { SignerIdentity } from '../trust/identity.js';
import { verifyCertificateChain } from '../x509/chain.js';
import { verifyEmbeddedScts } from '../x509/sct.js';
import type { Certificate } from '../x509/certificate.js';
import type { Entity } from './structure.js';
import type { TrustMaterial, VerifiedTimestamp, VerifyPolicy } from './types.js';

export interface SigningKey {
  /** The key as a KeyObject, decoded on first use (a leaf's key often never needs to be: signature-check.ts). */
  key(): KeyObject;
  /** SPKI DER of the key, what log entries record for keys. */
  spki: Buffer;
  certificate?: Certificate;
  /** Certificate bundles: the verified path, leaf first. */
  path?: Certificate[];
  identity?: SignerIdentity;
  hint?: string;
}

/**
 * v0.1/v0.2 bundles from public-good signers (npm provenance, slsa-github-generator, sigstore-js
 * bundleV01-full-cert-chain) carry the whole Fulcio chain, root included. A byte-identical copy
 * of a root the trusted root already lists, at the end of the chain where it belongs, adds no
 * trust and takes none away, so it is dropped here; any other self-issued certificate stays in the chain and x509/chain.ts rejects it. That
 * is exactly sigstore-conformance bundle-with-root-cert_fail: its chain holds the *staging* root
 * (not in the production trusted root), so it is still rejected, while the 11 real public-good
 * bundles of the corpus verify. Trust anchors still come only from the trusted root.
 */
function withoutTrustedRootCopies(chain: Certificate[], trust: TrustMaterial): Certificate[] {
  const last = chain[chain.length - 1];
  if (!last?.isSelfIssued) return chain;
  const trusted = trust.root.certificateAuthorities.some((ca) => ca.certChain[ca.certChain.length - 1]?.der.equals(last.der));
  return trusted ? chain.slice(0, -1) : chain;
}

export function verifySigningKey(entity: Entity, timestamps: VerifiedTimestamp[], policy: VerifyPolicy, trust: TrustMaterial): SigningKey {
  const m = entity.material;
  if (m.kind === 'key') {
    if (policy.key) {
      const k = policy.key;
      return { key: () => k, spki: publicKeyDer(k), hint: m.hint };
    }
    const candidates = trust.keys?.get(m.hint) ?? [];
    if (candidates.length === 0) {
      throw new SigilError('KEY_MISMATCH', `the bundle is signed with a key${m.hint ? ` (hint ${m.hint})` : ''}, and no trusted key was given for it`, {
        hint: 'pass the signer\'s public key with --key',
      });
    }
    const usable = candidates.filter((k) => timestamps.every((t) => withinWindow(k.validFor, t.time)));
    if (usable.length === 0) {
      throw new SigilError('KEY_MISMATCH', `key ${m.hint} was not valid at the signing time ${timestamps.map((t) => t.time.toISOString()).join(', ')}`);
    }
    // Several entries for one hint (e.g. the same npm key listed per usage) are the same key material in practice;
    // the signature step tries the first, and a mismatch there fails closed.
    const k = usable[0]!.publicKey;
    return { key: () => k, spki: publicKeyDer(k), hint: m.hint };
  }

  if (policy.key) {
    throw new SigilError('KEY_MISMATCH', 'the bundle is signed with a certificate, not with a key', {
      hint: 'verify it with --certificate-identity and --certificate-oidc-issuer',
    });
  }
  const threshold = policy.timestampThreshold ?? 1;
  if (timestamps.length < threshold) {
    throw new SigilError('TIMESTAMP_INVALID', `the certificate needs ${threshold} verified timestamp(s) to prove when it signed, found ${timestamps.length}`, {
      hint: 'the bundle carries neither a signed log entry time (SET) nor a trusted RFC 3161 timestamp',
    });
  }
  const times = timestamps.map((t) => t.time);
  const path = verifyCertificateChain(m.leaf, withoutTrustedRootCopies(m.intermediates, trust), trust.root.certificateAuthorities, times);
  const leaf = m.leaf;
  const ctThreshold = policy.ctlogThreshold ?? 1;
  if (trust.root.ctlogs.length > 0 && ctThreshold > 0) {
    const issuer = path[1];
    if (!issuer) throw new SigilError('SCT_INVALID', 'the certificate has no issuer in its verified chain to check its SCTs against');
    verifyEmbeddedScts(leaf, issuer, trust.root.ctlogs, ctThreshold);
  }
  return {
    key: () => leaf.publicKey,
    spki: leaf.spki,
    certificate: leaf,
    path,
    identity: { subjectAlternativeNames: leaf.subjectAlternativeNames().map((s) => s.value), extensions: leaf.fulcio() },
  };
}
