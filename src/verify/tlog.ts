/**
 * Step 4, transparency-log entries. For each entry of the bundle:
 *   - the log must be in the trusted root, with its key valid at the entry's time;
 *   - inclusion must be proven: by a Merkle inclusion proof up to a checkpoint signed by that
 *     log's key (RFC 9162 §2.1.3.2, C2SP signed note), and/or by the SET verified in the
 *     timestamps step; a v0.1 proof without checkpoint is still checked against its own root;
 *   - the body must describe this bundle (tlog-body.ts).
 * At least `tlogThreshold` entries must pass. Any entry that fails rejects the bundle: an entry
 * that is present but wrong is evidence of tampering, not something to skip.
 */
import type { TransparencyLogEntry } from '@sigstore/protobuf-specs';
import { SigilError } from '../core/errors.js';
import { parseSignedNote, noteVerifierKey, verifySignedNote, type NoteVerifierKey } from '../formats/checkpoint.js';
import { leafHash } from '../merkle/hash.js';
import { verifyInclusion } from '../merkle/proof.js';
import { withinWindow, type TlogKey, type TrustedRoot } from '../trust/trusted-root.js';
import type { Entity } from './structure.js';
import type { SigningKey } from './signing-key.js';
import { verifyTlogBody } from './tlog-body.js';
import type { DigestAlgorithm } from '../core/digest.js';
import type { VerifiedTimestamp, VerifiedTlogEntry } from './types.js';

// Note keys are derived from the trusted root's log keys once per process (SPKI export + hash).
const noteKeys = new WeakMap<TlogKey, NoteVerifierKey | null>();

function noteKeyFor(log: TlogKey): NoteVerifierKey | undefined {
  let k = noteKeys.get(log);
  if (k === undefined) {
    try {
      k = log.hostname ? noteVerifierKey(log.hostname, log.publicKey) : null;
    } catch {
      k = null;
    }
    noteKeys.set(log, k);
  }
  return k ?? undefined;
}

function entryTimes(entry: TransparencyLogEntry, timestamps: VerifiedTimestamp[]): Date[] {
  if (entry.integratedTime !== '0') return [new Date(Number(entry.integratedTime) * 1000)];
  // Rekor v2: no integrated time; the log key must have been valid when the TSA saw the signature.
  return timestamps.filter((t) => t.source === 'timestamp-authority').map((t) => t.time);
}

function toNumber(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new SigilError('PROOF_MALFORMED', `${what} ${s} is larger than 2^53-1`);
  return n;
}

function verifyInclusionProof(entry: TransparencyLogEntry, logs: TlogKey[], where: string): boolean {
  const proof = entry.inclusionProof;
  if (!proof) return false;
  const index = toNumber(proof.logIndex, `${where} inclusion proof logIndex`);
  const size = toNumber(proof.treeSize, `${where} inclusion proof treeSize`);
  const prefix = (e: unknown): never => {
    if (e instanceof SigilError) throw new SigilError(e.code, `${where}: ${e.message}`, { cause: e, ...(e.hint ? { hint: e.hint } : {}) });
    throw e;
  };
  if (proof.checkpoint) {
    try {
      const note = parseSignedNote(proof.checkpoint.envelope);
      const keys = logs.map(noteKeyFor).filter((k): k is NoteVerifierKey => k !== undefined);
      verifySignedNote(note, keys);
      if (note.size !== size) throw new SigilError('TLOG_CHECKPOINT_INVALID', `checkpoint is for tree size ${note.size}, the inclusion proof for ${size}`);
      if (!note.rootHash.equals(proof.rootHash)) throw new SigilError('TLOG_CHECKPOINT_INVALID', 'checkpoint root hash differs from the inclusion proof root hash');
    } catch (e) {
      prefix(e);
    }
  }
  try {
    verifyInclusion(index, size, leafHash(entry.canonicalizedBody), proof.hashes, proof.rootHash);
  } catch (e) {
    prefix(e);
  }
  // A proof whose root no log signed proves nothing about the log by itself.
  return proof.checkpoint !== undefined;
}

export interface TlogContext {
  entity: Entity;
  key: SigningKey;
  root: TrustedRoot;
  timestamps: VerifiedTimestamp[];
  promised: Set<TransparencyLogEntry>;
  artifactDigest?: { alg: DigestAlgorithm; value: Buffer };
  threshold: number;
}

export function verifyTlogEntries(ctx: TlogContext): VerifiedTlogEntry[] {
  const out: VerifiedTlogEntry[] = [];
  for (const [i, entry] of ctx.entity.tlogEntries.entries()) {
    const where = `log entry ${i} (index ${entry.logIndex})`;
    const logs = ctx.root.tlogsFor(entry.logId!.keyId);
    if (logs.length === 0) {
      throw new SigilError('TLOG_UNKNOWN', `${where} comes from a log the trusted root does not list`, {
        hint: 'verify against the trusted root of the Sigstore instance that issued the bundle (--trusted-root)',
      });
    }
    const times = entryTimes(entry, ctx.timestamps);
    const valid = logs.filter((l) => times.every((t) => withinWindow(l.validFor, t)));
    if (valid.length === 0) {
      throw new SigilError('TLOG_INCLUSION_INVALID', `${where}: the log's key was not valid at ${times.map((t) => t.toISOString()).join(', ')}`, {
        hint: 'the trusted root limits when this log may vouch for entries',
      });
    }
    const inclusion: VerifiedTlogEntry['inclusion'] = [];
    if (verifyInclusionProof(entry, valid, where)) inclusion.push('proof');
    if (ctx.promised.has(entry)) inclusion.push('promise');
    if (inclusion.length === 0) {
      throw new SigilError('TLOG_INCLUSION_INVALID', `${where} has neither a checkpoint-signed inclusion proof nor a signed entry timestamp`, {
        hint: 'nothing proves that the log contains this entry',
      });
    }
    verifyTlogBody(entry, { entity: ctx.entity, key: ctx.key, ...(ctx.artifactDigest ? { artifactDigest: ctx.artifactDigest } : {}), where });
    out.push({
      logIndex: entry.logIndex,
      logId: entry.logId!.keyId.toString('hex'),
      baseUrl: valid[0]!.baseUrl,
      kind: entry.kindVersion!.kind,
      version: entry.kindVersion!.version,
      ...(entry.integratedTime !== '0' ? { integratedTime: new Date(Number(entry.integratedTime) * 1000) } : {}),
      inclusion,
    });
  }
  if (out.length < ctx.threshold) {
    throw new SigilError('TLOG_ENTRY_MISSING', `the bundle has ${out.length} verified transparency-log entr${out.length === 1 ? 'y' : 'ies'}, ${ctx.threshold} required`, {
      hint: ctx.entity.material.kind === 'key' ? 'sign with a transparency log, or accept unlogged key signatures with --insecure-ignore-tlog' : 'the signature was never logged publicly',
    });
  }
  return out;
}
