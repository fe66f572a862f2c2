/**
 * sigstore-conformance `verify-bundle` (docs/cli_protocol.md):
 *   verify-bundle [--staging] --bundle FILE (--certificate-identity I --certificate-oidc-issuer URL | --key PUB) [--trusted-root FILE] FILE_OR_DIGEST
 * FILE_OR_DIGEST is a path, or `sha256:<64 hex>` when that is not a path on disk; for a DSSE
 * bundle it names a subject of the in-toto statement. Without --trusted-root the Sigstore
 * production root shipped with sigil is used. Exit 0 accepts, non-zero rejects.
 */
import type { Command } from '../command.js';
import { EXIT_OK } from '../command.js';
import { SigilError } from '../../core/errors.js';
import { verify } from '../../verify/verify.js';
import { artifactFromArg, loadTrust, policyFromFlags, readBundleFile, str } from '../verify-inputs.js';

export const conformanceVerifyBundle: Command = {
  path: ['verify-bundle'],
  summary: 'verify a bundle as the sigstore-conformance suite drives it',
  args: 'FILE_OR_DIGEST',
  flags: {
    staging: { type: 'boolean', description: 'the bundle comes from Sigstore staging (requires --trusted-root)' },
    bundle: { type: 'string', description: 'the Sigstore bundle to verify', value: 'FILE' },
    'certificate-identity': { type: 'string', description: 'expected identity in the signing certificate SAN', value: 'IDENTITY' },
    'certificate-oidc-issuer': { type: 'string', description: 'expected OIDC issuer of the signing certificate', value: 'URL' },
    key: { type: 'string', description: 'public key (PEM) of a key-signed bundle', value: 'PUB' },
    'trusted-root': { type: 'string', description: 'trusted_root.json (default: Sigstore public-good)', value: 'FILE' },
  },
  async run(flags, positionals, io) {
    if (positionals.length !== 1) throw new SigilError('USAGE', `expected one FILE_OR_DIGEST, got ${positionals.length}`);
    const policy = policyFromFlags(io, flags);
    const trust = loadTrust(io, flags);
    const bundle = readBundleFile(io, str(flags, 'bundle'));
    await verify(bundle, artifactFromArg(io, positionals[0]), policy, trust);
    io.stdout.write('OK\n');
    return EXIT_OK;
  },
};
