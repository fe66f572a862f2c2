/**
 * The small HTTP toolkit sigil's services share: bounded request bodies, JSON replies, errors
 * mapped from SigilError codes to HTTP status, a per-client token-bucket rate limiter, and
 * listen/close helpers that report the bound port (tests listen on port 0).
 *
 * Every service faces untrusted clients, so bodies are read with a hard byte limit (a request
 * larger than the limit is refused with 413 before it is buffered) and every failure becomes a
 * JSON error object, never a stack trace.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SigilError, isSigilError, type ErrorCode } from '../core/errors.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Exact path, or a RegExp matched against the whole path. */
  path: string | RegExp;
  handler: Handler;
}

/** HTTP status for each error code a service may raise; anything else is a 400 or, for INTERNAL, a 500. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 401,
  IDENTITY_MISMATCH: 403,
  KEY_MISMATCH: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INTERNAL: 500,
  STORAGE: 500,
  NETWORK: 502,
};

export class HttpError extends SigilError {
  readonly status: number;
  constructor(status: number, code: ErrorCode, message: string, hint?: string) {
    super(code, message, hint === undefined ? {} : { hint });
    this.status = status;
  }
}

export function statusFor(e: SigilError): number {
  if (e instanceof HttpError) return e.status;
  return STATUS[e.code] ?? (e.kind === 'internal' ? 500 : 400);
}

/** Reads the whole body, refusing (413) as soon as it grows past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    throw new HttpError(413, 'USAGE', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`);
  }
  // Plain events rather than the stream's async iterator: this runs for every log entry, and the
  // iterator's promise per chunk is measurable there.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(new HttpError(413, 'USAGE', `request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(new HttpError(400, 'USAGE', `reading the request body failed: ${e.message}`));
    };
    const onAborted = () => onError(new Error('the client closed the connection'));
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** sendJson for a body that is already JSON text. */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendBytes(res: ServerResponse, status: number, contentType: string, body: Uint8Array | string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The JSON error body: `{code, message, hint?}` (Fulcio's gRPC gateway uses {code, message} the same way). */
export function sendError(res: ServerResponse, e: unknown): void {
  const err = isSigilError(e) ? e : new SigilError('INTERNAL', `internal error: ${(e as Error)?.message ?? String(e)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const extra: Record<string, string> = {};
  if (e instanceof HttpError && e.status === 429) extra['retry-after'] = '1';
  sendJson(res, statusFor(err), { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) }, extra);
}

/**
 * Token bucket per client address: `ratePerSecond` sustained, `burst` at once. Refilling is
 * computed lazily from the clock on each request, so idle clients cost nothing; buckets of
 * clients idle for a minute are dropped so the map cannot grow without bound.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;
  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(client: string): boolean {
    const t = this.now();
    if (t - this.lastSweep > 60_000) {
      for (const [k, b] of this.buckets) if (t - b.at > 60_000) this.buckets.delete(k);
      this.lastSweep = t;
    }
    const b = this.buckets.get(client) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.ratePerSecond);
    b.at = t;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.buckets.set(client, b);
    return ok;
  }
}

export interface RouterOptions {
  /** Applied to every request when set (429 when the client's bucket is empty). */
  rateLimiter?: RateLimiter;
  /** Name shown in the `server` header and error messages. */
  name: string;
}

/** Builds a request listener from a route table; unknown paths are 404, wrong methods 405. */
export function router(routes: Route[], opts: RouterOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (opts.rateLimiter && !opts.rateLimiter.take(req.socket.remoteAddress ?? 'unknown')) {
          throw new HttpError(429, 'USAGE', `${opts.name}: too many requests`, 'slow down and retry after a second');
        }
        const matching = routes.filter((r) => (typeof r.path === 'string' ? r.path === url.pathname : r.path.test(url.pathname)));
        if (matching.length === 0) throw new HttpError(404, 'NOT_FOUND', `${opts.name}: no such endpoint ${url.pathname}`);
        const route = matching.find((r) => r.method === req.method);
        if (!route) {
          res.setHeader('allow', matching.map((r) => r.method).join(', '));
          throw new HttpError(405, 'USAGE', `${opts.name}: method ${req.method ?? '?'} not allowed on ${url.pathname}`);
        }
        await route.handler(req, res, url);
      } catch (e) {
        // Drain what the client still sends so the socket can be reused or closed cleanly.
        req.resume();
        sendError(res, e);
      }
    })();
  };
}

export interface RunningServer {
  server: Server;
  port: number;
  /** Base URL, e.g. http://127.0.0.1:5555 */
  url: string;
  close(): Promise<void>;
}

/** Listens on host:port (0 = any free port) and resolves once bound. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, port: number, host = '127.0.0.1'): Promise<RunningServer> {
  const server = createServer(handler);
  // Slow-loris protection: a client gets 30 s to send its headers and body.
  server.headersTimeout = 30_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new SigilError('NETWORK', `cannot listen on ${host}:${port}: ${e.message}`, {
          hint: e.code === 'EADDRINUSE' ? 'another process uses the port; pick another with --port' : undefined,
          cause: e,
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    port: addr.port,
    url: `http://${hostForUrl}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves several services from one port under path prefixes (`/ca`, `/tsa`, …): the prefix is
 * stripped before the service sees the request, so each service's routes are the same as when
 * it runs alone. `GET /` lists the mounted services.
 */
export function mount(services: Record<string, RequestListener>, index: () => unknown): RequestListener {
  return (req, res) => {
    // Read per request: services may be mounted after the server started listening.
    const prefixes = Object.keys(services).sort((a, b) => b.length - a.length);
    const raw = req.url ?? '/';
    const path = raw.split('?')[0]!;
    if (path === '/' && req.method === 'GET') {
      sendJson(res, 200, index());
      return;
    }
    const prefix = prefixes.find((p) => path === p || path.startsWith(p + '/'));
    if (!prefix) {
      req.resume();
      sendError(res, new HttpError(404, 'NOT_FOUND', `no service at ${path}`, `services: ${prefixes.join(', ')}`));
      return;
    }
    req.url = raw.slice(prefix.length) || '/';
    if (req.url.startsWith('?')) req.url = '/' + req.url;
    services[prefix]!(req, res);
  };
}
