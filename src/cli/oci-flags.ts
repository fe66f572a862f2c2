/**
 * Flags of the image commands, apart from their implementation (oci-common.ts) so that a command
 * that only lists them (`sbom --attach`) does not load the registry client and the signing stack
 * at start-up (~0.12 s of every `sigil sbom` run).
 */
import type { Flags } from './command.js';
import { keylessFlags } from './keyless-flags.js';
import { keyFlag, tlogUploadFlags } from './options.js';

export const registryFlags: Flags = {
  'allow-insecure-registry': {
    type: 'boolean',
    description: 'allow plain HTTP or unverified TLS to the image registry (always allowed for localhost and 127.0.0.0/8)',
  },
  'registry-timeout': { type: 'string', description: 'seconds without an answer before a registry request fails', value: 'SECONDS', default: '30' },
};

export const annotationFlag: Flags = {
  annotations: { type: 'string', short: 'a', multiple: true, description: 'annotation KEY=VALUE (sign: signed into the payload; verify: required)', value: 'KEY=VALUE' },
};

export const tagSchemeFlags: Flags = {
  'tag-scheme': { type: 'boolean', description: "also write cosign's sha256-<hex>.sig/.att/.sbom tags (default: only when the registry has no referrers API)" },
  'referrers-only': { type: 'boolean', description: 'never write the cosign tags, only OCI 1.1 referrers' },
};

export const producerFlags: Flags = {
  ...keyFlag,
  ...keylessFlags,
  ...tlogUploadFlags,
};
