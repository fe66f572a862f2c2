/**
 * `sigil log keygen --output-key-prefix P [--algorithm ecdsa-p256|ed25519] [--origin NAME]`
 * writes P.key (encrypted in cosign's format, mode 0600) and P.pub, and prints the log ID a
 * trusted root lists for this key (for Ed25519 it depends on the origin, so give --origin).
 */
import { SigilError } from '../../core/errors.js';
import { noteKeyId } from '../../formats/checkpoint.js';
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { writeNewKeyPair } from '../key-files.js';
import { stringFlag } from '../signing-key.js';

export const logKeygenCommand: Command = {
  path: ['log', 'keygen'],
  summary: 'generate the log signing key: PREFIX.key (encrypted) and PREFIX.pub',
  flags: {
    'output-key-prefix': { type: 'string', description: 'file name prefix of the key files', value: 'PREFIX', default: 'log' },
    algorithm: { type: 'string', description: 'ecdsa-p256 (Rekor v1 style) or ed25519 (Rekor v2 / witness style)', value: 'ALG', default: 'ecdsa-p256' },
    origin: { type: 'string', description: 'origin the log will use (needed to print an Ed25519 log ID)', value: 'NAME' },
    force: { type: 'boolean', description: 'replace existing key files' },
    ...outputFlag,
  },
  details: 'The password comes from SIGIL_PASSWORD (or COSIGN_PASSWORD), else it is asked for on the terminal.',
  async run(flags, positionals, io) {
    if (positionals.length) throw new SigilError('USAGE', `unexpected argument ${positionals[0]}`);
    const alg = stringFlag(flags, 'algorithm') ?? 'ecdsa-p256';
    if (alg !== 'ecdsa-p256' && alg !== 'ed25519') throw new SigilError('USAGE', `--algorithm ${alg} cannot sign checkpoints`, { hint: 'use ecdsa-p256 or ed25519' });
    const prefix = stringFlag(flags, 'output-key-prefix') ?? 'log';
    const origin = stringFlag(flags, 'origin');
    const { keyPath, pubPath, publicKey } = await writeNewKeyPair(io, { prefix, algorithm: alg, force: flags.force === true, passwordPrompt: 'Enter password for the log key: ' });
    // ECDSA log IDs are SHA-256 of the key alone; Ed25519 (C2SP) IDs also cover the origin.
    const logId = alg === 'ecdsa-p256' || origin ? noteKeyId(origin ?? 'unused', publicKey).toString('hex') : undefined;
    if (flags.output === 'json') {
      io.stdout.write(JSON.stringify({ privateKey: keyPath, publicKey: pubPath, algorithm: alg, ...(logId ? { logId } : {}) }) + '\n');
    } else {
      io.stdout.write(`Private key written to ${keyPath}\nPublic key written to ${pubPath}\n${logId ? `Log ID ${logId}\n` : ''}`);
    }
    return EXIT_OK;
  },
};
