/**
 * The two documents a Sigstore stack publishes for its clients, in protobuf-specs JSON:
 * `trusted_root.json` (TrustedRoot v0.1: CAs, transparency logs, CT logs, TSAs with validity
 * windows) for verifiers, and `signing_config.json` (SigningConfig v0.2) for signers.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { KeyDetails } from '../crypto/signer.js';
import { SIGNING_CONFIG_MEDIA_TYPE, signingConfigToJSON, type ServiceEntry } from '../formats/signing-config.js';

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

export interface CaEntry {
  uri: string;
  /** Issuing certificate first, root last (DER). */
  chain: Buffer[];
  organization: string;
  commonName: string;
  start: Date;
}

export interface LogEntry {
  baseUrl: string;
  publicKey: KeyObject;
  keyDetails: KeyDetails;
  start: Date;
  /** Defaults to SHA-256 of the SPKI (RFC 6962 log ID; Rekor v1 log ID). */
  logId?: Buffer;
  /** Rekor v2 (C2SP checkpoint) key ID, when it differs from the log ID. */
  checkpointKeyId?: Buffer;
  operator?: string;
}

function logJson(l: LogEntry): Record<string, unknown> {
  const spki = l.publicKey.export({ type: 'spki', format: 'der' });
  return {
    baseUrl: l.baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: spki.toString('base64'), keyDetails: l.keyDetails, validFor: { start: l.start.toISOString() } },
    logId: { keyId: (l.logId ?? createHash('sha256').update(spki).digest()).toString('base64') },
    ...(l.checkpointKeyId ? { checkpointKeyId: { keyId: l.checkpointKeyId.toString('base64') } } : {}),
    ...(l.operator ? { operator: l.operator } : {}),
  };
}

function caJson(c: CaEntry): Record<string, unknown> {
  return {
    subject: { organization: c.organization, commonName: c.commonName },
    uri: c.uri,
    certChain: { certificates: c.chain.map((d) => ({ rawBytes: d.toString('base64') })) },
    validFor: { start: c.start.toISOString() },
  };
}

export function trustedRootJson(parts: { cas: CaEntry[]; tlogs: LogEntry[]; ctlogs: LogEntry[]; tsas: CaEntry[] }): Record<string, unknown> {
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: parts.tlogs.map(logJson),
    certificateAuthorities: parts.cas.map(caJson),
    ctlogs: parts.ctlogs.map(logJson),
    timestampAuthorities: parts.tsas.map(caJson),
  };
}

export function signingConfigJson(parts: { ca: string; oidc: string; tlogs: { url: string; majorApiVersion: number }[]; tsa: string; start: Date; operator: string }): Record<string, unknown> {
  const svc = (url: string, majorApiVersion: number): ServiceEntry => ({ url, majorApiVersion, validFor: { start: parts.start }, operator: parts.operator });
  const doc = signingConfigToJSON({
    caUrls: [svc(parts.ca, 1)],
    oidcUrls: [svc(parts.oidc, 1)],
    rekorTlogUrls: parts.tlogs.map((t) => svc(t.url, t.majorApiVersion)),
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: [svc(parts.tsa, 1)],
    tsaConfig: { selector: 'ANY' },
  });
  return { ...doc, mediaType: SIGNING_CONFIG_MEDIA_TYPE };
}
