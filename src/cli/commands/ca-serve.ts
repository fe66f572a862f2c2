/**
 * `sigil ca serve`: the certificate authority alone (Fulcio v2 API), for a deployment next to
 * real OIDC issuers. Keys and chain come from the state directory (created on first run) or from
 * --key (cosign-encrypted; password from SIGIL_PASSWORD or the terminal) and --cert-chain. The
 * issuer allow-list and identity rules come from --config (default DIR/ca/config.json).
 * Precertificates go to --ct-log-url, or to a CT log this process runs on the same port
 * (/ct/v1/*) with its database in the state directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SigilError } from '../../core/errors.js';
import { parseJson } from '../../core/json.js';
import { importPublicKey } from '../../crypto/keys.js';
import { CertificateAuthority } from '../../services/ca/authority.js';
import { parseCaConfig } from '../../services/ca/config.js';
import { HttpCtSubmitter, type CtSubmitter } from '../../services/ca/ct-submitter.js';
import { caRoutes } from '../../services/ca/server.js';
import { CtLog } from '../../services/ctlog/log.js';
import { ctLogRoutes } from '../../services/ctlog/server.js';
import { RateLimiter, listen, router, type Route } from '../../services/http.js';
import { IssuingAuthority } from '../../services/pki/issuer.js';
import { readCertificateChain } from '../../services/pki/key-store.js';
import { StateDir, loadCaIssuer } from '../../services/state.js';
import { EXIT_OK, type Command } from '../command.js';
import { loadSigner } from '../signing-key.js';
import { addressFlags, hostOf, portOf, stateDirOf, stateFlag, waitForShutdown } from '../serve-common.js';

const EXAMPLE_CONFIG = '{"issuers": [{"url": "https://token.actions.githubusercontent.com", "type": "github-workflow", "allowedSubjects": ["repo:my-org/.*"]}]}';

export const caServeCommand: Command = {
  path: ['ca', 'serve'],
  summary: 'run the certificate authority (Fulcio v2 API) with embedded SCTs',
  flags: {
    ...stateFlag,
    ...addressFlags(5556),
    config: { type: 'string', description: 'CA configuration: OIDC issuer allow-list and identity rules (default DIR/ca/config.json)', value: 'FILE' },
    key: { type: 'string', description: 'CA (intermediate) private key; default: the state directory\'s', value: 'FILE' },
    'cert-chain': { type: 'string', description: 'PEM chain of --key: its certificate first, root last', value: 'FILE' },
    'ct-log-url': { type: 'string', description: 'RFC 6962 CT log for precertificates (default: one run by this process at /ct/v1)', value: 'URL' },
    'ct-log-public-key': { type: 'string', description: 'public key of --ct-log-url, to check each SCT before embedding it', value: 'FILE' },
  },
  details: `Example configuration: ${EXAMPLE_CONFIG}`,
  async run(flags, _pos, io) {
    const state = new StateDir(stateDirOf(io, flags), io.env);
    const keyPath = typeof flags.key === 'string' ? flags.key : undefined;
    const chainPath = typeof flags['cert-chain'] === 'string' ? flags['cert-chain'] : undefined;
    if ((keyPath === undefined) !== (chainPath === undefined)) throw new SigilError('USAGE', '--key and --cert-chain go together');
    const issuer =
      keyPath && chainPath ? new IssuingAuthority(await loadSigner(io, keyPath), readCertificateChain(resolve(io.cwd, chainPath))) : await loadCaIssuer(state);

    const configPath = typeof flags.config === 'string' ? resolve(io.cwd, flags.config) : state.path('ca', 'config.json');
    if (!existsSync(configPath)) {
      throw new SigilError('USAGE', `no CA configuration at ${configPath}`, { hint: `write one, e.g. ${EXAMPLE_CONFIG}` });
    }
    const config = parseCaConfig(parseJson(readFileSync(configPath), configPath, 'POLICY_MALFORMED'));

    const routes: Route[] = [];
    let ct: CtSubmitter;
    let ctLogKey;
    let ctLog: CtLog | undefined;
    if (typeof flags['ct-log-url'] === 'string') {
      ct = new HttpCtSubmitter(flags['ct-log-url']);
      if (typeof flags['ct-log-public-key'] === 'string') ctLogKey = importPublicKey(readFileSync(resolve(io.cwd, flags['ct-log-public-key'])), 'CT log public key');
    } else {
      const signer = state.signer('ctlog');
      ctLog = new CtLog({ path: state.path('ctlog', 'ctlog.sqlite'), signer, roots: [issuer.chain[issuer.chain.length - 1]!] });
      ct = ctLog;
      ctLogKey = signer.publicKey;
      routes.push(...ctLogRoutes(ctLog));
    }
    const ca = new CertificateAuthority({ issuer, config, ct, ...(ctLogKey ? { ctLogKey } : {}) });
    routes.push(...caRoutes(ca));
    const server = await listen(router(routes, { name: 'ca', rateLimiter: new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst) }), portOf(flags), hostOf(flags));
    io.stdout.write(`CA listening on ${server.url} (issuers: ${config.issuers.map((i) => i.url).join(', ')})${ctLog ? `; CT log at ${server.url}/ct/v1` : ''}\n`);
    await waitForShutdown();
    await server.close();
    ctLog?.close();
    return EXIT_OK;
  },
};
