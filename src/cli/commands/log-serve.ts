/**
 * `sigil log serve --db sqlite:PATH|postgres://… --key K [--addr 127.0.0.1:3000] [--origin NAME]`
 * runs the transparency log until SIGINT/SIGTERM. Several `log serve` processes may share one
 * PostgreSQL database; a SQLite file takes one. The key's password comes from SIGIL_PASSWORD.
 */
import { SigilError } from '../../core/errors.js';
import { openLogStore } from '../../services/storage/open-log-store.js';
import { TransparencyLog } from '../../services/log/log.js';
import { DEFAULT_MAX_BODY_BYTES, serveLog } from '../../services/log/server.js';
import { WorkerPreparer } from '../../services/log/verify-pool.js';
import { availableParallelism } from 'node:os';
import { EXIT_OK, type Command, type ParsedFlags } from '../command.js';
import { outputFlag } from '../options.js';
import { loadSigner, requireFlag, stringFlag } from '../signing-key.js';

function intFlag(flags: ParsedFlags, name: string, min: number, max: number): number | undefined {
  const v = stringFlag(flags, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) throw new SigilError('USAGE', `--${name} must be an integer from ${min} to ${max}`);
  return Number(v);
}

/** One verification thread per core beyond the one serving HTTP (none on a single core). */
const DEFAULT_VERIFY_THREADS = Math.min(4, availableParallelism() - 1);

export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):([0-9]{1,5})$/.exec(addr);
  if (!m || Number(m[2]) > 65535) throw new SigilError('USAGE', `--addr ${addr} is not HOST:PORT`, { hint: 'e.g. --addr 127.0.0.1:3000' });
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export const logServeCommand: Command = {
  path: ['log', 'serve'],
  summary: 'run the transparency log (Rekor v2/v1 write API, C2SP tiles and checkpoints)',
  flags: {
    db: { type: 'string', description: 'log database: sqlite:PATH or postgres://user@host:port/db', value: 'DB', default: 'sqlite:sigil-log.db' },
    key: { type: 'string', description: 'log signing key (Ed25519 or ECDSA; from sigil log keygen)', value: 'FILE' },
    addr: { type: 'string', description: 'listen address', value: 'HOST:PORT', default: '127.0.0.1:3000' },
    origin: { type: 'string', description: 'checkpoint origin and key name (default: HOST:PORT of --addr); must stay the same for the life of the log', value: 'NAME' },
    'max-body-bytes': { type: 'string', description: 'largest accepted request body', value: 'N', default: String(DEFAULT_MAX_BODY_BYTES) },
    'max-batch': { type: 'string', description: 'most entries sequenced per commit', value: 'N', default: '4096' },
    'batch-delay-ms': { type: 'string', description: 'wait this long to grow a batch before committing', value: 'MS', default: '0' },
    'verify-threads': { type: 'string', description: 'worker threads that verify entries (0: on the HTTP thread)', value: 'N', default: String(DEFAULT_VERIFY_THREADS) },
    'integration-timeout-ms': { type: 'string', description: 'answer 503 when an entry is not committed within this time', value: 'MS', default: '1000' },
    ...outputFlag,
  },
  details: [
    'The key password comes from SIGIL_PASSWORD (or COSIGN_PASSWORD), else it is asked for on the terminal.',
    'Every write is answered once its entry is on disk and covered by a signed checkpoint. On SQLite the log commits',
    'on the HTTP thread, flushes the WAL (fdatasync) and copies it into the database (checkpoints) off it; run one',
    'log serve per SQLite file, and use PostgreSQL for several frontends. An older SQLite log database is migrated',
    'to the current schema when opened.',
  ].join('\n'),
  async run(flags, positionals, io) {
    if (positionals.length) throw new SigilError('USAGE', `unexpected argument ${positionals[0]}`);
    const keyPath = requireFlag(flags, 'key', 'create a log key with: sigil log keygen --output-key-prefix log');
    const { host, port } = parseAddr(stringFlag(flags, 'addr') ?? '127.0.0.1:3000');
    const signer = await loadSigner(io, keyPath);
    const store = await openLogStore(stringFlag(flags, 'db') ?? 'sqlite:sigil-log.db', { sqliteDeferredSync: true });
    let origin = stringFlag(flags, 'origin');
    const log = await TransparencyLog.open({
      store,
      signer,
      origin: origin ?? `${host.includes(':') ? `[${host}]` : host}:${port}`,
      maxBatch: intFlag(flags, 'max-batch', 1, 1_000_000),
      batchDelayMs: intFlag(flags, 'batch-delay-ms', 0, 10_000),
      integrationTimeoutMs: intFlag(flags, 'integration-timeout-ms', 1, 600_000),
    }).catch(async (e: unknown) => {
      await store.close();
      throw e;
    });
    origin = log.origin;
    const threads = intFlag(flags, 'verify-threads', 0, 64) ?? DEFAULT_VERIFY_THREADS;
    const preparer = threads > 0 ? new WorkerPreparer(threads) : undefined;
    await preparer?.ready();
    const server = await serveLog(log, port, host, { maxBodyBytes: intFlag(flags, 'max-body-bytes', 1024, 64 * 1024 * 1024), ...(preparer ? { preparer } : {}) });
    const info = { url: server.url, origin, logId: log.logId.toString('hex'), keyDetails: signer.keyDetails };
    io.stdout.write(
      flags.output === 'json' ? JSON.stringify(info) + '\n' : `sigil log listening on ${info.url} (origin ${origin}, log ID ${info.logId})\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
    const stats = log.sequencer.stats;
    io.stderr.write(`sigil log: stopped after ${stats.entries} entries, handed to the store in ${stats.batches} batches (largest ${stats.maxBatch})\n`);
    await log.close();
    await preparer?.close();
    return EXIT_OK;
  },
};
