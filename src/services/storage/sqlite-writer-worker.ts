/**
 * Worker thread that owns the SQLite writer connection (SqliteAppender) for a SqliteLogStore
 * opened with `writerThread: true`.
 *
 * Group commit happens here as well as in the sequencer: append calls that arrive while a
 * transaction is being committed (the fsync of synchronous=FULL) wait in a queue, and the next
 * transaction takes all of them that share a sealer. The main thread therefore never waits for
 * one commit to finish before handing over the next batch, and a batch never waits for a trip
 * through the main thread's event loop (busy with HTTP) between two commits.
 *
 * Protocol:
 *   main → worker  {type:'sealer', sealer, origin, privateKey}   once per in-memory checkpoint key
 *   main → worker  {type:'append', id, sealer, entries}     entries: encodeEntries() (append-wire.ts), transferred
 *   worker → main  {type:'seal', id, size, root}     only for sealers without an in-memory key:
 *   main → worker  {type:'sealed', id, note} | {type:'sealFailed', id, message}   main signs (HSM)
 *   worker → main  {type:'done', ids, counts, result, head} | {type:'failed', ids, code, message}
 *                  result: encodeResult() of the merged transaction, transferred
 * `counts[i]` is how many of the merged transaction's outcomes belong to call `ids[i]`.
 */
import type { KeyObject } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { isSigilError } from '../../core/errors.js';
import { LocalSigner } from '../../crypto/local-signer.js';
import { signCheckpoint } from '../../formats/checkpoint.js';
import { SqliteAppender, type SqliteAppenderOptions } from './sqlite-appender.js';
import { decodeEntries, encodeResult } from './append-wire.js';
import type { NewEntry } from './log-store.js';

type Incoming =
  | { type: 'sealer'; sealer: number; origin: string; privateKey: KeyObject }
  | { type: 'append'; id: number; sealer: number; entries: ArrayBuffer }
  | { type: 'sealed'; id: number; note: string }
  | { type: 'sealFailed'; id: number; message: string }
  | { type: 'close' };

interface QueuedAppend {
  id: number;
  sealer: number;
  entries: NewEntry[];
}

const port = parentPort!;
const { path, opts } = workerData as { path: string; opts: SqliteAppenderOptions };
let appender: SqliteAppender;
try {
  appender = new SqliteAppender(path, opts);
  port.postMessage({ type: 'ready' });
} catch (e) {
  port.postMessage({ type: 'fatal', message: (e as Error).message });
  process.exit(1);
}

const sealers = new Map<number, { origin: string; signer: LocalSigner }>();
const sealWaiters = new Map<number, { resolve: (note: string) => void; reject: (e: Error) => void }>();
const queue: QueuedAppend[] = [];
let busy = false;
let scheduled = false;
let closing = false;

function seal(first: QueuedAppend, size: number, root: Buffer): Promise<string> {
  const local = sealers.get(first.sealer);
  if (local) return signCheckpoint(local.origin, size, root, local.signer);
  return new Promise<string>((resolve, reject) => {
    sealWaiters.set(first.id, { resolve, reject });
    port.postMessage({ type: 'seal', id: first.id, size, root });
  });
}

/** Runs on setImmediate, after the messages that arrived during the last commit were queued. */
async function commitQueued(): Promise<void> {
  scheduled = false;
  if (busy || queue.length === 0) return;
  busy = true;
  const first = queue[0]!;
  let n = 1;
  while (n < queue.length && queue[n]!.sealer === first.sealer) n++;
  const calls = queue.splice(0, n);
  const ids = calls.map((c) => c.id);
  try {
    const entries = calls.length === 1 ? first.entries : calls.flatMap((c) => c.entries);
    const result = await appender.append(entries, (size, root) => seal(first, size, root));
    const packed = encodeResult(result.outcomes, result.nodes);
    port.postMessage({ type: 'done', ids, counts: calls.map((c) => c.entries.length), result: packed, head: result.head }, [packed]);
  } catch (e) {
    port.postMessage({ type: 'failed', ids, code: isSigilError(e) ? e.code : 'STORAGE', message: (e as Error).message });
  } finally {
    busy = false;
  }
  if (queue.length > 0) schedule();
  else if (closing) close();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => void commitQueued());
}

function close(): void {
  appender.close();
  port.close();
}

port.on('message', (m: Incoming) => {
  switch (m.type) {
    case 'sealer':
      sealers.set(m.sealer, { origin: m.origin, signer: new LocalSigner(m.privateKey) });
      return;
    case 'append':
      queue.push({ id: m.id, sealer: m.sealer, entries: decodeEntries(m.entries) });
      if (!busy) schedule();
      return;
    case 'sealed':
    case 'sealFailed': {
      const w = sealWaiters.get(m.id);
      sealWaiters.delete(m.id);
      if (m.type === 'sealed') w?.resolve(m.note);
      else w?.reject(new Error(m.message));
      return;
    }
    case 'close':
      // Finish what was handed over: every queued call was promised an answer.
      closing = true;
      if (!busy && queue.length === 0) close();
      else schedule();
  }
});
