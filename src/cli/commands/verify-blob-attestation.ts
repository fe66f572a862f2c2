/**
 * `sigil verify-blob-attestation --bundle B --type T (--key PUB | --certificate-identity[-regexp] X --certificate-oidc-issuer[-regexp] Y) [--trusted-root R] FILE`
 * Verifies a DSSE attestation bundle (cosign verify-blob-attestation): signature, log entry and
 * identity as verify-blob does, plus the in-toto statement must have predicate type T (a cosign
 * `--type` name or a URI) and name FILE (or `sha256:<hex>`) among its subjects.
 */
import type { Command } from '../command.js';
import { EXIT_OK } from '../command.js';
import { SigilError } from '../../core/errors.js';
import { identityFlags, outputFlag, trustedRootFlag, verifyKeyFlag } from '../options.js';
import { predicateTypeUri } from '../../formats/predicate-types.js';
import { verify } from '../../verify/verify.js';
import { artifactFromArg, extensionFlag, ignoreTlogFlag, loadTrust, policyFromFlags, printResult, readBundleFile, str } from '../verify-inputs.js';

export const verifyBlobAttestationCommand: Command = {
  path: ['verify-blob-attestation'],
  summary: 'verify an in-toto attestation bundle (DSSE) about a file',
  args: 'FILE',
  flags: {
    bundle: { type: 'string', description: 'the Sigstore bundle holding the attestation', value: 'FILE' },
    type: { type: 'string', description: 'required predicate type: slsaprovenance1, spdxjson, cyclonedx, ... or a URI', value: 'TYPE' },
    ...verifyKeyFlag,
    ...identityFlags,
    ...extensionFlag,
    ...trustedRootFlag,
    ...ignoreTlogFlag,
    ...outputFlag,
  },
  details: 'FILE may be sha256:<hex> (or sha512:<hex>) to match a statement subject by digest.',
  async run(flags, positionals, io) {
    const type = str(flags, 'type');
    if (!type) throw new SigilError('USAGE', '--type is required', { hint: 'name the predicate type the attestation must have, e.g. --type slsaprovenance1' });
    const policy = { ...policyFromFlags(io, flags), predicateType: predicateTypeUri(type) };
    const trust = loadTrust(io, flags);
    const bundle = readBundleFile(io, str(flags, 'bundle'));
    if (bundle.bundle.content.$case !== 'dsseEnvelope') {
      throw new SigilError('USAGE', 'the bundle holds a plain signature, not an attestation', { hint: 'use verify-blob for signature bundles' });
    }
    const result = await verify(bundle, artifactFromArg(io, positionals[0]), policy, trust);
    printResult(io, flags, result, positionals[0]!);
    return EXIT_OK;
  },
};
