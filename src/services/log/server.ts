/**
 * HTTP front of the transparency log.
 *
 * Write: `POST /api/v2/log/entries` (Rekor v2: hashedRekordRequestV002 | dsseRequestV002 →
 * TransparencyLogEntry; a duplicate returns the existing entry with status 200 and
 * `x-log-index`), `POST /api/v1/log/entries` (Rekor v1 proposed entries → `{uuid: LogEntry}`,
 * 409 + Location for a duplicate). Requests must be `application/json` and at most
 * `maxBodyBytes` (default 128 KiB); every entry is verified before it is sequenced.
 *
 * Read: C2SP tlog-tiles `/checkpoint`, `/tile/<L>/<N>[.p/<W>]`, `/tile/entries/<N>[.p/<W>]` (also
 * under /api/v2/ as rekor-tiles' gateway routes them), full tiles with immutable cache headers;
 * Rekor v1 `GET /api/v1/log`, `/api/v1/log/publicKey`, `/api/v1/log/proof?firstSize&lastSize`,
 * `/api/v1/log/entries/<uuid>`, `/api/v1/log/entries?logIndex=N`; and
 * `/api/v1/log/proof/inclusion?logIndex=N|leafHash=H[&treeSize=S]`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportPublicKeyPem } from '../../crypto/keys.js';
import { parseTilePath } from '../../merkle/tiles.js';
import { HttpError, listen, readBody, router, sendBytes, sendJson, sendJsonText, type Route, type RunningServer } from '../http.js';
import type { TransparencyLog } from './log.js';
import { inlinePreparer, type EntryPreparer } from './verify-pool.js';
import { entryUuid, logEntryV1, transparencyLogEntryV2Json, type EntryView } from './responses.js';

export const DEFAULT_MAX_BODY_BYTES = 128 * 1024;

export interface LogServerOptions {
  maxBodyBytes?: number;
  /** Where entries are parsed and verified (default: on the HTTP thread). */
  preparer?: EntryPreparer;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

async function readJsonRequest(req: IncomingMessage, limit: number): Promise<Buffer> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    // Drain before refusing so the client sees the 415 rather than a reset connection.
    req.resume();
    throw new HttpError(415, 'USAGE', `content type ${JSON.stringify(type || '(none)')} is not accepted`, 'send the entry as application/json');
  }
  return readBody(req, limit);
}

function intParam(url: URL, name: string, required: true): number;
function intParam(url: URL, name: string, required: false): number | undefined;
function intParam(url: URL, name: string, required: boolean): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) {
    if (required) throw new HttpError(400, 'USAGE', `query parameter ${name} is required`);
    return undefined;
  }
  if (!/^(0|[1-9][0-9]{0,15})$/.test(v) || !Number.isSafeInteger(Number(v))) throw new HttpError(400, 'USAGE', `query parameter ${name}=${JSON.stringify(v)} is not a non-negative integer`);
  return Number(v);
}

function leafHashFromUuid(s: string): Buffer {
  // Rekor v1 UUIDs are the 64-hex leaf hash, optionally behind a 16-hex tree ID.
  if (!/^([0-9a-f]{16})?[0-9a-f]{64}$/i.test(s)) throw new HttpError(400, 'USAGE', `${JSON.stringify(s)} is not an entry UUID (64 or 80 hex digits)`);
  return Buffer.from(s.slice(-64), 'hex');
}

