/**
 * Floor for the log write benchmark (bench/log.ts): the same HTTP front and the same entry
 * verification as `sigil log serve` — node:http, the log's router, readBody, prepareRequest
 * (JSON, per-kind checks, P-256 signature over the digest, canonical body) inline or on
 * `--verify-threads` threads — but no log behind it: each request is answered at once with a
 * TransparencyLogEntry of the real size (a fixed 16-hash proof). What a log costs on top of
 * receiving and verifying entries is the difference between the two benchmarks.
 * Run by bench/log.ts as a child process: `node --import tsx bench/_log-floor-server.ts PORT THREADS` (port 0: any free port).
 */
import { DEFAULT_MAX_BODY_BYTES } from '../src/services/log/server.js';
import { listen, readBody, router, sendJsonText } from '../src/services/http.js';
import { WorkerPreparer, inlinePreparer } from '../src/services/log/verify-pool.js';
import { transparencyLogEntryV2Json } from '../src/services/log/responses.js';

const [port, threads] = process.argv.slice(2).map(Number) as [number, number];
const preparer = threads > 0 ? new WorkerPreparer(threads) : inlinePreparer;
if (preparer instanceof WorkerPreparer) await preparer.ready();
const head = { size: 1 << 16, rootHash: Buffer.alloc(32, 7), checkpoint: `bench.log\n65536\n${Buffer.alloc(32, 7).toString('base64')}\n\n— bench.log ${Buffer.alloc(75, 1).toString('base64')}\n` };
const proof = Array.from({ length: 16 }, (_, i) => Buffer.alloc(32, i));
const logId = Buffer.alloc(32, 9);
let index = 0;
const server = await listen(
  router(
    [
      {
        method: 'POST',
        path: '/api/v2/log/entries',
        handler: async (req, res) => {
          const e = await preparer.prepare('v2', await readBody(req, DEFAULT_MAX_BODY_BYTES));
          sendJsonText(res, 201, transparencyLogEntryV2Json({ ...e, index: index++, integratedTime: 0, head, proof }, logId));
        },
      },
    ],
    { name: 'floor' },
  ),
  port,
);
process.stdout.write(`floor listening on ${server.url}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => preparer.close()).then(() => process.exit(0));
});
