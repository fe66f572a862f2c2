/**
 * Fulcio certificate extensions, OIDs 1.3.6.1.4.1.57264.1.* (sigstore/fulcio docs/oid-info.md).
 *
 * Encoding differs by range: .1–.6 carry the raw string bytes as the extnValue (no DER inside),
 * .8 and above carry a DER UTF8String. Reading .8+ as raw bytes would leave the tag and length in
 * the string, and reading .1 as DER would fail, so each OID is declared with its encoding.
 */
import { Der, TAG } from '../core/der.js';
import { SigilError } from '../core/errors.js';
import type { Extension } from './extensions.js';

export interface FulcioExtensions {
  /** .1 Issuer (v1, deprecated): raw string. */
  issuerV1?: string;
  /** .2 GitHub Workflow Trigger (deprecated). */
  githubWorkflowTrigger?: string;
  /** .3 GitHub Workflow SHA (deprecated). */
  githubWorkflowSha?: string;
  /** .4 GitHub Workflow Name (deprecated). */
  githubWorkflowName?: string;
  /** .5 GitHub Workflow Repository (deprecated). */
  githubWorkflowRepository?: string;
  /** .6 GitHub Workflow Ref (deprecated). */
  githubWorkflowRef?: string;
  /** .8 Issuer (v2): DER UTF8String. */
  issuerV2?: string;
  /** .9 Build Signer URI. */
  buildSignerUri?: string;
  /** .10 Build Signer Digest. */
  buildSignerDigest?: string;
  /** .11 Runner Environment. */
  runnerEnvironment?: string;
  /** .12 Source Repository URI. */
  sourceRepositoryUri?: string;
  /** .13 Source Repository Digest. */
  sourceRepositoryDigest?: string;
  /** .14 Source Repository Ref. */
  sourceRepositoryRef?: string;
  /** .15 Source Repository Identifier. */
  sourceRepositoryIdentifier?: string;
  /** .16 Source Repository Owner URI. */
  sourceRepositoryOwnerUri?: string;
  /** .17 Source Repository Owner Identifier. */
  sourceRepositoryOwnerIdentifier?: string;
  /** .18 Build Config URI. */
  buildConfigUri?: string;
  /** .19 Build Config Digest. */
  buildConfigDigest?: string;
  /** .20 Build Trigger. */
  buildTrigger?: string;
  /** .21 Run Invocation URI. */
  runInvocationUri?: string;
  /** .22 Source Repository Visibility At Signing. */
  sourceRepositoryVisibilityAtSigning?: string;
  /** .23 Deployment Environment. */
  deploymentEnvironment?: string;
  /**
   * The OIDC issuer to match policies against: .8 when present, else .1. When a certificate has
   * both and they differ, parsing fails: Fulcio writes the same value to both, and two issuers in
   * one certificate would let two verifiers see two different identities.
   */
  issuer?: string;
}

export type FulcioField = Exclude<keyof FulcioExtensions, 'issuer'>;

/** Field name → [OID, encoding]. */
export const FULCIO_EXTENSIONS: Readonly<Record<FulcioField, readonly [string, 'raw' | 'utf8']>> = {
  issuerV1: ['1.3.6.1.4.1.57264.1.1', 'raw'],
  githubWorkflowTrigger: ['1.3.6.1.4.1.57264.1.2', 'raw'],
  githubWorkflowSha: ['1.3.6.1.4.1.57264.1.3', 'raw'],
  githubWorkflowName: ['1.3.6.1.4.1.57264.1.4', 'raw'],
  githubWorkflowRepository: ['1.3.6.1.4.1.57264.1.5', 'raw'],
  githubWorkflowRef: ['1.3.6.1.4.1.57264.1.6', 'raw'],
  issuerV2: ['1.3.6.1.4.1.57264.1.8', 'utf8'],
  buildSignerUri: ['1.3.6.1.4.1.57264.1.9', 'utf8'],
  buildSignerDigest: ['1.3.6.1.4.1.57264.1.10', 'utf8'],
  runnerEnvironment: ['1.3.6.1.4.1.57264.1.11', 'utf8'],
  sourceRepositoryUri: ['1.3.6.1.4.1.57264.1.12', 'utf8'],
  sourceRepositoryDigest: ['1.3.6.1.4.1.57264.1.13', 'utf8'],
  sourceRepositoryRef: ['1.3.6.1.4.1.57264.1.14', 'utf8'],
  sourceRepositoryIdentifier: ['1.3.6.1.4.1.57264.1.15', 'utf8'],
  sourceRepositoryOwnerUri: ['1.3.6.1.4.1.57264.1.16', 'utf8'],
  sourceRepositoryOwnerIdentifier: ['1.3.6.1.4.1.57264.1.17', 'utf8'],
  buildConfigUri: ['1.3.6.1.4.1.57264.1.18', 'utf8'],
  buildConfigDigest: ['1.3.6.1.4.1.57264.1.19', 'utf8'],
  buildTrigger: ['1.3.6.1.4.1.57264.1.20', 'utf8'],
  runInvocationUri: ['1.3.6.1.4.1.57264.1.21', 'utf8'],
  sourceRepositoryVisibilityAtSigning: ['1.3.6.1.4.1.57264.1.22', 'utf8'],
  deploymentEnvironment: ['1.3.6.1.4.1.57264.1.23', 'utf8'],
};

const BY_OID = new Map<string, [FulcioField, 'raw' | 'utf8']>(
  (Object.entries(FULCIO_EXTENSIONS) as [FulcioField, readonly [string, 'raw' | 'utf8']][]).map(([name, [oid, enc]]) => [oid, [name, enc]]),
);

/** Reads every Fulcio extension present; `what` names the certificate in error messages. */
export function parseFulcioExtensions(extensions: readonly Extension[], what = 'certificate'): FulcioExtensions {
  const out: FulcioExtensions = {};
  for (const ext of extensions) {
    const entry = BY_OID.get(ext.oid);
    if (!entry) continue;
    const [name, enc] = entry;
    out[name] = enc === 'raw' ? rawString(ext, name, what) : utf8String(ext, name, what);
  }
  if (out.issuerV1 !== undefined && out.issuerV2 !== undefined && out.issuerV1 !== out.issuerV2) {
    throw new SigilError('CERTIFICATE_MALFORMED', `${what}: Fulcio issuer extensions disagree (v1 ${JSON.stringify(out.issuerV1)}, v2 ${JSON.stringify(out.issuerV2)})`, {
      hint: 'the certificate was not issued by a conforming Fulcio',
    });
  }
  const issuer = out.issuerV2 ?? out.issuerV1;
  if (issuer !== undefined) out.issuer = issuer;
  return out;
}

function rawString(ext: Extension, name: string, what: string): string {
  const s = ext.value.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(ext.value)) {
    throw new SigilError('CERTIFICATE_MALFORMED', `${what}: Fulcio extension ${name} (${ext.oid}) is not valid UTF-8`);
  }
  return s;
}

function utf8String(ext: Extension, name: string, what: string): string {
  const d = new Der(ext.value, 'CERTIFICATE_MALFORMED', `${what} Fulcio extension ${name} (${ext.oid})`);
  return d.string(d.expect(d.root(), TAG.UTF8_STRING, 'value'), 'value');
}
