/**
 * `sigil verify-blob --bundle B (--key PUB | --certificate-identity[-regexp] X --certificate-oidc-issuer[-regexp] Y) [--trusted-root R] FILE`
 * Verifies a Sigstore bundle over a file (cosign verify-blob). FILE may also be `sha256:<hex>`
 * when only the digest is known. Exit 0 verified, 1 verification failed, 2 bad usage or input.
 */
import type { Command } from '../command.js';
import { EXIT_OK } from '../command.js';
import { identityFlags, outputFlag, trustedRootFlag, verifyKeyFlag } from '../options.js';
import { verify } from '../../verify/verify.js';
import { artifactFromArg, extensionFlag, ignoreTlogFlag, loadTrust, policyFromFlags, printResult, readBundleFile, str } from '../verify-inputs.js';

export const verifyBlobCommand: Command = {
  path: ['verify-blob'],
  summary: 'verify a Sigstore bundle (signature or attestation) over a file',
  args: 'FILE',
  flags: {
    bundle: { type: 'string', description: 'the Sigstore bundle to verify', value: 'FILE' },
    ...verifyKeyFlag,
    ...identityFlags,
    ...extensionFlag,
    ...trustedRootFlag,
    ...ignoreTlogFlag,
    ...outputFlag,
  },
  details: 'FILE may be sha256:<hex> to verify against a digest. Identity regexps are searched unanchored, as in cosign; use ^...$ to match whole values.',
  async run(flags, positionals, io) {
    const policy = policyFromFlags(io, flags);
    const trust = loadTrust(io, flags);
    const bundle = readBundleFile(io, str(flags, 'bundle'));
    const artifact = artifactFromArg(io, positionals[0]);
    const result = await verify(bundle, artifact, policy, trust);
    printResult(io, flags, result, positionals[0]!);
    return EXIT_OK;
  },
};
