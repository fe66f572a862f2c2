/**
 * A small in-memory registry that follows the OCI distribution spec 1.1 (opencontainers/
 * distribution-spec spec.md) where Debian's distribution 2.8 does not: the referrers API
 * (end-12a/12b, with artifactType filtering and Link pagination), OCI-Subject on manifest push,
 * single-POST monolithic uploads (end-4b), tags/list with n/last and Link (end-8b), and bearer
 * token auth with scopes (the Docker token protocol). It exists because no registry with the
 * referrers API can be installed from Debian or npm here; test/oci/referrers-registry.test.ts
 * checks its answers against the spec's MUST clauses, quoted there.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  OCI_INDEX,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export interface ReferrersRegistryOptions {
  /** Require bearer tokens; the token endpoint takes these basic credentials. */
  bearer?: { username: string; password: string };
  /** Page size of referrers and tags/list answers (spec: Link header when the list does not fit). */
  pageSize?: number;
  /** Support the referrers API (true) or answer 404 there like distribution 2.8 (false). */
  referrersApi?: boolean;
}

interface Stored {
  bytes: Buffer;
  contentType: string;
}

interface Upload {
  name: string;
  data: Buffer[];
  size: number;
}

export interface ReferrersRegistry {
  host: string;
  url: string;
  /** Requests seen, `METHOD path?query`, for round-trip assertions. */
  requests: string[];
  /** Tokens issued (with their scopes), for auth assertions. */
  tokensIssued: { scopes: string[] }[];
  blobs: Map<string, Buffer>;
  stop(): Promise<void>;
}

