/**
 * `sigil oidc token [--state DIR] [--subject S]`: prints a fresh ID token from the development
 * issuer of a state directory (the one `sigil up` or `sigil oidc serve` runs), minted with its
 * key, so scripts can sign without a browser: --identity-token "$(sigil oidc token)".
 */
import { SigilError } from '../../core/errors.js';
import { DEV_ISSUER_WARNING, DevOidcIssuer } from '../../services/oidc-dev/issuer.js';
import { StateDir, readOidcState } from '../../services/state.js';
import { EXIT_OK, type Command } from '../command.js';
import { stateDirOf, stateFlag } from '../serve-common.js';
import { identityFlagsForDevIssuer } from './oidc-serve.js';

export const oidcTokenCommand: Command = {
  path: ['oidc', 'token'],
  summary: 'print an ID token from the development OIDC issuer (local use and tests only)',
  flags: {
    ...stateFlag,
    ...identityFlagsForDevIssuer,
    audience: { type: 'string', description: 'token audience', value: 'AUD', default: 'sigstore' },
    ttl: { type: 'string', description: 'lifetime in seconds', value: 'SECONDS', default: '600' },
  },
  async run(flags, _pos, io) {
    const state = new StateDir(stateDirOf(io, flags), io.env);
    const oidc = readOidcState(state);
    const ttl = Number(flags.ttl);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400) throw new SigilError('USAGE', '--ttl must be 1 to 86400 seconds');
    const issuer = new DevOidcIssuer(oidc.url, state.signer('oidc').privateKey, { subject: oidc.subject, ...(oidc.email ? { email: oidc.email } : {}) });
    const subject = typeof flags.subject === 'string' && flags.subject !== '' ? flags.subject : undefined;
    const email = typeof flags.email === 'string' ? (flags.email === '' ? null : flags.email) : undefined;
    const token = await issuer.mint({
      ...(subject !== undefined ? { subject } : {}),
      ...(email !== undefined ? { email } : {}),
      audience: typeof flags.audience === 'string' ? flags.audience : 'sigstore',
      ttlSeconds: ttl,
    });
    if (io.env.SIGIL_QUIET !== '1') io.stderr.write(`Note: ${DEV_ISSUER_WARNING}.\n`);
    io.stdout.write(token + '\n');
    return EXIT_OK;
  },
};
