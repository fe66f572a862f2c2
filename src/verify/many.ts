/**
 * Batch verification on worker threads. Verification is CPU-bound (P-384/P-256/Ed25519 checks in
 * OpenSSL), and two cores scale linearly for it (LIMITS.md §7: 2.04x with two workers), so a batch
 * is spread over `threads` workers that each hold their own decoded trust material (parsed once
 * per worker from the root's JSON) and pull chunks of jobs from a shared queue, which keeps both
 * cores busy when bundles differ in cost.
 *
 * Results come back in job order; a rejected bundle is an outcome, not an exception, so one bad
 * bundle in a batch does not hide the others' results.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SigilError, type ErrorCode, type ErrorKind } from '../core/errors.js';
import type { ArtifactInput, TrustMaterial, VerificationResult, VerifyPolicy } from './types.js';

export interface VerifyJob {
  /** Bundle JSON text (or its bytes). */
  bundle: string | Uint8Array;
  artifact: ArtifactInput;
  policy: VerifyPolicy;
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  hint?: string;
  kind: ErrorKind;
}

export type VerifyOutcome = { ok: true; result: VerificationResult } | { ok: false; error: SigilError };

/** Messages between the pool and its workers. */
export type WorkerRequest = { type: 'jobs'; id: number; jobs: VerifyJob[] };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'results'; id: number; results: ({ ok: true; result: VerificationResult } | { ok: false; error: SerializedError })[] }
  | { type: 'fatal'; message: string };
export interface WorkerInit {
  root: unknown;
  keys?: unknown;
}

const CHUNK = 16;

function spawnWorker(init: WorkerInit): Worker {
  if (import.meta.url.endsWith('.ts')) {
    // Running from source under tsx (tests, benchmarks): a worker does not inherit the loader
    // hooks, so it registers tsx itself before importing the TypeScript worker module.
    const api = import.meta.resolve('tsx/esm/api');
    const url = new URL('./verify-worker.ts', import.meta.url).href;
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
    return new Worker(code, { eval: true, workerData: init, execArgv: [] });
  }
  return new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: init });
}

function revive(e: SerializedError): SigilError {
  return new SigilError(e.code, e.message, { ...(e.hint !== undefined ? { hint: e.hint } : {}), kind: e.kind });
}

interface Pending {
  resolve: (r: VerifyOutcome[]) => void;
  reject: (e: Error) => void;
}

/** A pool of verifier threads sharing one trust material. Reuse it across batches; close() it when done. */
export class VerifyPool {
  readonly threads: number;
  private readonly workers: Worker[] = [];
  private readonly ready: Promise<void>;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failed: Error | undefined;

  constructor(trust: TrustMaterial, threads = availableParallelism()) {
    if (!Number.isInteger(threads) || threads < 1) throw new SigilError('USAGE', `threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    const init: WorkerInit = { root: trust.root.source, ...(trust.keys ? { keys: trust.keys.source } : {}) };
    const readies: Promise<void>[] = [];
    for (let i = 0; i < threads; i++) {
      const w = spawnWorker(init);
      this.workers.push(w);
      readies.push(
        new Promise<void>((resolve, reject) => {
          w.once('message', (m: WorkerReply) => (m.type === 'ready' ? resolve() : reject(new SigilError('INTERNAL', `verifier thread failed to start: ${m.type === 'fatal' ? m.message : m.type}`))));
          w.once('error', reject);
        }),
      );
      w.on('message', (m: WorkerReply) => this.onMessage(m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new SigilError('INTERNAL', `verifier thread exited with code ${code}`));
      });
    }
    this.ready = Promise.all(readies).then(() => undefined);
    // Avoid an unhandled rejection if the pool is closed before anyone awaits readiness.
    this.ready.catch(() => undefined);
  }

  private onMessage(m: WorkerReply): void {
    if (m.type !== 'results') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    p.resolve(m.results.map((r) => (r.ok ? r : { ok: false, error: revive(r.error) })));
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private send(w: Worker, jobs: VerifyJob[]): Promise<VerifyOutcome[]> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ type: 'jobs', id, jobs } satisfies WorkerRequest);
    });
  }

  /** Resolves when every thread has decoded the trust material. */
  async started(): Promise<void> {
    await this.ready;
  }

  /** Verifies every job; outcomes are in job order. */
  async run(jobs: readonly VerifyJob[]): Promise<VerifyOutcome[]> {
    await this.ready;
    const out = new Array<VerifyOutcome>(jobs.length);
    let next = 0;
    const chunk = Math.max(1, Math.min(CHUNK, Math.ceil(jobs.length / (this.threads * 4))));
    const take = (w: Worker): Promise<void> | undefined => {
      if (next >= jobs.length) return undefined;
      const start = next;
      next = Math.min(jobs.length, next + chunk);
      return this.send(w, jobs.slice(start, next)).then((results) => results.forEach((r, i) => (out[start + i] = r)));
    };
    // Two chunks in flight per thread: the next one is already queued in the worker while the
    // main thread takes in the previous results, so a worker never waits for the round trip.
    const drive = async (w: Worker): Promise<void> => {
      let current = take(w);
      let queued = take(w);
      while (current) {
        await current;
        current = queued;
        queued = take(w);
      }
    };
    await Promise.all(this.workers.map(drive));
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Verifies a batch on `threads` worker threads (default: one per core) and shuts them down. */
export async function verifyMany(jobs: readonly VerifyJob[], trust: TrustMaterial, options: { threads?: number } = {}): Promise<VerifyOutcome[]> {
  const pool = new VerifyPool(trust, options.threads ?? Math.min(availableParallelism(), Math.max(1, Math.ceil(jobs.length / CHUNK))));
  try {
    return await pool.run(jobs);
  } finally {
    await pool.close();
  }
}
