/**
 * `sigil log proof --url U (--index N | --uuid UUID) [--tree-size S]` gets and checks an
 * inclusion proof; `sigil log proof --url U --first-size A [--last-size B]` gets and checks a
 * consistency proof between two checkpoints the log published. With --log-key the checkpoints'
 * signatures are verified too.
 */
import { SigilError } from '../../core/errors.js';
import { EMPTY_ROOT, leafHash } from '../../merkle/hash.js';
import { verifyConsistency, verifyInclusion } from '../../merkle/proof.js';
import { LogReader } from '../../services/log/reader.js';
import { EXIT_OK, type Command, type ParsedFlags } from '../command.js';
import { outputFlag } from '../options.js';
import { stringFlag } from '../signing-key.js';
import { checkedCheckpoint, logKey, logReadFlags, logUrl } from '../log-common.js';

function count(flags: ParsedFlags, name: string): number | undefined {
  const v = stringFlag(flags, name);
  if (v === undefined) return undefined;
  if (!/^(0|[1-9][0-9]*)$/.test(v) || !Number.isSafeInteger(Number(v))) throw new SigilError('USAGE', `--${name} ${v} is not a non-negative integer`);
  return Number(v);
}

export const logProofCommand: Command = {
  path: ['log', 'proof'],
  summary: 'get and check an inclusion proof (--index/--uuid) or a consistency proof (--first-size)',
  flags: {
    ...logReadFlags,
    index: { type: 'string', description: 'inclusion proof for the entry at this index', value: 'N' },
    uuid: { type: 'string', description: 'inclusion proof for the entry with this leaf hash (hex)', value: 'UUID' },
    'tree-size': { type: 'string', description: 'prove inclusion in the checkpoint of this size (default: newest)', value: 'S' },
    'first-size': { type: 'string', description: 'consistency proof from this published size', value: 'A' },
    'last-size': { type: 'string', description: 'to this published size (default: newest)', value: 'B' },
    ...outputFlag,
  },
  async run(flags, positionals, io) {
    if (positionals.length) throw new SigilError('USAGE', `unexpected argument ${positionals[0]}`);
    const reader = new LogReader(logUrl(flags));
    const key = logKey(io, flags);
    const origin = stringFlag(flags, 'origin');
    const first = count(flags, 'first-size');
    const index = count(flags, 'index');
    const uuid = stringFlag(flags, 'uuid');
    const selectors = [first, index, uuid].filter((x) => x !== undefined).length;
    if (selectors !== 1) throw new SigilError('USAGE', 'give exactly one of --index, --uuid and --first-size');
    let out: Record<string, unknown>;
    let signatureVerified: boolean;
    if (first !== undefined) {
      const r = await reader.consistencyWithCheckpoints(first, count(flags, 'last-size'));
      const last = checkedCheckpoint(r.checkpoint, key, origin);
      const firstRoot = first === 0 ? EMPTY_ROOT : checkedCheckpoint(r.firstCheckpoint, key, origin).note.rootHash;
      verifyConsistency(first, last.note.size, r.hashes, firstRoot, last.note.rootHash);
      signatureVerified = last.signatureVerified;
      out = { kind: 'consistency', firstSize: first, lastSize: last.note.size, firstRoot: firstRoot.toString('hex'), lastRoot: last.note.rootHash.toString('hex'), hashes: r.hashes.map((h) => h.toString('hex')) };
    } else {
      if (uuid !== undefined && !/^([0-9a-f]{16})?[0-9a-f]{64}$/i.test(uuid)) throw new SigilError('USAGE', `--uuid ${uuid} is not 64 (or 80) hex digits`);
      const leaf = uuid === undefined ? undefined : Buffer.from(uuid.slice(-64), 'hex');
      const r = await reader.inclusion(leaf ? { leafHash: leaf } : { index: index! }, count(flags, 'tree-size'));
      const cp = checkedCheckpoint(r.checkpoint, key, origin);
      if (cp.note.size !== r.treeSize || !cp.note.rootHash.equals(r.rootHash)) throw new SigilError('TLOG_INCLUSION_INVALID', 'the proof came with a checkpoint for another tree');
      // By index, the leaf hash comes from the entry itself, so the proof is checked for real content.
      const target = leaf ?? leafHash((await reader.entry({ index: r.logIndex })).body);
      verifyInclusion(r.logIndex, cp.note.size, target, r.hashes, cp.note.rootHash);
      signatureVerified = cp.signatureVerified;
      out = { kind: 'inclusion', logIndex: r.logIndex, treeSize: cp.note.size, leafHash: target.toString('hex'), rootHash: cp.note.rootHash.toString('hex'), hashes: r.hashes.map((h) => h.toString('hex')) };
    }
    out.verified = { proof: true, checkpointSignature: signatureVerified };
    if (flags.output === 'json') io.stdout.write(JSON.stringify(out) + '\n');
    else
      io.stdout.write(
        `${out.kind === 'inclusion' ? `Inclusion of entry ${String(out.logIndex)} in tree size ${String(out.treeSize)}` : `Consistency from size ${String(out.firstSize)} to ${String(out.lastSize)}`}: verified\n` +
          `Checkpoint signature: ${signatureVerified ? 'verified' : 'NOT checked (pass --log-key)'}\n`,
      );
    return EXIT_OK;
  },
};
