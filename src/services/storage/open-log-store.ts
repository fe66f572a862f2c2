/**
 * Opens the LogStore a `--db` value names: `sqlite:PATH` (or a bare path) for the embedded
 * SQLite store, `postgres://…` / `postgresql://…` for PostgreSQL.
 */
import { SigilError } from '../../core/errors.js';
import type { LogStore } from './log-store.js';
import { SqliteLogStore } from './sqlite-log-store.js';
import { PostgresLogStore } from './postgres-log-store.js';

export async function openLogStore(spec: string): Promise<LogStore> {
  if (/^postgres(ql)?:\/\//.test(spec)) return PostgresLogStore.open(spec);
  const path = spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec;
  if (path.length === 0 || /^[a-z]+:\/\//i.test(path)) {
    throw new SigilError('USAGE', `unsupported log database ${JSON.stringify(spec)}`, {
      hint: 'use sqlite:/path/to/log.db or postgres://user@host:port/db',
    });
  }
  return SqliteLogStore.open(path);
}
