/**
 * `sigil generate-key-pair [--output-key-prefix P] [--algorithm A] [--force]` writes P.key (the
 * private key encrypted in cosign's format, mode 0600) and P.pub (SPKI PEM), like
 * `cosign generate-key-pair`. Existing files are never replaced without --force.
 */
import { SigilError } from '../../core/errors.js';
import { describeKey, isKeyAlgorithm, KEY_ALGORITHMS, keyDetails, publicKeyHint } from '../../crypto/keys.js';
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { writeNewKeyPair } from '../key-files.js';
import { stringFlag } from '../signing-key.js';

export const generateKeyPairCommand: Command = {
  path: ['generate-key-pair'],
  summary: 'generate a key pair: PREFIX.key (encrypted, cosign format) and PREFIX.pub',
  flags: {
    'output-key-prefix': { type: 'string', description: 'file name prefix of the key files', value: 'PREFIX', default: 'cosign' },
    algorithm: { type: 'string', description: `key algorithm: ${KEY_ALGORITHMS.join(', ')}`, value: 'ALG', default: 'ecdsa-p256' },
    force: { type: 'boolean', description: 'replace existing key files' },
    ...outputFlag,
  },
  details: 'The password comes from SIGIL_PASSWORD (or COSIGN_PASSWORD), else it is asked for on the terminal; it may be empty.',
  async run(flags, positionals, io) {
    if (positionals.length) throw new SigilError('USAGE', `unexpected argument ${positionals[0]}`, { hint: 'generate-key-pair takes no positional arguments' });
    const prefix = stringFlag(flags, 'output-key-prefix') ?? 'cosign';
    const alg = stringFlag(flags, 'algorithm') ?? 'ecdsa-p256';
    if (!isKeyAlgorithm(alg)) throw new SigilError('USAGE', `unknown --algorithm ${alg}`, { hint: `use one of ${KEY_ALGORITHMS.join(', ')}` });
    const { keyPath, pubPath, publicKey } = await writeNewKeyPair(io, { prefix, algorithm: alg, force: flags.force === true, passwordPrompt: 'Enter password for private key: ' });
    if (flags.output === 'json') {
      io.stdout.write(
        JSON.stringify({ privateKey: keyPath, publicKey: pubPath, algorithm: describeKey(publicKey), keyDetails: keyDetails(publicKey), hint: publicKeyHint(publicKey) }) + '\n',
      );
    } else {
      io.stdout.write(`Private key written to ${keyPath}\nPublic key written to ${pubPath}\n`);
    }
    return EXIT_OK;
  },
};
