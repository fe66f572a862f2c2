/**
 * Opens the LogStore a `--db` value names: `sqlite:PATH` (or a bare path) for the embedded
 * SQLite store, `postgres://…` / `postgresql://…` for PostgreSQL.
 */
import { SigilError } from '../../core/errors.js';
import type { LogStore } from './log-store.js';
import { SqliteLogStore } from './sqlite-log-store.js';
import { PostgresLogStore } from './postgres-log-store.js';

export interface OpenLogStoreOptions {
  /** SQLite only: commit on a writer thread so fsyncs do not block the event loop. */
  sqliteWriterThread?: boolean;
  /** SQLite only: merge the in-memory leaf-hash tail into its index every this many entries (tests). */
  sqliteLeafIndexMergeAt?: number;
  /** SQLite only: commit on this thread and flush the WAL with fdatasync before answering (see SqliteLogStoreOptions.deferredSync; servers want this). */
  sqliteDeferredSync?: boolean;
}

export async function openLogStore(spec: string, opts: OpenLogStoreOptions = {}): Promise<LogStore> {
  if (/^postgres(ql)?:\/\//.test(spec)) return PostgresLogStore.open(spec);
  const path = spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec;
  if (path.length === 0 || /^[a-z]+:\/\//i.test(path)) {
    throw new SigilError('USAGE', `unsupported log database ${JSON.stringify(spec)}`, {
      hint: 'use sqlite:/path/to/log.db or postgres://user@host:port/db',
    });
  }
  const store = SqliteLogStore.open(path, {
    writerThread: opts.sqliteWriterThread ?? false,
    deferredSync: opts.sqliteDeferredSync ?? false,
    ...(opts.sqliteLeafIndexMergeAt !== undefined ? { leafIndexMergeAt: opts.sqliteLeafIndexMergeAt } : {}),
  });
  try {
    await store.ready();
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
  return store;
}
