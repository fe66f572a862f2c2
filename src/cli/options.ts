/**
 * Flag definitions shared by commands that take the same option, so a flag means the same thing
 * everywhere (cosign's cmd/cosign/cli/options does the same).
 */
import type { Flags } from './command.js';

export const outputFlag: Flags = {
  output: { type: 'string', description: 'output format: text or json', value: 'FORMAT', default: 'text' },
};

export const keyFlag: Flags = {
  key: { type: 'string', description: 'private key file (PEM, cosign-encrypted or PKCS#8)', value: 'FILE' },
};

export const verifyKeyFlag: Flags = {
  key: { type: 'string', description: 'public key file (PEM) to verify with', value: 'FILE' },
};

export const identityFlags: Flags = {
  'certificate-identity': { type: 'string', description: 'expected signer identity (SAN), exact', value: 'ID' },
  'certificate-identity-regexp': { type: 'string', description: 'expected signer identity (SAN), regular expression', value: 'RE' },
  'certificate-oidc-issuer': { type: 'string', description: 'expected OIDC issuer, exact', value: 'URL' },
  'certificate-oidc-issuer-regexp': { type: 'string', description: 'expected OIDC issuer, regular expression', value: 'RE' },
};

export const trustedRootFlag: Flags = {
  'trusted-root': { type: 'string', description: 'trusted_root.json to verify against (default: Sigstore public-good)', value: 'FILE' },
};

export const bundleOutFlag: Flags = {
  bundle: { type: 'string', description: 'where to write the Sigstore bundle (default: FILE.sigstore.json)', value: 'FILE' },
};

export const tlogUploadFlags: Flags = {
  'rekor-url': { type: 'string', description: 'transparency log to record the signature in (sigil log, Rekor v1 or rekor-tiles v2); default: no log entry', value: 'URL' },
  'tlog-url': { type: 'string', description: 'same as --rekor-url', value: 'URL' },
  'tlog-api': { type: 'string', description: 'log API: v2 (sigil log, rekor-tiles) or v1 (Rekor)', value: 'VERSION', default: 'v2' },
};
