/**
 * `sigil oidc serve`: the development OIDC issuer alone — discovery, JWKS, authorization code +
 * PKCE and a token endpoint, all approving at once for the configured identity. For local use and
 * tests only: it authenticates nobody, and says so.
 */
import { DEV_ISSUER_WARNING, DevOidcIssuer } from '../../services/oidc-dev/issuer.js';
import { devOidcHandler } from '../../services/oidc-dev/server.js';
import { listen, type RequestListener } from '../../services/http.js';
import { StateDir } from '../../services/state.js';
import { DEFAULT_IDENTITY } from '../../services/up.js';
import { EXIT_OK, type Command } from '../command.js';
import { addressFlags, hostOf, portOf, stateDirOf, stateFlag, waitForShutdown } from '../serve-common.js';

export const identityFlagsForDevIssuer = {
  subject: { type: 'string', description: `token subject (default ${DEFAULT_IDENTITY.subject})`, value: 'SUB' },
  email: { type: 'string', description: `verified email in the token (default ${DEFAULT_IDENTITY.email}; "" for none)`, value: 'EMAIL' },
} as const;

export const oidcServeCommand: Command = {
  path: ['oidc', 'serve'],
  summary: 'run the development OIDC issuer (local use and tests only)',
  flags: { ...stateFlag, ...addressFlags(5558), ...identityFlagsForDevIssuer },
  async run(flags, _pos, io) {
    const state = new StateDir(stateDirOf(io, flags), io.env);
    const subject = typeof flags.subject === 'string' && flags.subject !== '' ? flags.subject : DEFAULT_IDENTITY.subject;
    const email = typeof flags.email === 'string' ? flags.email || undefined : DEFAULT_IDENTITY.email;
    const holder: { handler?: RequestListener } = {};
    const server = await listen((req, res) => holder.handler!(req, res), portOf(flags), hostOf(flags));
    const issuer = new DevOidcIssuer(server.url, state.signer('oidc').privateKey, { subject, ...(email ? { email } : {}) });
    holder.handler = devOidcHandler(issuer);
    state.writeJson({ url: issuer.issuerUrl, subject, ...(email ? { email } : {}) }, 'oidc', 'issuer.json');
    io.stderr.write(`Warning: ${DEV_ISSUER_WARNING}.\n`);
    io.stdout.write(`OIDC issuer listening on ${server.url} (identity ${email ?? subject})\n`);
    await waitForShutdown();
    await server.close();
    return EXIT_OK;
  },
};
