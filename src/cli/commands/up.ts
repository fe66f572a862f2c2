/**
 * `sigil up [--state DIR] [--port N]`: the keyless Sigstore stack in one process on 127.0.0.1 —
 * development OIDC issuer, CA (Fulcio v2), CT log, transparency log (Rekor v2) and TSA — with
 * keys and SQLite state in DIR (default .sigil/, created on first run, reused after). Once every
 * service answers it writes DIR/signing_config.json and DIR/trusted_root.json and prints how to
 * sign and verify against the stack. Runs until Ctrl-C.
 */
import { relative } from 'node:path';
import { DEV_ISSUER_WARNING } from '../../services/oidc-dev/issuer.js';
import { DEFAULT_PORT, startStack } from '../../services/up.js';
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { addressFlags, hostOf, portOf, stateDirOf, stateFlag, waitForShutdown } from '../serve-common.js';

export const upCommand: Command = {
  path: ['up'],
  summary: 'run the keyless stack (OIDC dev issuer, CA, CT log, transparency log, TSA) on 127.0.0.1',
  flags: { ...stateFlag, ...addressFlags(DEFAULT_PORT), ...outputFlag },
  details: 'Writes DIR/signing_config.json and DIR/trusted_root.json once the services answer. The development OIDC issuer hands tokens to anyone: for local use only.',
  async run(flags, _pos, io) {
    const stateDir = stateDirOf(io, flags);
    const stack = await startStack({ stateDir, port: portOf(flags), host: hostOf(flags), env: io.env });
    const rel = (p: string) => {
      const r = relative(io.cwd, p);
      return r.startsWith('..') ? p : r;
    };
    const sc = rel(stack.signingConfigPath);
    const tr = rel(stack.trustedRootPath);
    const st = rel(stateDir) || '.';
    if (flags.output === 'json') {
      io.stdout.write(JSON.stringify({ ready: true, url: stack.url, urls: stack.urls, signingConfig: stack.signingConfigPath, trustedRoot: stack.trustedRootPath, state: stateDir }) + '\n');
    } else {
      io.stdout.write(
        [
          `sigil keyless stack ready at ${stack.url}`,
          `  OIDC issuer (dev)   ${stack.urls.oidc}`,
          `  CA (Fulcio v2)      ${stack.urls.ca}`,
          `  CT log (RFC 6962)   ${stack.urls.ctlog}`,
          `  transparency log    ${stack.urls.tlog ?? '(none)'}`,
          `  TSA (RFC 3161)      ${stack.urls.tsa}`,
          `  state               ${st}`,
          `  signing config      ${sc}`,
          `  trusted root        ${tr}`,
          '',
          `Warning: ${DEV_ISSUER_WARNING}.`,
          '',
          'Sign and verify (in another terminal):',
          `  sigil sign-blob --keyless --signing-config ${sc} --identity-token "$(sigil oidc token --state ${st})" FILE`,
          `  sigil verify-blob --bundle FILE.sigstore.json --trusted-root ${tr} \\`,
          `      --certificate-identity ${stack.oidc.identity.email ?? stack.oidc.identity.subject} --certificate-oidc-issuer ${stack.urls.oidc} FILE`,
          '',
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
    }
    await waitForShutdown();
    await stack.close();
    return EXIT_OK;
  },
};
