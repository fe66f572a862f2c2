/**
 * `sigil log keygen --output-key-prefix P [--algorithm ecdsa-p256|ed25519] [--origin NAME]`
 * writes P.key (encrypted in cosign's format, mode 0600) and P.pub, and prints the log ID a
 * trusted root lists for this key (for Ed25519 it depends on the origin, so give --origin).
 */
import { existsSync, rmSync } from 'node:fs';
import { SigilError } from '../../core/errors.js';
import { exportPublicKeyPem, generateKeyPair } from '../../crypto/keys.js';
import { encryptCosignKey } from '../../crypto/cosign-key.js';
import { noteKeyId } from '../../formats/checkpoint.js';
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { resolveIn, writeFileAtomic } from '../files.js';
import { readPassword } from '../password.js';
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
    const keyPath = resolveIn(io, `${prefix}.key`);
    const pubPath = resolveIn(io, `${prefix}.pub`);
    const force = flags.force === true;
    for (const p of [keyPath, pubPath]) {
      if (!force && existsSync(p)) throw new SigilError('CONFLICT', `${p} already exists; refusing to overwrite it`, { hint: 'pass --force or choose another --output-key-prefix' });
    }
    const origin = stringFlag(flags, 'origin');
    const password = await readPassword(io, { prompt: 'Enter password for the log key: ', confirm: true });
    const { privateKey, publicKey } = generateKeyPair(alg);
    writeFileAtomic(keyPath, encryptCosignKey(privateKey, password), { mode: 0o600, overwrite: force });
    try {
      writeFileAtomic(pubPath, exportPublicKeyPem(publicKey), { mode: 0o644, overwrite: force });
    } catch (e) {
      rmSync(keyPath, { force: true });
      throw e;
    }
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
