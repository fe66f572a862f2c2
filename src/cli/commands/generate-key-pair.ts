/**
 * `sigil generate-key-pair [--output-key-prefix P] [--algorithm A] [--force]` writes P.key (the
 * private key encrypted in cosign's format, mode 0600) and P.pub (SPKI PEM), like
 * `cosign generate-key-pair`. Existing files are never replaced without --force.
 */
import { existsSync } from 'node:fs';
import { rmSync } from 'node:fs';
import { SigilError } from '../../core/errors.js';
import { describeKey, exportPublicKeyPem, generateKeyPair, isKeyAlgorithm, KEY_ALGORITHMS, keyDetails, publicKeyHint } from '../../crypto/keys.js';
import { encryptCosignKey } from '../../crypto/cosign-key.js';
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { resolveIn, writeFileAtomic } from '../files.js';
import { readPassword } from '../password.js';
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
    const keyPath = resolveIn(io, `${prefix}.key`);
    const pubPath = resolveIn(io, `${prefix}.pub`);
    const force = flags.force === true;
    // Checked before asking for a password so nobody types one for nothing; the write itself is
    // still create-only (writeFileAtomic overwrite: false), so a race cannot clobber a key.
    for (const p of [keyPath, pubPath]) {
      if (!force && existsSync(p)) throw new SigilError('CONFLICT', `${p} already exists; refusing to overwrite it`, { hint: 'pass --force to replace it, or use --output-key-prefix' });
    }
    const password = await readPassword(io, { prompt: 'Enter password for private key: ', confirm: true });
    const { privateKey, publicKey } = generateKeyPair(alg);
    writeFileAtomic(keyPath, encryptCosignKey(privateKey, password), { mode: 0o600, overwrite: force });
    try {
      writeFileAtomic(pubPath, exportPublicKeyPem(publicKey), { mode: 0o644, overwrite: force });
    } catch (e) {
      // Do not leave half a key pair behind.
      rmSync(keyPath, { force: true });
      throw e;
    }
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
