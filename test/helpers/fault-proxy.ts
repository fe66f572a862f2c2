/**
 * A tiny HTTP proxy in front of a real registry that injects faults the registry itself never
 * produces on demand: 5xx answers that stop after N requests (a registry recovering), a body cut
 * off mid-way (truncated blob), or one flipped byte (content that no longer matches its digest).
 * The Host header is forwarded unchanged so the registry's absolute upload Locations point back
 * at the proxy.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Fault {
  /** Which requests to disturb, e.g. (m, p) => m === 'GET' && p.includes('/blobs/'). */
  match: (method: string, path: string) => boolean;
  kind: 'status' | 'truncate' | 'corrupt';
  /** Status for kind 'status' (default 500). */
  status?: number;
  /** How many matching requests to disturb; later ones pass through. */
  times: number;
}

export interface FaultProxy {
  host: string;
  /** Every request seen: `METHOD path -> status`. */
  requests: string[];
  /** TCP connections accepted so far (keep-alive checks). */
  connections(): number;
  setFault(f: Fault | undefined): void;
  stop(): Promise<void>;
}

export async function startFaultProxy(upstreamHost: string): Promise<FaultProxy> {
  const [uh, up] = upstreamHost.split(':') as [string, string];
  const requests: string[] = [];
  let fault: Fault | undefined;
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const f = fault && fault.times > 0 && fault.match(method, path) ? fault : undefined;
    if (f) f.times--;
    if (f?.kind === 'status') {
      req.resume();
      const status = f.status ?? 500;
      requests.push(`${method} ${path} -> ${status} (injected)`);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected fault' }] }));
      return;
    }
    const fwd = http.request({ host: uh, port: Number(up), method, path, headers: req.headers, agent }, (ures) => {
      requests.push(`${method} ${path} -> ${ures.statusCode}${f ? ` (${f.kind})` : ''}`);
      const chunks: Buffer[] = [];
      ures.on('data', (c: Buffer) => chunks.push(c));
      ures.on('end', () => {
        const body = Buffer.concat(chunks);
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        if (f?.kind === 'truncate' && body.length > 1) {
          // Announce the full length, send half, then drop the connection.
          res.write(body.subarray(0, Math.floor(body.length / 2)));
          setTimeout(() => res.socket?.destroy(), 10);
          return;
        }
        if (f?.kind === 'corrupt' && body.length > 0) {
          const i = Math.floor(body.length / 2);
          const c = Buffer.from(body);
          // Flip a letter's case: JSON stays parseable, the digest changes.
          c[i] = c[i]! ^ 0x20;
          res.end(c);
          return;
        }
        res.end(body);
      });
    });
    fwd.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(fwd);
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    setFault: (f) => (fault = f ? { ...f } : undefined),
    stop: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
