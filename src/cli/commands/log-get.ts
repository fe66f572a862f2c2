/**
 * `sigil log get --url U (--index N | --uuid UUID)` fetches an entry, checks its inclusion proof
 * against the checkpoint it came with (and that checkpoint's signature with --log-key), and
 * prints it.
 */
import { SigilError } from '../../core/errors.js';
import { leafHash } from '../../merkle/hash.js';
import { verifyInclusion } from '../../merkle/proof.js';
import { LogReader } from '../../services/log/reader.js';
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { stringFlag } from '../signing-key.js';
import { checkedCheckpoint, logKey, logReadFlags, logUrl } from '../log-common.js';

export const logGetCommand: Command = {
  path: ['log', 'get'],
  summary: 'fetch a log entry by index or UUID (leaf hash) and check its inclusion proof',
  flags: {
    ...logReadFlags,
    index: { type: 'string', description: 'log index of the entry', value: 'N' },
    uuid: { type: 'string', description: 'entry UUID: the hex leaf hash (Rekor v1 style)', value: 'UUID' },
    ...outputFlag,
  },
  async run(flags, positionals, io) {
    if (positionals.length) throw new SigilError('USAGE', `unexpected argument ${positionals[0]}`);
    const index = stringFlag(flags, 'index');
    const uuid = stringFlag(flags, 'uuid');
    if ((index === undefined) === (uuid === undefined)) throw new SigilError('USAGE', 'give exactly one of --index and --uuid');
    if (index !== undefined && !/^(0|[1-9][0-9]*)$/.test(index)) throw new SigilError('USAGE', `--index ${index} is not a non-negative integer`);
    const reader = new LogReader(logUrl(flags));
    const e = await reader.entry(index !== undefined ? { index: Number(index) } : { uuid: uuid! });
    const { note, signatureVerified } = checkedCheckpoint(e.inclusion.checkpoint, logKey(io, flags), stringFlag(flags, 'origin'));
    if (note.size !== e.inclusion.treeSize || !note.rootHash.equals(e.inclusion.rootHash)) {
      throw new SigilError('TLOG_INCLUSION_INVALID', 'the entry came with a checkpoint for another tree than its proof');
    }
    const leaf = leafHash(e.body);
    if (uuid !== undefined && !leaf.equals(Buffer.from(uuid.slice(-64), 'hex'))) throw new SigilError('TLOG_BODY_MISMATCH', 'the log returned an entry whose leaf hash is not the UUID asked for');
    verifyInclusion(e.logIndex, note.size, leaf, e.inclusion.hashes, note.rootHash);
    let body: unknown;
    try {
      body = JSON.parse(e.body.toString('utf8'));
    } catch {
      body = e.body.toString('base64');
    }
    const out = {
      uuid: leaf.toString('hex'),
      logIndex: e.logIndex,
      integratedTime: e.integratedTime,
      logID: e.logID,
      body,
      inclusionProof: { treeSize: note.size, rootHash: note.rootHash.toString('hex'), hashes: e.inclusion.hashes.map((h) => h.toString('hex')), checkpoint: e.inclusion.checkpoint },
      verified: { inclusionProof: true, checkpointSignature: signatureVerified },
    };
    if (flags.output === 'json') io.stdout.write(JSON.stringify(out) + '\n');
    else
      io.stdout.write(
        `Entry ${out.uuid}\nIndex: ${out.logIndex}\nIntegrated time: ${e.integratedTime ? new Date(e.integratedTime * 1000).toISOString() : '(none, Rekor v2 entry)'}\n` +
          `Inclusion proof: verified against tree size ${note.size}\nCheckpoint signature: ${signatureVerified ? 'verified' : 'NOT checked (pass --log-key)'}\n` +
          `Body: ${JSON.stringify(body)}\n`,
      );
    return EXIT_OK;
  },
};