export function logRoutes(log: TransparencyLog, opts: LogServerOptions = {}): Route[] {
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const preparer = opts.preparer ?? inlinePreparer;

  const storedView = async (index: number): Promise<EntryView> => {
    const e = await log.entry(index);
    const { head, proof } = await log.inclusionProof(index);
    return { ...e, head, proof };
  };

  const sendTile = async (res: ServerResponse, path: string): Promise<void> => {
    const ref = parseTilePath(path.replace(/^\/api\/v2\//, '/'));
    const tile = await log.tile(ref);
    if (!tile) throw new HttpError(404, 'NOT_FOUND', `tile ${path} is not in the published tree yet`);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': tile.body.length,
      'cache-control': tile.full ? IMMUTABLE : 'no-cache',
    });
    res.end(tile.body);
  };

  const sendCheckpoint = async (res: ServerResponse): Promise<void> => {
    const head = await log.head();
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(head.checkpoint) });
    res.end(head.checkpoint);
  };

  return [
    {
      method: 'POST',
      path: '/api/v2/log/entries',
      handler: async (req, res) => {
        const entry = await preparer.prepare('v2', await readJsonRequest(req, limit));
        const logged = await log.add(entry);
        sendJsonText(res, logged.duplicate ? 200 : 201, transparencyLogEntryV2Json(logged, log.logId), logged.duplicate ? { 'x-log-index': String(logged.index) } : {});
      },
    },
    {
      method: 'POST',
      path: '/api/v1/log/entries',
      handler: async (req, res) => {
        const entry = await preparer.prepare('v1', await readJsonRequest(req, limit));
        const logged = await log.add(entry);
        const uuid = entryUuid(logged.leafHash);
        const location = `/api/v1/log/entries/${uuid}`;
        if (logged.duplicate) {
          sendJson(res, 409, { code: 409, message: `an equivalent entry already exists in the transparency log with UUID ${uuid}` }, { location });
          return;
        }
        sendJson(res, 201, await logEntryV1(logged, log.logId, log.signer), { location, etag: uuid });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/v1\/log\/entries\/[^/]+$/,
      handler: async (_req, res, url) => {
        const e = await log.entryByLeafHash(leafHashFromUuid(url.pathname.split('/').pop()!));
        sendJson(res, 200, await logEntryV1(await storedView(e.index), log.logId, log.signer));
      },
    },
    {
      method: 'GET',
      path: '/api/v1/log/entries',
      handler: async (_req, res, url) => {
        sendJson(res, 200, await logEntryV1(await storedView(intParam(url, 'logIndex', true)), log.logId, log.signer));
      },
    },
    {
      method: 'GET',
      path: '/api/v1/log',
      handler: async (_req, res) => {
        const head = await log.head();
        sendJson(res, 200, {
          rootHash: head.rootHash.toString('hex'),
          treeSize: head.size,
          signedTreeHead: head.checkpoint,
          treeID: '0',
          origin: log.origin,
          logID: log.logId.toString('hex'),
        });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/log/publicKey',
      handler: (_req, res) => sendBytes(res, 200, 'application/x-pem-file', exportPublicKeyPem(log.publicKey)),
    },
    {
      method: 'GET',
      path: '/api/v1/log/proof',
      handler: async (_req, res, url) => {
        const first = intParam(url, 'firstSize', true);
        const last = intParam(url, 'lastSize', false);
        const p = await log.consistencyProof(first, last);
        sendJson(res, 200, {
          rootHash: p.second.rootHash.toString('hex'),
          hashes: p.proof.map((h) => h.toString('hex')),
          firstSize: p.first.size,
          lastSize: p.second.size,
          firstCheckpoint: p.first.checkpoint,
          checkpoint: p.second.checkpoint,
        });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/log/proof/inclusion',
      handler: async (_req, res, url) => {
        const leaf = url.searchParams.get('leafHash');
        let index = intParam(url, 'logIndex', false);
        if (index === undefined) {
          if (leaf === null) throw new HttpError(400, 'USAGE', 'give logIndex or leafHash');
          const hash = /^[0-9a-f]{64}$/i.test(leaf) ? Buffer.from(leaf, 'hex') : Buffer.from(leaf, 'base64');
          if (hash.length !== 32) throw new HttpError(400, 'USAGE', 'leafHash must be 32 bytes in hex or base64');
          index = (await log.entryByLeafHash(hash)).index;
        }
        const { head, proof } = await log.inclusionProof(index, intParam(url, 'treeSize', false));
        sendJson(res, 200, {
          logIndex: index,
          treeSize: head.size,
          rootHash: head.rootHash.toString('hex'),
          hashes: proof.map((h) => h.toString('hex')),
          checkpoint: head.checkpoint,
        });
      },
    },
    { method: 'GET', path: /^\/(api\/v2\/)?checkpoint$/, handler: (_req, res) => sendCheckpoint(res) },
    { method: 'GET', path: /^\/(api\/v2\/)?tile\/.+$/, handler: (_req, res, url) => sendTile(res, url.pathname) },
  ];
}

export function logRequestHandler(log: TransparencyLog, opts: LogServerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  return router(logRoutes(log, opts), { name: 'sigil log' });
}

export async function serveLog(log: TransparencyLog, port: number, host = '127.0.0.1', opts: LogServerOptions = {}): Promise<RunningServer> {
  return listen(logRequestHandler(log, opts), port, host);
}
