/**
 * Verification thread of verify-pool.ts: prepares each request of a group and answers the group
 * with one message of entries or errors.
 */
import { parentPort } from 'node:worker_threads';
import { isSigilError } from '../../core/errors.js';
import { prepareRequest } from './prepare.js';
import type { PrepareReply, PrepareRequest } from './verify-pool.js';

function prepareOne(m: PrepareRequest): PrepareReply {
  try {
    const p = prepareRequest(m.api, m.body);
    return { id: m.id, ok: true, kind: p.kind, version: p.version, body: p.body, leafHash: p.leafHash };
  } catch (e) {
    const error = isSigilError(e) ? { code: e.code, message: e.message, ...(e.hint !== undefined ? { hint: e.hint } : {}), kind: e.kind } : { code: 'INTERNAL' as const, message: `internal error: ${(e as Error).message}`, kind: 'internal' as const };
    return { id: m.id, ok: false, error };
  }
}

const port = parentPort!;
port.on('message', (group: PrepareRequest[]) => port.postMessage(group.map(prepareOne)));
port.postMessage({ ready: true });
