/**
 * `sigil tsa serve`: the RFC 3161 timestamp authority alone. Key and chain come from the state
 * directory (created on first run) or from --key (cosign-encrypted, ECDSA) and --cert-chain.
 */
import { resolve } from 'node:path';
import { SigilError } from '../../core/errors.js';
import { listen } from '../../services/http.js';
import { readCertificateChain } from '../../services/pki/key-store.js';
import { StateDir, loadTsaChain } from '../../services/state.js';
import { DEFAULT_TSA_POLICY, TimestampAuthority } from '../../services/tsa/authority.js';
import { tsaHandler } from '../../services/tsa/server.js';
import { EXIT_OK, type Command } from '../command.js';
import { loadSigner } from '../signing-key.js';
import { addressFlags, hostOf, portOf, stateDirOf, stateFlag, waitForShutdown } from '../serve-common.js';

export const tsaServeCommand: Command = {
  path: ['tsa', 'serve'],
  summary: 'run the RFC 3161 timestamp authority',
  flags: {
    ...stateFlag,
    ...addressFlags(5557),
    key: { type: 'string', description: 'TSA private key (ECDSA); default: the state directory\'s', value: 'FILE' },
    'cert-chain': { type: 'string', description: 'PEM chain of --key: the TSA certificate (EKU timeStamping) first, root last', value: 'FILE' },
    policy: { type: 'string', description: 'TSA policy OID written into timestamps', value: 'OID', default: DEFAULT_TSA_POLICY },
  },
  details: 'POST application/timestamp-query to /api/v1/timestamp (or /); GET /api/v1/timestamp/certchain for the chain.',
  async run(flags, _pos, io) {
    const keyPath = typeof flags.key === 'string' ? flags.key : undefined;
    const chainPath = typeof flags['cert-chain'] === 'string' ? flags['cert-chain'] : undefined;
    if ((keyPath === undefined) !== (chainPath === undefined)) throw new SigilError('USAGE', '--key and --cert-chain go together');
    const material =
      keyPath && chainPath
        ? { signer: await loadSigner(io, keyPath), chain: readCertificateChain(resolve(io.cwd, chainPath)) }
        : await loadTsaChain(new StateDir(stateDirOf(io, flags), io.env));
    const policy = typeof flags.policy === 'string' ? flags.policy : DEFAULT_TSA_POLICY;
    if (!/^\d+(\.\d+)+$/.test(policy)) throw new SigilError('USAGE', `--policy ${policy} is not an OID`);
    const tsa = new TimestampAuthority({ ...material, policy });
    const server = await listen(tsaHandler(tsa), portOf(flags), hostOf(flags));
    io.stdout.write(`TSA listening on ${server.url}/api/v1/timestamp (policy ${policy})\n`);
    await waitForShutdown();
    await server.close();
    return EXIT_OK;
  },
};
