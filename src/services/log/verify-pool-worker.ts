/**
 * Verification thread of verify-pool.ts: prepares each request of a group and answers the group
 * with one buffer of entries or errors (prepare-wire.ts).
 */
import { parentPort } from 'node:worker_threads';
import { isSigilError } from '../../core/errors.js';
import { prepareRequest } from './prepare.js';
import { decodeRequests, encodeAnswers, type WireAnswer, type WireRequest } from './prepare-wire.js';

function prepareOne(m: WireRequest): WireAnswer {
  try {
    return { id: m.id, entry: prepareRequest(m.api, m.body) };
  } catch (e) {
    const error = isSigilError(e)
      ? { code: e.code, message: e.message, ...(e.hint !== undefined ? { hint: e.hint } : {}), kind: e.kind }
      : { code: 'INTERNAL' as const, message: `internal error: ${(e as Error).message}`, kind: 'internal' as const };
    return { id: m.id, error };
  }
}

const port = parentPort!;
port.on('message', (group: ArrayBuffer) => {
  const answers = encodeAnswers(decodeRequests(group).map(prepareOne));
  port.postMessage(answers, [answers]);
});
port.postMessage({ ready: true });
