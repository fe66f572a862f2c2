/**
 * A verifier thread of VerifyPool (many.ts): decodes the trust material once from the JSON it is
 * started with, then verifies each chunk of jobs synchronously and replies with plain outcomes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SigilError } from '../core/errors.js';
import { KeyRing } from '../trust/keyring.js';
import { TrustedRoot } from '../trust/trusted-root.js';
import type { SerializedError, WorkerInit, WorkerReply, WorkerRequest } from './many.js';
import type { TrustMaterial } from './types.js';
import { verifySync } from './verify.js';

function serialize(e: unknown): SerializedError {
  if (e instanceof SigilError) return { code: e.code, message: e.message, kind: e.kind, ...(e.hint !== undefined ? { hint: e.hint } : {}) };
  // A bug, not a verdict: still a rejection (fail closed), reported as INTERNAL.
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), kind: 'internal' };
}

const port = parentPort;
if (port) {
  let trust: TrustMaterial | undefined;
  try {
    const init = workerData as WorkerInit;
    trust = { root: TrustedRoot.fromJSON(init.root), ...(init.keys !== undefined ? { keys: KeyRing.fromJSON(init.keys) } : {}) };
    port.postMessage({ type: 'ready' } satisfies WorkerReply);
  } catch (e) {
    port.postMessage({ type: 'fatal', message: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
  }
  port.on('message', (m: WorkerRequest) => {
    if (m.type !== 'jobs' || !trust) return;
    const t = trust;
    const results = m.jobs.map((j) => {
      try {
        return { ok: true as const, result: verifySync(j.bundle, j.artifact, j.policy, t) };
      } catch (e) {
        return { ok: false as const, error: serialize(e) };
      }
    });
    port.postMessage({ type: 'results', id: m.id, results } satisfies WorkerReply);
  });
}
