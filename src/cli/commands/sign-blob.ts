/**
 * `sigil sign-blob --key K [--bundle OUT] [--output json] FILE`: signs FILE and writes a Sigstore
 * bundle v0.3 (message signature, public-key hint), like `cosign sign-blob --new-bundle-format`.
 * `--bundle -` writes the bundle to stdout.
 */
import { SigilError } from '../../core/errors.js';
import { toHex } from '../../core/encoding.js';
import { signBlob } from '../../sign/sign-blob.js';
import { keylessSignBlob } from '../../sign/keyless.js';
import { keylessFlags, keylessSessionFromFlags } from '../keyless-options.js';
import { EXIT_OK, type Command } from '../command.js';
import { bundleOutFlag, keyFlag, outputFlag, tlogUploadFlags } from '../options.js';
import { readInputFile, writeBundleOutput } from '../files.js';
import { loadSigner, requireFlag, stringFlag, tlogFromFlags } from '../signing-key.js';

export const signBlobCommand: Command = {
  path: ['sign-blob'],
  summary: 'sign a file with a key and write a Sigstore bundle (v0.3)',
  args: 'FILE',
  flags: { ...keyFlag, ...bundleOutFlag, ...tlogUploadFlags, ...keylessFlags, ...outputFlag },
  details: 'The key password comes from SIGIL_PASSWORD (or COSIGN_PASSWORD), else it is asked for on the terminal. --bundle - writes the bundle to stdout.',
  async run(flags, positionals, io) {
    const keyless = flags.keyless === true;
    const keyPath = keyless ? '' : requireFlag(flags, 'key', 'pass the private key: --key cosign.key (create one with sigil generate-key-pair), or sign with --keyless');
    const file = onePositional(positionals, 'the file to sign');
    const artifact = readInputFile(io, file, 'file to sign');
    const tlog = tlogFromFlags(flags);
    const session = keyless ? await keylessSessionFromFlags(io, flags) : undefined;
    const signer = session ? session.signer : await loadSigner(io, keyPath);
    const result = session ? await keylessSignBlob(artifact, session) : await signBlob(artifact, { signer, ...(tlog ? { tlog } : {}) });
    const out = stringFlag(flags, 'bundle') ?? `${file}.sigstore.json`;
    const outPath = writeBundleOutput(io, out, result.json);
    if (outPath === undefined) return EXIT_OK;
    if (flags.output === 'json') {
      io.stdout.write(
        JSON.stringify({
          bundle: outPath,
          artifact: file,
          digest: `${result.digestAlgorithm}:${toHex(result.digest)}`,
          keyDetails: signer.keyDetails,
          signature: result.signature.toString('base64'),
          tlogEntries: result.bundle.verificationMaterial.tlogEntries.length,
        }) + '\n',
      );
    } else {
      io.stdout.write(`Wrote bundle to ${outPath}\n`);
    }
    return EXIT_OK;
  },
};

export function onePositional(positionals: string[], what: string): string {
  if (positionals.length === 0) throw new SigilError('USAGE', `${what} is missing`, { hint: 'pass it as the last argument' });
  if (positionals.length > 1) throw new SigilError('USAGE', `expected one file, got ${positionals.length}: ${positionals.join(' ')}`, { hint: 'sign one file per run' });
  return positionals[0]!;
}
