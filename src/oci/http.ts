/**
 * The HTTP layer under the registry client: one keep-alive connection pool per client (a verify
 * of 32 images in flight reuses sockets instead of paying a TCP/TLS handshake per request),
 * per-request idle timeouts, redirects that never carry credentials to another host, and a
 * counter of round trips for the benchmark. node:http is used directly rather than fetch so that
 * response bodies can be streamed with back-pressure and counted exactly.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { SigilError } from '../core/errors.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Socket idle timeout: the request fails when nothing arrives for this long. */
  timeoutMs: number;
  /** Skip TLS certificate checks (only for registries the user declared insecure). */
  insecureTls?: boolean;
  /** Follow redirects (GET/HEAD of blobs and manifests may be redirected to storage). */
  followRedirects?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** URL that answered, after redirects. */
  url: URL;
  body: IncomingMessage;
}

export interface RequestRecord {
  method: HttpMethod;
  url: string;
  status: number;
}

const MAX_REDIRECTS = 5;

export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly insecureHttpsAgent: https.Agent;
  /** Every round trip made (including redirects and auth retries). */
  requestCount = 0;
  /** TCP connections opened (keep-alive reuse shows as far fewer connections than requests). */
  connectionCount = 0;
  onRequest: ((r: RequestRecord) => void) | undefined;

  constructor(maxSockets = 64) {
    const opts = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const };
    this.httpAgent = new http.Agent(opts);
    this.httpsAgent = new https.Agent(opts);
    this.insecureHttpsAgent = new https.Agent({ ...opts, rejectUnauthorized: false });
    for (const a of [this.httpAgent, this.httpsAgent, this.insecureHttpsAgent]) this.countConnections(a);
  }

  private countConnections(agent: http.Agent): void {
    const create = (agent as unknown as { createConnection: (...a: unknown[]) => unknown }).createConnection.bind(agent);
    (agent as unknown as { createConnection: (...a: unknown[]) => unknown }).createConnection = (...a: unknown[]) => {
      this.connectionCount++;
      return create(...a);
    };
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let headers = { ...(req.headers ?? {}) };
    for (let hop = 0; ; hop++) {
      const res = await this.once({ ...req, url, headers });
      const loc = res.headers.location;
      if (req.followRedirects && [301, 302, 303, 307, 308].includes(res.status) && loc && hop < MAX_REDIRECTS) {
        res.body.resume();
        const next = new URL(loc, url);
        // distribution spec "API": clients MUST NOT forward Authorization across host boundaries.
        if (next.host !== url.host) {
          const { authorization: _drop, Authorization: _drop2, ...rest } = headers;
          headers = rest;
        }
        url = next;
        continue;
      }
      return res;
    }
  }

  private once(req: HttpRequest): Promise<HttpResponse> {
    const isHttps = req.url.protocol === 'https:';
    const mod = isHttps ? https : http;
    const agent = isHttps ? (req.insecureTls ? this.insecureHttpsAgent : this.httpsAgent) : this.httpAgent;
    const headers: Record<string, string> = { 'user-agent': 'sigil/0.1', ...(req.headers ?? {}) };
    if (req.body) headers['content-length'] = String(req.body.byteLength);
    else if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') headers['content-length'] = '0';
    this.requestCount++;
    return new Promise<HttpResponse>((resolve, reject) => {
      const r = mod.request(req.url, { method: req.method, headers, agent }, (res) => {
        // The idle timeout keeps guarding the body while the caller reads it.
        res.on('error', () => undefined);
        this.onRequest?.({ method: req.method, url: req.url.href, status: res.statusCode ?? 0 });
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url: req.url, body: res });
      });
      r.setTimeout(req.timeoutMs, () => {
        r.destroy(new SigilError('NETWORK', `${req.method} ${req.url.host}${req.url.pathname}: no response for ${req.timeoutMs} ms`, { hint: 'the registry is slow or unreachable; raise the timeout or retry later' }));
      });
      r.on('error', (e) => reject(e));
      r.end(req.body ? Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength) : undefined);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.insecureHttpsAgent.destroy();
  }
}

/** Reads a whole response body, refusing more than `limit` bytes (a hostile registry cannot exhaust memory). */
export async function readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new SigilError('INPUT_UNREADABLE', `${what} is ${declared} bytes, more than the ${limit}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) {
      res.body.destroy();
      throw new SigilError('INPUT_UNREADABLE', `${what} is more than the ${limit}-byte limit`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks, n);
}

/** Drains and discards a body so the socket returns to the keep-alive pool. */
export async function discardBody(res: HttpResponse): Promise<void> {
  if (res.body.readableEnded) return;
  try {
    for await (const _ of res.body) {
      /* discard */
    }
  } catch {
    /* the connection is gone; nothing to return to the pool */
  }
}

export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** RFC 8288 `Link: <url>; rel="next"` → the next URL, resolved against the request URL. */
export function nextLink(res: HttpResponse): URL | undefined {
  const link = header(res, 'link');
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/i.test(m[2]!)) return new URL(m[1]!, res.url);
  }
  return undefined;
}
