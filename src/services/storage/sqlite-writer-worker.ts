/**
 * Worker thread that owns the SQLite writer connection (SqliteAppender) for a SqliteLogStore
 * opened with `writerThread: true`. Protocol (one batch at a time):
 *   main → worker  {type:'append', id, entries}
 *   worker → main  {type:'seal', id, size, root}      main signs the checkpoint with its Signer
 *   main → worker  {type:'sealed', id, note} | {type:'sealFailed', id, message}
 *   worker → main  {type:'done', id, result} | {type:'failed', id, code, message}
 * The signer stays on the main thread (it may be an HSM client); only bytes cross the boundary.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isSigilError } from '../../core/errors.js';
import { SqliteAppender, type SqliteAppenderOptions } from './sqlite-appender.js';
import type { NewEntry } from './log-store.js';

type Incoming = { type: 'append'; id: number; entries: NewEntry[] } | { type: 'sealed'; id: number; note: string } | { type: 'sealFailed'; id: number; message: string } | { type: 'close' };

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

const sealWaiters = new Map<number, { resolve: (note: string) => void; reject: (e: Error) => void }>();

port.on('message', (m: Incoming) => {
  if (m.type === 'close') {
    appender.close();
    port.close();
    return;
  }
  if (m.type === 'sealed' || m.type === 'sealFailed') {
    const w = sealWaiters.get(m.id);
    sealWaiters.delete(m.id);
    if (m.type === 'sealed') w?.resolve(m.note);
    else w?.reject(new Error(m.message));
    return;
  }
  const entries = m.entries.map((e) => ({ ...e, leafHash: Buffer.from(e.leafHash), body: Buffer.from(e.body) }));
  appender
    .append(entries, (size, root) =>
      new Promise<string>((resolve, reject) => {
        sealWaiters.set(m.id, { resolve, reject });
        port.postMessage({ type: 'seal', id: m.id, size, root });
      }),
    )
    .then(
      (result) => port.postMessage({ type: 'done', id: m.id, result }),
      (e: unknown) => port.postMessage({ type: 'failed', id: m.id, code: isSigilError(e) ? e.code : 'STORAGE', message: (e as Error).message }),
    );
});
