/**
 * Inputs and outputs of the verification pipeline. Everything here is plain data (KeyObjects and
 * RegExps are structured-cloneable), so a policy and a result cross worker threads unchanged.
 */
import type { KeyObject } from 'node:crypto';
import type { DigestAlgorithm } from '../core/digest.js';
import type { BundleVersion } from '../formats/bundle.js';
import type { IdentityPolicy } from '../trust/identity.js';
import type { FulcioExtensions } from '../x509/fulcio.js';
import type { TrustedRoot } from '../trust/trusted-root.js';
import type { KeyRing } from '../trust/keyring.js';

/** The thing a bundle is about: the file, its bytes, or only its digest (`sha256:<hex>` on the CLI). */
export type ArtifactInput = { path: string } | { bytes: Uint8Array } | { digest: { alg: DigestAlgorithm; value: Uint8Array } };

export interface VerifyPolicy {
  /** The public key a key-signed bundle must verify with. */
  key?: KeyObject;
  /** Who must have signed a certificate (keyless) bundle: SAN and OIDC issuer are both required. */
  identity?: IdentityPolicy;
  /** Required in-toto predicate type of a DSSE attestation (verify-blob-attestation --type). */
  predicateType?: string;
  /** Minimum number of verified transparency-log entries (default 1; 0 = cosign's --insecure-ignore-tlog). */
  tlogThreshold?: number;
  /** Minimum number of verified SCTs when the trusted root lists CT logs (default 1). */
  ctlogThreshold?: number;
  /** Minimum number of verified timestamps a certificate needs (default 1). */
  timestampThreshold?: number;
}

export interface TrustMaterial {
  root: TrustedRoot;
  /** Keys a key-signed bundle may name by hint (e.g. the npm registry's attestation keys). */
  keys?: KeyRing;
}

export interface VerifiedTimestamp {
  source: 'transparency-log' | 'timestamp-authority';
  time: Date;
  /** Transparency-log entries: the log index the SET covers. */
  logIndex?: string;
}

export interface VerifiedTlogEntry {
  logIndex: string;
  logId: string;
  baseUrl: string;
  kind: string;
  version: string;
  integratedTime?: Date;
  /** How inclusion was proven: a checkpoint-signed Merkle proof, a signed promise (SET), or both. */
  inclusion: ('proof' | 'promise')[];
}

export type SignerInfo =
  | { kind: 'key'; hint: string }
  | { kind: 'certificate'; subjectAlternativeNames: string[]; issuer?: string; extensions: FulcioExtensions; notBefore: Date; notAfter: Date; serialNumber: string };

export interface VerificationResult {
  bundleVersion: BundleVersion;
  mediaType: string;
  content: 'message-signature' | 'dsse';
  signer: SignerInfo;
  timestamps: VerifiedTimestamp[];
  tlogEntries: VerifiedTlogEntry[];
  /** The artifact digest the signature (or the statement subject) was matched against. */
  artifactDigest: { alg: DigestAlgorithm; hex: string };
  /** DSSE in-toto attestations: the statement whose subject matched the artifact. */
  statement?: { type: string; predicateType: string; subjectName: string; predicate: unknown };
}
