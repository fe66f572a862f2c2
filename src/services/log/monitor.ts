/**
 * A log monitor's one step: fetch the newest checkpoint, check its signature, check that it
 * extends the last checkpoint this monitor accepted (consistency proof), and only then remember
 * it. A smaller tree (rollback), the same size with another root, or a failing consistency proof
 * is a split view — the log showed two histories — and is reported as CONSISTENCY_INVALID, the
 * old state kept so the evidence is not overwritten.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { SigilError } from '../../core/errors.js';
import { parseSignedNote, verifySignedNote, noteVerifierKey, type SignedCheckpoint } from '../../formats/checkpoint.js';
import { verifyConsistency } from '../../merkle/proof.js';
import type { LogReader } from './reader.js';

export interface MonitorState {
  url: string;
  /** Note key name the checkpoints are signed under (the log's origin). */
  origin: string;
  /** The log's public key (SPKI PEM), pinned on first use or given by the operator. */
  publicKey: string;
  /** The newest checkpoint accepted so far. */
  checkpoint: string;
  checkedAt: string;
}

export interface MonitorResult {
  state: MonitorState;
  previousSize: number | undefined;
  size: number;
}

export function parseMonitorState(text: string): MonitorState {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new SigilError('INPUT_UNREADABLE', 'monitor state file is not JSON', { hint: 'delete it to start monitoring afresh (this forgets the pinned key and checkpoint)' });
  }
  const s = j as Partial<MonitorState>;
  if (typeof s.url !== 'string' || typeof s.origin !== 'string' || typeof s.publicKey !== 'string' || typeof s.checkpoint !== 'string') {
    throw new SigilError('INPUT_UNREADABLE', 'monitor state file lacks url, origin, publicKey or checkpoint');
  }
  return { url: s.url, origin: s.origin, publicKey: s.publicKey, checkpoint: s.checkpoint, checkedAt: String(s.checkedAt ?? '') };
}

function verified(text: string, origin: string, key: KeyObject): SignedCheckpoint {
  const note = parseSignedNote(text);
  verifySignedNote(note, [noteVerifierKey(origin, key)]);
  if (note.origin !== origin) {
    throw new SigilError('TLOG_CHECKPOINT_INVALID', `checkpoint origin ${JSON.stringify(note.origin)} is not the monitored log ${JSON.stringify(origin)}`);
  }
  return note;
}

/**
 * One monitoring step. `state` is the previous state (undefined on first run: then `publicKey`
 * and `origin` must be given, or the key is fetched from the log and pinned — trust on first use).
 */
export async function monitorOnce(
  reader: LogReader,
  state: MonitorState | undefined,
  pin: { publicKey?: KeyObject; origin?: string },
  now: Date = new Date(),
): Promise<MonitorResult> {
  const key = state ? createPublicKey(state.publicKey) : (pin.publicKey ?? (await reader.publicKey()));
  const text = await reader.checkpoint();
  const origin = state?.origin ?? pin.origin ?? parseSignedNote(text).origin;
  const latest = verified(text, origin, key);
  const next: MonitorState = { url: reader.url, origin, publicKey: key.export({ type: 'spki', format: 'pem' }).toString(), checkpoint: text, checkedAt: now.toISOString() };
  if (!state) return { state: next, previousSize: undefined, size: latest.size };
  const prev = verified(state.checkpoint, origin, key);
  if (latest.size < prev.size) {
    throw new SigilError('CONSISTENCY_INVALID', `rollback: the log now shows size ${latest.size}, but it signed size ${prev.size} before`, {
      hint: 'keep both checkpoints: together they prove the log misbehaved',
    });
  }
  if (latest.size === prev.size) {
    if (!latest.rootHash.equals(prev.rootHash)) {
      throw new SigilError('CONSISTENCY_INVALID', `fork: two signed checkpoints for size ${latest.size} with different roots`, {
        hint: 'keep both checkpoints: together they prove the log misbehaved',
      });
    }
    return { state: next, previousSize: prev.size, size: latest.size };
  }
  const proof = prev.size === 0 ? [] : await reader.consistency(prev.size, latest.size);
  verifyConsistency(prev.size, latest.size, proof, prev.rootHash, latest.rootHash);
  return { state: next, previousSize: prev.size, size: latest.size };
}
