/** Verification thread of verify-pool.ts: prepares entries and answers with bytes or an error. */
import { parentPort } from 'node:worker_threads';
import { isSigilError } from '../../core/errors.js';
import { prepareRequest, type LogApi } from './prepare.js';

const port = parentPort!;
port.on('message', (m: { id: number; api: LogApi; body: Uint8Array }) => {
  try {
    const p = prepareRequest(m.api, m.body);
    port.postMessage({ id: m.id, ok: true, kind: p.kind, version: p.version, body: p.body, leafHash: p.leafHash });
  } catch (e) {
    const err = isSigilError(e) ? { code: e.code, message: e.message, hint: e.hint, kind: e.kind } : { code: 'INTERNAL', message: `internal error: ${(e as Error).message}`, kind: 'internal' };
    port.postMessage({ id: m.id, ok: false, error: err });
  }
});
port.postMessage({ ready: true });
