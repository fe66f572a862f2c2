/**
 * Entry verification off the HTTP thread. Checking a hashedrekord signature costs ~45 µs of CPU
 * (P-256, LIMITS.md §1) — as much as the rest of a request — so under load the log hands request
 * bodies to `threads` worker threads (each request to the least busy one) and keeps the event
 * loop for HTTP, sequencing and proofs. Errors come back as the same SigilError codes, so the
 * HTTP answer is identical to verifying inline.
 */
import type { Worker } from 'node:worker_threads';
import { SigilError } from '../../core/errors.js';
import { spawnWorker } from '../spawn-worker.js';
import { prepareRequest, type LogApi } from './prepare.js';
import type { PreparedEntry } from './kinds/prepared.js';
import { decodeAnswers, encodeRequests, type WireAnswer, type WireRequest } from './prepare-wire.js';

export interface EntryPreparer {
  prepare(api: LogApi, body: Buffer): Promise<PreparedEntry>;
  close(): Promise<void>;
}

/** Verifies on the calling thread. */
export const inlinePreparer: EntryPreparer = {
  prepare: (api, body) => Promise.resolve().then(() => prepareRequest(api, body)),
  close: () => Promise.resolve(),
};

/**
 * Requests to one thread are sent in groups: every request parsed in one turn of the event loop
 * goes in one message (or in groups of FLUSH_AT while a burst is still being read, so the thread
 * starts before the burst ends). A message costs as much as ~10 µs of CPU on each side, a fifth of
 * the verification itself, so one per request would be a tax on the HTTP thread. Each group
 * travels as one transferred buffer (prepare-wire.ts).
 */
const FLUSH_AT = 8;

interface Slot {
  worker: Worker;
  busy: number;
  ready: Promise<void>;
  outbox: WireRequest[];
  flushScheduled: boolean;
}

export class WorkerPreparer implements EntryPreparer {
  #slots: Slot[];
  #next = 1;
  #pending = new Map<number, { resolve: (p: PreparedEntry) => void; reject: (e: unknown) => void; slot: Slot }>();

  constructor(threads: number) {
    if (!Number.isInteger(threads) || threads < 1) throw new SigilError('USAGE', `verification threads must be at least 1, got ${threads}`);
    this.#slots = Array.from({ length: threads }, () => {
      const worker = spawnWorker(import.meta.url, 'verify-pool-worker', null);
      const slot: Slot = { worker, busy: 0, ready: Promise.resolve(), outbox: [], flushScheduled: false };
      slot.ready = new Promise((ok, fail) => {
        worker.once('error', fail);
        worker.once('message', () => ok());
      });
      worker.on('message', (m: ArrayBuffer | { ready: true }) => {
        if (m instanceof ArrayBuffer) for (const r of decodeAnswers(m)) this.#reply(r);
      });
      worker.on('error', (e) => {
        for (const [id, p] of this.#pending) {
          if (p.slot !== slot) continue;
          this.#pending.delete(id);
          p.reject(new SigilError('INTERNAL', `verification thread failed: ${e.message}`));
        }
      });
      return slot;
    });
  }

  /** Resolves when every thread has started (module loading takes a moment under tsx). */
  async ready(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.ready));
  }

  #reply(m: WireAnswer): void {
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    p.slot.busy--;
    if ('entry' in m) p.resolve(m.entry);
    else p.reject(new SigilError(m.error.code, m.error.message, { ...(m.error.hint !== undefined ? { hint: m.error.hint } : {}), kind: m.error.kind }));
  }

  #flush(slot: Slot): void {
    slot.flushScheduled = false;
    if (slot.outbox.length === 0) return;
    const group = encodeRequests(slot.outbox);
    slot.worker.postMessage(group, [group]);
    slot.outbox = [];
  }

  prepare(api: LogApi, body: Buffer): Promise<PreparedEntry> {
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.busy < slot.busy) slot = s;
    slot.busy++;
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, slot });
      slot.outbox.push({ id, api, body });
      if (slot.outbox.length >= FLUSH_AT) this.#flush(slot);
      else if (!slot.flushScheduled) {
        slot.flushScheduled = true;
        setImmediate(() => this.#flush(slot));
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
    for (const p of this.#pending.values()) p.reject(new SigilError('INTERNAL', 'verification threads stopped'));
    this.#pending.clear();
  }
}