function sha256(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

function errorBody(code: string, message: string, detail?: unknown): string {
  return JSON.stringify({ errors: [{ code, message, ...(detail !== undefined ? { detail } : {}) }] });
}

export async function startReferrersRegistry(opts: ReferrersRegistryOptions = {}): Promise<ReferrersRegistry> {
  const pageSize = opts.pageSize ?? 100;
  const referrersApi = opts.referrersApi ?? true;
  const blobs = new Map<string, Buffer>(); // registry-wide store; membership per repository below
  const repoBlobs = new Map<string, Set<string>>();
  const manifests = new Map<string, Map<string, Stored>>(); // name → digest → manifest
  const tags = new Map<string, Map<string, string>>(); // name → tag → digest
  const uploads = new Map<string, Upload>();
  const tokens = new Map<string, Set<string>>(); // token → granted "name:action"
  const requests: string[] = [];
  const tokensIssued: { scopes: string[] }[] = [];
  let origin = '';

  const repoSet = <T>(m: Map<string, T>, name: string, make: () => T): T => {
    let v = m.get(name);
    if (!v) m.set(name, (v = make()));
    return v;
  };

  const granted = (req: http.IncomingMessage, name: string, action: 'pull' | 'push'): boolean => {
    if (!opts.bearer) return true;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return !!m && !!tokens.get(m[1]!)?.has(`${name}:${action}`);
  };

  const challenge = (res: http.ServerResponse, name?: string, actions?: string): void => {
    const scope = name ? `,scope="repository:${name}:${actions}"` : '';
    res.writeHead(401, {
      'www-authenticate': `Bearer realm="${origin}/token",service="sigil-test"${scope}`,
      'content-type': 'application/json',
      'docker-distribution-api-version': 'registry/2.0',
    });
    res.end(errorBody('UNAUTHORIZED', 'authentication required'));
  };

  const token = (req: http.IncomingMessage, res: http.ServerResponse, url: URL): void => {
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [u, p] = basic ? Buffer.from(basic[1]!, 'base64').toString().split(':') : [];
    if (!opts.bearer || u !== opts.bearer.username || p !== opts.bearer.password) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ details: 'bad credentials' }));
      return;
    }
    const grant = new Set<string>();
    const scopes = url.searchParams.getAll('scope');
    for (const scope of scopes) {
      const m = /^repository:([^:]+):(.+)$/.exec(scope);
      if (m) for (const a of m[2]!.split(',')) grant.add(`${m[1]}:${a}`);
    }
    const t = randomUUID();
    tokens.set(t, grant);
    tokensIssued.push({ scopes });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: t, expires_in: 300 }));
  };

  /** Descriptor of a manifest in a referrers list (spec "Listing Referrers" MUST clauses). */
  const referrerDescriptor = (digest: string, s: Stored): Record<string, unknown> | undefined => {
    const doc = JSON.parse(s.bytes.toString()) as Record<string, unknown>;
    const d: Record<string, unknown> = { mediaType: s.contentType, digest, size: s.bytes.length };
    const at = (doc.artifactType as string | undefined) || (s.contentType !== OCI_INDEX ? (doc.config as { mediaType?: string } | undefined)?.mediaType : undefined);
    if (at) d.artifactType = at;
    if (doc.annotations) d.annotations = doc.annotations;
    return d;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> => {
    const url = new URL(req.url ?? '/', origin);
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}${url.search}`);
    const send = (status: number, headers: Record<string, string | string[]>, data?: Buffer | string): void => {
      res.writeHead(status, { 'docker-distribution-api-version': 'registry/2.0', ...headers });
      res.end(method === 'HEAD' ? undefined : data);
    };
    const err = (status: number, code: string, message: string, detail?: unknown): void =>
      send(status, { 'content-type': 'application/json' }, errorBody(code, message, detail));

    if (url.pathname === '/token') return token(req, res, url);
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      if (opts.bearer && !/^Bearer /.test(req.headers.authorization ?? '')) return challenge(res);
      return send(200, { 'content-type': 'application/json' }, '{}');
    }
    const m = /^\/v2\/(.+?)\/(manifests|blobs\/uploads|blobs|tags\/list|referrers)(?:\/(.*))?$/.exec(url.pathname);
    if (!m) return err(404, 'NOT_FOUND', 'no such route');
    const name = m[1]!;
    const kind = m[2]!;
    const ref = m[3] ?? '';
    if (!NAME_RE.test(name)) return err(400, 'NAME_INVALID', `invalid repository name ${name}`);
    const needPush = method === 'PUT' || method === 'POST' || method === 'PATCH' || method === 'DELETE';
    if (!granted(req, name, needPush ? 'push' : 'pull')) return challenge(res, name, needPush ? 'pull,push' : 'pull');

    if (kind === 'blobs' && (method === 'GET' || method === 'HEAD')) {
      const data = blobs.get(ref);
      if (!data || !repoBlobs.get(name)?.has(ref)) return err(404, 'BLOB_UNKNOWN', 'blob unknown to registry', ref);
      return send(200, { 'content-type': 'application/octet-stream', 'content-length': String(data.length), 'docker-content-digest': ref }, data);
    }

    if (kind === 'blobs/uploads') {
      if (method === 'POST' && !ref) {
        const mount = url.searchParams.get('mount');
        const from = url.searchParams.get('from');
        if (mount && from && repoBlobs.get(from)?.has(mount)) {
          // end-11: mount succeeded, no bytes needed.
          repoSet(repoBlobs, name, () => new Set()).add(mount);
          return send(201, { location: `/v2/${name}/blobs/${mount}`, 'docker-content-digest': mount, 'content-length': '0' });
        }
        const digest = url.searchParams.get('digest');
        if (digest && body.length > 0) {
          // end-4b: single-POST monolithic upload.
          if (!DIGEST_RE.test(digest) || sha256(body) !== digest) return err(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
          blobs.set(digest, body);
          repoSet(repoBlobs, name, () => new Set()).add(digest);
          return send(201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest, 'content-length': '0' });
        }
        const id = randomUUID();
        uploads.set(id, { name, data: [], size: 0 });
        return send(202, { location: `/v2/${name}/blobs/uploads/${id}`, range: '0-0', 'content-length': '0', 'docker-upload-uuid': id });
      }
      const up = uploads.get(ref);
      if (!up || up.name !== name) return err(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
      const loc = `/v2/${name}/blobs/uploads/${ref}`;
      if (method === 'GET') return send(204, { location: loc, range: `0-${Math.max(0, up.size - 1)}`, 'content-length': '0' });
      if (method === 'DELETE') {
        uploads.delete(ref);
        return send(204, {});
      }
      const appendChunk = (): boolean => {
        if (body.length === 0) return true;
        const range = req.headers['content-range'];
        if (range !== undefined) {
          const r = /^(\d+)-(\d+)$/.exec(range);
          // Chunks MUST be in order; otherwise 416 (spec "Pushing a blob in chunks").
          if (!r || Number(r[1]) !== up.size || Number(r[2]) - Number(r[1]) + 1 !== body.length) {
            send(416, { location: loc, range: `0-${Math.max(0, up.size - 1)}`, 'content-length': '0' });
            return false;
          }
        }
        up.data.push(body);
        up.size += body.length;
        return true;
      };
      if (method === 'PATCH') {
        if (!appendChunk()) return;
        return send(202, { location: loc, range: `0-${up.size - 1}`, 'content-length': '0' });
      }
      if (method === 'PUT') {
        if (!appendChunk()) return;
        const digest = url.searchParams.get('digest') ?? '';
        const data = Buffer.concat(up.data);
        if (!DIGEST_RE.test(digest) || sha256(data) !== digest) return err(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
        uploads.delete(ref);
        blobs.set(digest, data);
        repoSet(repoBlobs, name, () => new Set()).add(digest);
        return send(201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest, 'content-length': '0' });
      }
      return err(405, 'UNSUPPORTED', 'method not allowed');
    }

    if (kind === 'manifests') {
      const byName = repoSet(manifests, name, () => new Map());
      const tagMap = repoSet(tags, name, () => new Map());
      if (method === 'PUT') {
        const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        if (!MANIFEST_TYPES.has(ct)) return err(400, 'MANIFEST_INVALID', `unsupported manifest media type ${ct}`);
        let doc: Record<string, unknown>;
        try {
          doc = JSON.parse(body.toString()) as Record<string, unknown>;
        } catch {
          return err(400, 'MANIFEST_INVALID', 'manifest is not JSON');
        }
        // spec "Pushing Manifests": Content-Type MUST equal the mediaType field when present.
        if (doc.mediaType !== undefined && doc.mediaType !== ct) return err(400, 'MANIFEST_INVALID', 'mediaType does not match Content-Type');
        const digest = sha256(body);
        if (ref.includes(':') && ref !== digest) return err(400, 'DIGEST_INVALID', 'manifest digest does not match');
        if (!ref.includes(':') && !TAG_RE.test(ref)) return err(400, 'TAG_INVALID', 'invalid tag');
        // Blobs named by the manifest must exist (MAY reject); the subject need not (MUST accept).
        const named: string[] = [];
        const cfg = doc.config as { digest?: string } | undefined;
        if (cfg?.digest) named.push(cfg.digest);
        for (const l of (doc.layers as { digest: string }[] | undefined) ?? []) named.push(l.digest);
        const missing = named.filter((d) => !repoBlobs.get(name)?.has(d));
        if (missing.length) return err(400, 'MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', missing[0]);
        byName.set(digest, { bytes: body, contentType: ct });
        if (!ref.includes(':')) tagMap.set(ref, digest);
        const subject = (doc.subject as { digest?: string } | undefined)?.digest;
        return send(201, {
          location: `/v2/${name}/manifests/${digest}`,
          'docker-content-digest': digest,
          'content-length': '0',
          ...(subject && referrersApi ? { 'oci-subject': subject } : {}),
        });
      }
      const digest = ref.includes(':') ? ref : tagMap.get(ref);
      const stored = digest ? byName.get(digest) : undefined;
      if (method === 'DELETE') {
        if (!digest || !stored) return err(404, 'MANIFEST_UNKNOWN', 'manifest unknown');
        if (ref.includes(':')) byName.delete(digest);
        for (const [t, d] of tagMap) if (d === digest && (!ref.includes(':') ? t === ref : true)) tagMap.delete(t);
        return send(202, { 'content-length': '0' });
      }
      if (!digest || !stored) return err(404, 'MANIFEST_UNKNOWN', 'manifest unknown', ref);
      return send(200, { 'content-type': stored.contentType, 'content-length': String(stored.bytes.length), 'docker-content-digest': digest }, stored.bytes);
    }

    if (kind === 'tags/list' && method === 'GET') {
      const all = [...(tags.get(name)?.keys() ?? [])].sort();
      if (!manifests.has(name)) return err(404, 'NAME_UNKNOWN', 'repository name not known to registry');
      const n = url.searchParams.has('n') ? Number(url.searchParams.get('n')) : pageSize;
      const last = url.searchParams.get('last');
      const start = last ? all.findIndex((t) => t > last) : 0;
      const page = n === 0 ? [] : all.slice(start < 0 ? all.length : start, (start < 0 ? all.length : start) + n);
      const more = n > 0 && start >= 0 && start + n < all.length;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (more) headers.link = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1]!)}>; rel="next"`;
      return send(200, headers, JSON.stringify({ name, tags: page }));
    }

    if (kind === 'referrers' && method === 'GET') {
      if (!referrersApi) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 page not found\n');
        return;
      }
      if (!DIGEST_RE.test(ref)) return err(400, 'DIGEST_INVALID', 'invalid digest');
      const artifactType = url.searchParams.get('artifactType');
      const list: Record<string, unknown>[] = [];
      for (const [d, s] of manifests.get(name) ?? []) {
        const doc = JSON.parse(s.bytes.toString()) as { subject?: { digest?: string } };
        if (doc.subject?.digest !== ref) continue;
        const desc = referrerDescriptor(d, s);
        if (desc && (!artifactType || desc.artifactType === artifactType)) list.push(desc);
      }
      list.sort((a, b) => String(a.digest).localeCompare(String(b.digest)));
      const offset = Number(url.searchParams.get('offset') ?? '0');
      const page = list.slice(offset, offset + pageSize);
      const headers: Record<string, string> = { 'content-type': OCI_INDEX };
      if (artifactType) headers['oci-filters-applied'] = 'artifactType';
      if (offset + pageSize < list.length) {
        const next = new URLSearchParams({ offset: String(offset + pageSize), ...(artifactType ? { artifactType } : {}) });
        headers.link = `</v2/${name}/referrers/${ref}?${next}>; rel="next"`;
      }
      return send(200, headers, JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: page }));
    }
    return err(405, 'UNSUPPORTED', 'method not allowed');
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(e));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    host: `127.0.0.1:${port}`,
    url: origin,
    requests,
    tokensIssued,
    blobs,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
