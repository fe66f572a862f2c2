/**
 * A registry client for the OCI distribution spec 1.1 (spec.md in opencontainers/distribution-spec):
 * manifests with the right Accept headers, digest-checked blobs (whole or streamed), monolithic
 * and chunked uploads with HEAD-before-upload and cross-repository mounts, tag listing with Link
 * pagination, and the referrers API with the spec's fallback to the `sha256-<hex>` referrers tag
 * schema ("Backwards Compatibility") for registries that lack it (Debian's distribution 2.8).
 *
 * Authentication follows the registry's WWW-Authenticate challenge (Basic, or Bearer through the
 * token protocol) with credentials from Docker's config.json. Plain HTTP is used for loopback
 * registries, as Docker does, and for registries the user names insecure. 429 and 5xx answers and
 * dropped connections are retried with exponential backoff; 401/403/404 become errors that name
 * the registry and the repository.
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { SigilError, isSigilError } from '../core/errors.js';
import { isObject, parseJson } from '../core/json.js';
import { digest as hashBytes } from '../core/digest.js';
import { HttpTransport, discardBody, header, nextLink, readBody, type HttpMethod, type HttpResponse } from './http.js';
import { basicAuthorization, loadDockerCredentials, parseChallenges, repositoryScope, type Credentials } from './auth.js';
import { checkDigest, isLoopbackRegistry, manifestReference, registryApiHost, type ImageReference } from './reference.js';
import { MANIFEST_ACCEPT, OCI_INDEX, isManifestMediaType } from './media-types.js';
import { parseManifest, referrerDescriptor, type Descriptor, type Manifest } from './manifest.js';

/** A repository on a registry: the part of an image reference that requests are scoped to. */
export interface RepositoryRef {
  registry: string;
  repository: string;
}

export interface RegistryClientOptions {
  /** Registries (host[:port]) that may be reached over plain HTTP or TLS without certificate checks. */
  insecureRegistries?: readonly string[];
  /** Environment for HOME / DOCKER_CONFIG. */
  env?: NodeJS.ProcessEnv;
  /** Docker config.json to read credentials from (default $DOCKER_CONFIG/config.json or ~/.docker/config.json). */
  dockerConfigPath?: string;
  /** Credentials by registry, taking precedence over config.json. */
  credentials?: Record<string, Credentials>;
  /** Socket idle timeout per request (default 30 s). */
  timeoutMs?: number;
  /** Retries after a 429/5xx answer or a dropped connection (default 4). */
  retries?: number;
  /** First backoff delay; doubles per retry, with jitter (default 100 ms). */
  retryBaseMs?: number;
  /** Connection pool size per client (default 64). */
  maxSockets?: number;
  /** Blobs larger than this are uploaded in PATCH chunks of this size (default 16 MiB). */
  chunkSize?: number;
  /** How long a referrers list stays cached in this client (default 0: always asked). */
  referrersCacheTtlMs?: number;
  /** Called before each backoff sleep (used by the CLI to print a warning). */
  onRetry?: (info: { method: string; url: string; attempt: number; reason: string; delayMs: number }) => void;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  /** Digest of `bytes` (verified against the requested digest or the registry's Docker-Content-Digest). */
  digest: string;
  manifest: Manifest;
}

export interface ReferrersResult {
  descriptors: Descriptor[];
  /** Where the list came from: the referrers API or the referrers tag schema. */
  source: 'api' | 'tag-schema';
}

export interface PutBlobResult {
  digest: string;
  size: number;
  /** How the registry got the blob: it had it already, mounted it from another repository, or received it. */
  how: 'existed' | 'mounted' | 'uploaded';
}

export interface PutManifestResult {
  digest: string;
  /** The registry answered with OCI-Subject, i.e. it indexes the subject itself (referrers API). */
  subjectProcessed: boolean;
}

type AuthState = { kind: 'none' } | { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

interface RegistryState {
  base?: Promise<{ origin: string; insecureTls: boolean }>;
  auth: AuthState;
  tokens: Map<string, { value: string; expiresAt: number }>;
  credentials?: Credentials | null;
  helper?: string;
  /** Learned once per registry: whether GET /v2/<name>/referrers/<digest> exists. */
  referrersApi?: boolean;
  /** The first referrers request in flight: concurrent lookups wait for it instead of probing too. */
  referrersProbe?: Promise<unknown>;
}

interface RequestSpec {
  method: HttpMethod;
  /** Absolute URL, or a path starting with /v2/. */
  target: string | URL;
  repo: RepositoryRef;
  actions: readonly ('pull' | 'push')[];
  /** Additional token scopes (cross-repository mount needs pull on the source). */
  extraScopes?: readonly string[];
  headers?: Record<string, string>;
  body?: Uint8Array;
  followRedirects?: boolean;
  /** False for requests that must not be repeated blindly (a PATCH whose offset the server may have taken). */
  retry?: boolean;
}

const MAX_MANIFEST_BYTES = 8 << 20;
const MAX_ERROR_BODY = 64 << 10;
const MAX_TOKEN_BODY = 1 << 20;
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRY_ERRNO = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** sha256/sha512 of `data` as `alg:hex`, in the algorithm of `like` (default sha256). */
export function digestOf(data: Uint8Array, like = 'sha256:'): string {
  const alg = like.startsWith('sha512:') ? 'sha512' : 'sha256';
  return `${alg}:${hashBytes(alg, data).toString('hex')}`;
}

/** The referrers tag schema: `<alg>-<hex>` truncated to 32/64 characters (spec "Referrers Tag Schema"). */
export function referrersTag(digest: string): string {
  const [alg, enc] = digest.split(':') as [string, string];
  return `${alg.slice(0, 32)}-${enc.slice(0, 64)}`.replace(/[^a-zA-Z0-9._-]/g, '-');
}

export class RegistryClient {
  private readonly http: HttpTransport;
  private readonly states = new Map<string, RegistryState>();
  private readonly referrersCache = new Map<string, { at: number; result: ReferrersResult }>();
  /**
   * Blobs this client has seen stored (HEAD 200 or an upload it made), by registry/repo@digest.
   * Content-addressed, so the answer cannot change except by deletion; it saves the HEAD before
   * re-uploading shared blobs such as the empty config of every referrer.
   */
  private readonly knownBlobs = new Set<string>();
  private readonly opts: Required<Pick<RegistryClientOptions, 'timeoutMs' | 'retries' | 'retryBaseMs' | 'chunkSize' | 'referrersCacheTtlMs'>> &
    RegistryClientOptions;
  private readonly insecure: Set<string>;

  constructor(options: RegistryClientOptions = {}) {
    this.opts = { timeoutMs: 30_000, retries: 4, retryBaseMs: 100, chunkSize: 16 << 20, referrersCacheTtlMs: 0, ...options };
    this.http = new HttpTransport(options.maxSockets ?? 64);
    this.insecure = new Set((options.insecureRegistries ?? []).map((r) => r.toLowerCase()));
  }

  /** Round trips made so far (every HTTP request, including auth and retries). */
  get requestCount(): number {
    return this.http.requestCount;
  }

  /** TCP connections opened so far (one pool per client). */
  get connectionCount(): number {
    return this.http.connectionCount;
  }

  set onRequest(fn: ((r: { method: string; url: string; status: number }) => void) | undefined) {
    this.http.onRequest = fn;
  }

  close(): void {
    this.http.close();
  }

  // ---------------------------------------------------------------- plumbing

  private state(registry: string): RegistryState {
    let s = this.states.get(registry);
    if (!s) {
      s = { auth: { kind: 'none' }, tokens: new Map() };
      this.states.set(registry, s);
    }
    return s;
  }

  private base(registry: string): Promise<{ origin: string; insecureTls: boolean }> {
    const st = this.state(registry);
    if (!st.base) {
      const host = registryApiHost(registry);
      // A registry named insecure may speak TLS (unverified) or HTTP, loopback included (a local
      // registry with a self-signed certificate); other loopback registries get plain HTTP, as in Docker.
      if (this.insecure.has(registry)) st.base = this.probeInsecure(host);
      else if (isLoopbackRegistry(registry)) st.base = Promise.resolve({ origin: `http://${host}`, insecureTls: false });
      else st.base = Promise.resolve({ origin: `https://${host}`, insecureTls: false });
      st.base.catch(() => (st.base = undefined));
    }
    return st.base;
  }

  /** An insecure registry may speak TLS with a certificate we cannot check, or plain HTTP; try TLS first (Docker's order). */
  private async probeInsecure(host: string): Promise<{ origin: string; insecureTls: boolean }> {
    try {
      const res = await this.http.send({ method: 'GET', url: new URL(`https://${host}/v2/`), timeoutMs: this.opts.timeoutMs, insecureTls: true });
      await discardBody(res);
      return { origin: `https://${host}`, insecureTls: true };
    } catch {
      return { origin: `http://${host}`, insecureTls: false };
    }
  }

  private credentials(registry: string): Credentials | undefined {
    const st = this.state(registry);
    if (st.credentials === undefined) {
      const explicit = this.opts.credentials?.[registry];
      if (explicit) st.credentials = explicit;
      else {
        const found = loadDockerCredentials(registry, this.opts.env ?? process.env, this.opts.dockerConfigPath);
        st.credentials = found.credentials ?? null;
        st.helper = found.helper;
      }
    }
    return st.credentials ?? undefined;
  }

  private async authorization(registry: string, scopes: string[], forceRefresh: boolean): Promise<string | undefined> {
    const st = this.state(registry);
    const creds = this.credentials(registry);
    if (st.auth.kind === 'basic') return creds ? basicAuthorization(creds) : undefined;
    if (st.auth.kind !== 'bearer') return undefined;
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const key = scopes.slice().sort().join(' ');
    const cached = st.tokens.get(key);
    if (cached && !forceRefresh && cached.expiresAt > Date.now()) return `Bearer ${cached.value}`;
    const token = await this.fetchToken(registry, st.auth, scopes, creds);
    st.tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  /** distribution docs/spec/auth/token.md (GET) and oauth.md (POST with a refresh token). */
  private async fetchToken(
    registry: string,
    auth: { realm: string; service?: string },
    scopes: string[],
    creds: Credentials | undefined,
  ): Promise<{ value: string; expiresAt: number }> {
    let realm: URL;
    try {
      realm = new URL(auth.realm);
    } catch {
      throw new SigilError('UNAUTHORIZED', `registry ${registry} sent a bearer challenge with an invalid realm '${auth.realm}'`);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new SigilError('UNAUTHORIZED', `registry ${registry} sent a bearer realm with scheme ${realm.protocol}`);
    }
    let res: HttpResponse;
    const insecureTls = this.insecure.has(registry);
    if (creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'sigil', ...(auth.service ? { service: auth.service } : {}) });
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await this.http.send({
        method: 'POST',
        url: realm,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
        timeoutMs: this.opts.timeoutMs,
        insecureTls,
      });
    } else {
      const url = new URL(realm);
      if (auth.service) url.searchParams.set('service', auth.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const basic = creds ? basicAuthorization(creds) : undefined;
      res = await this.http.send({ method: 'GET', url, headers: basic ? { authorization: basic } : {}, timeoutMs: this.opts.timeoutMs, insecureTls });
    }
    const body = await readBody(res, MAX_TOKEN_BODY, `token from ${realm.host}`);
    if (res.status !== 200) {
      throw new SigilError('UNAUTHORIZED', `token server ${realm.host} refused a token for registry ${registry} (${res.status}${errorSummary(body)})`, {
        hint: creds ? 'the credentials in Docker config.json were rejected' : `add credentials for ${registry} to the "auths" of ~/.docker/config.json`,
      });
    }
    const doc = parseJson(body, `token response from ${realm.host}`, 'UNAUTHORIZED');
    const value = isObject(doc) ? (typeof doc.token === 'string' ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : undefined) : undefined;
    if (!value) throw new SigilError('UNAUTHORIZED', `token response from ${realm.host} has no token`);
    const expiresIn = isObject(doc) && typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
    // Renew 10 s early so a token never expires between our check and the registry's.
    return { value, expiresAt: Date.now() + Math.max(1, expiresIn - 10) * 1000 };
  }

  private learnChallenge(registry: string, res: HttpResponse): { changed: boolean; scope?: string } {
    const st = this.state(registry);
    const challenges = parseChallenges(header(res, 'www-authenticate') ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    const basic = challenges.find((c) => c.scheme === 'basic');
    const before = JSON.stringify(st.auth);
    if (bearer) st.auth = { kind: 'bearer', realm: bearer.params.realm!, ...(bearer.params.service ? { service: bearer.params.service } : {}) };
    else if (basic) st.auth = { kind: 'basic' };
    return { changed: JSON.stringify(st.auth) !== before, ...(bearer?.params.scope ? { scope: bearer.params.scope } : {}) };
  }

  private async url(spec: RequestSpec): Promise<{ url: URL; insecureTls: boolean }> {
    const b = await this.base(spec.repo.registry);
    return { url: spec.target instanceof URL ? spec.target : new URL(spec.target, b.origin), insecureTls: b.insecureTls };
  }

  /** One request with auth; answers 401 once by following the challenge. */
  private async authorizedSend(spec: RequestSpec): Promise<HttpResponse> {
    const { url, insecureTls } = await this.url(spec);
    const reg = spec.repo.registry;
    const scopes = [repositoryScope(spec.repo.repository, spec.actions), ...(spec.extraScopes ?? [])];
    const send = async (auth: string | undefined): Promise<HttpResponse> =>
      this.http.send({
        method: spec.method,
        url,
        headers: { ...(spec.headers ?? {}), ...(auth ? { authorization: auth } : {}) },
        ...(spec.body ? { body: spec.body } : {}),
        timeoutMs: this.opts.timeoutMs,
        insecureTls,
        followRedirects: spec.followRedirects ?? (spec.method === 'GET' || spec.method === 'HEAD'),
      });
    const sent = await this.authorization(reg, scopes, false);
    const res = await send(sent);
    if (res.status !== 401) return res;
    const learned = this.learnChallenge(reg, res);
    const st = this.state(reg);
    if (st.auth.kind === 'none') return res;
    // Retry once with what we would send now: credentials learned from this (or a concurrent)
    // challenge, or a fresh token when the one we sent was refused (expired, or too narrow a scope).
    const all = learned.scope && !scopes.includes(learned.scope) ? [...scopes, learned.scope] : scopes;
    const next = await this.authorization(reg, all, sent !== undefined && st.auth.kind === 'bearer');
    if (!next || next === sent) return res;
    await discardBody(res);
    return send(next);
  }

  /** A request with retries on 429/5xx and dropped connections. */
  private async request(spec: RequestSpec): Promise<HttpResponse> {
    const retries = spec.retry === false ? 0 : this.opts.retries;
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse | undefined;
      let reason: string;
      try {
        res = await this.authorizedSend(spec);
        if (!RETRY_STATUS.has(res.status)) return res;
        reason = `HTTP ${res.status}`;
      } catch (e) {
        if (isSigilError(e) && e.code !== 'NETWORK') throw e;
        const code = (e as NodeJS.ErrnoException).code;
        const transient = isSigilError(e) || (code !== undefined && RETRY_ERRNO.has(code)) || /socket hang up|aborted/i.test((e as Error).message);
        if (!transient || attempt >= retries) throw networkError(spec, e);
        reason = code ?? (e as Error).message;
      }
      if (attempt >= retries) return res!;
      let delay = this.opts.retryBaseMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
      const ra = res ? Number(header(res, 'retry-after')) : NaN;
      if (Number.isFinite(ra) && ra >= 0) delay = Math.max(delay, Math.min(ra * 1000, 10_000));
      if (res) await discardBody(res);
      this.opts.onRetry?.({ method: spec.method, url: String(spec.target), attempt: attempt + 1, reason, delayMs: Math.round(delay) });
      await sleep(delay);
    }
  }

  /** Turns an unexpected answer into an error naming the registry, the repository and what was asked for. */
  private async fail(res: HttpResponse, spec: RequestSpec, what: string): Promise<never> {
    const body = await readBody(res, MAX_ERROR_BODY, 'error body').catch(() => Buffer.alloc(0));
    const reg = spec.repo.registry;
    const repo = spec.repo.repository;
    const detail = errorSummary(body);
    if (res.status === 401) {
      const st = this.state(reg);
      const creds = this.credentials(reg);
      throw new SigilError('UNAUTHORIZED', `registry ${reg} refused ${what} in repository ${repo}: authentication required (401${detail})`, {
        hint: creds
          ? `the credentials for ${reg} in Docker config.json were rejected`
          : st.helper
            ? `config.json sends ${reg} to the credential helper '${st.helper}', which sigil does not run; add an "auths" entry`
            : `add credentials for ${reg} to the "auths" of ~/.docker/config.json (docker login)`,
      });
    }
    if (res.status === 403) {
      throw new SigilError('UNAUTHORIZED', `registry ${reg} denied ${what} in repository ${repo} (403${detail})`, {
        hint: 'the account lacks permission for this repository',
      });
    }
    if (res.status === 404) {
      throw new SigilError('NOT_FOUND', `${what} not found in repository ${repo} on registry ${reg} (404${detail})`, {
        hint: 'check the image name, tag or digest',
      });
    }
    throw new SigilError('NETWORK', `registry ${reg} answered ${res.status} to ${what} in repository ${repo}${detail ? ` (${detail.slice(2)})` : ''}`, {
      hint: RETRY_STATUS.has(res.status) ? 'the registry kept failing after retries; try again later' : undefined,
    });
  }

  // ---------------------------------------------------------------- API

  /** GET /v2/: whether the registry speaks the API and which authentication it asks for. */
  async ping(registry: string): Promise<{ status: number; apiVersion?: string; auth: 'none' | 'basic' | 'bearer' }> {
    const spec: RequestSpec = { method: 'GET', target: '/v2/', repo: { registry, repository: '' }, actions: [] };
    const { url, insecureTls } = await this.url(spec);
    const res = await this.http.send({ method: 'GET', url, timeoutMs: this.opts.timeoutMs, insecureTls });
    if (res.status === 401) this.learnChallenge(registry, res);
    await discardBody(res);
    const v = header(res, 'docker-distribution-api-version');
    if (res.status !== 200 && res.status !== 401) {
      throw new SigilError('NETWORK', `${registry} does not serve the registry API (GET /v2/ answered ${res.status})`);
    }
    return { status: res.status, ...(v ? { apiVersion: v } : {}), auth: this.state(registry).auth.kind };
  }

  /** HEAD of a manifest: its digest, media type and size, without the body (1 round trip). */
  async resolve(ref: ImageReference): Promise<{ digest: string; mediaType: string; size: number }> {
    const reference = manifestReference(ref);
    const spec: RequestSpec = { method: 'HEAD', target: `/v2/${ref.repository}/manifests/${reference}`, repo: ref, actions: ['pull'], headers: { accept: MANIFEST_ACCEPT } };
    const res = await this.request(spec);
    if (res.status !== 200) return this.fail(res, spec, `manifest ${reference}`);
    await discardBody(res);
    const digest = header(res, 'docker-content-digest');
    const mediaType = header(res, 'content-type')?.split(';')[0]?.trim();
    const size = Number(header(res, 'content-length'));
    if (ref.digest) {
      if (digest && digest !== ref.digest) throw digestMismatch(`manifest ${ref.digest}`, ref, digest);
      if (mediaType && isManifestMediaType(mediaType) && Number.isSafeInteger(size)) return { digest: ref.digest, mediaType, size };
    } else if (digest && mediaType && isManifestMediaType(mediaType) && Number.isSafeInteger(size)) {
      try {
        return { digest: checkDigest(digest), mediaType, size };
      } catch {
        /* a malformed header: fall back to fetching and hashing the manifest */
      }
    }
    const m = await this.getManifest(ref);
    return { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length };
  }

  /** Fetches and parses a manifest; its bytes are checked against the requested digest (or the registry's digest header). */
  async getManifest(ref: ImageReference): Promise<FetchedManifest> {
    const reference = manifestReference(ref);
    const spec: RequestSpec = { method: 'GET', target: `/v2/${ref.repository}/manifests/${reference}`, repo: ref, actions: ['pull'], headers: { accept: MANIFEST_ACCEPT } };
    const res = await this.request(spec);
    if (res.status !== 200) return this.fail(res, spec, `manifest ${reference}`);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, `manifest ${reference} from ${ref.registry}/${ref.repository}`);
    const headerDigest = header(res, 'docker-content-digest');
    let digest: string;
    if (ref.digest) {
      // distribution spec "Pulling manifests": verify against the digest used to fetch, never the header alone.
      digest = digestOf(bytes, ref.digest);
      if (digest !== ref.digest) throw digestMismatch(`manifest ${ref.digest}`, ref, digest);
    } else {
      digest = digestOf(bytes, headerDigest);
      if (headerDigest && headerDigest !== digest) throw digestMismatch(`manifest ${reference} (registry says ${headerDigest})`, ref, digest);
    }
    const contentType = header(res, 'content-type');
    const manifest = parseManifest(bytes, contentType, `manifest ${reference} in ${ref.registry}/${ref.repository}`);
    return { bytes, mediaType: manifest.mediaType, digest, manifest };
  }

  /** HEAD of a blob: true when the repository has it. */
  async hasBlob(repo: RepositoryRef, digest: string): Promise<boolean> {
    const known = `${repo.registry}/${repo.repository}@${digest}`;
    if (this.knownBlobs.has(known)) return true;
    const spec: RequestSpec = { method: 'HEAD', target: `/v2/${repo.repository}/blobs/${checkDigest(digest)}`, repo, actions: ['pull'] };
    const res = await this.request(spec);
    await discardBody(res);
    if (res.status === 200) {
      this.knownBlobs.add(known);
      return true;
    }
    if (res.status === 404) return false;
    return this.fail(res, spec, `blob ${digest}`);
  }

  private async openBlob(repo: RepositoryRef, digest: string): Promise<HttpResponse> {
    const spec: RequestSpec = { method: 'GET', target: `/v2/${repo.repository}/blobs/${checkDigest(digest)}`, repo, actions: ['pull'] };
    const res = await this.request(spec);
    if (res.status !== 200) return this.fail(res, spec, `blob ${digest}`);
    return res;
  }

  /** Downloads a whole blob into memory, checking its digest (and size when known). */
  async getBlob(repo: RepositoryRef, digest: string, opts: { size?: number; maxBytes?: number } = {}): Promise<Buffer> {
    const res = await this.openBlob(repo, digest);
    const limit = opts.maxBytes ?? 256 << 20;
    const data = await readBody(res, opts.size !== undefined ? Math.min(limit, opts.size) : limit, `blob ${digest}`).catch((e: unknown) => {
      throw isSigilError(e) ? e : truncated(repo, digest, e);
    });
    const declared = Number(header(res, 'content-length'));
    if (Number.isFinite(declared) && declared !== data.length) throw truncated(repo, digest, `got ${data.length} of ${declared} bytes`);
    if (opts.size !== undefined && data.length !== opts.size) throw truncated(repo, digest, `got ${data.length} bytes, descriptor says ${opts.size}`);
    const got = digestOf(data, digest);
    if (got !== digest) throw digestMismatch(`blob ${digest}`, repo, got);
    return data;
  }

  /**
   * Streams a blob. The stream errors (instead of ending) when the body is shorter than announced,
   * is cut off, or hashes to another digest, so a consumer that waits for 'end' never accepts
   * altered or truncated content.
   */
  async blobStream(repo: RepositoryRef, digest: string, opts: { size?: number } = {}): Promise<Readable> {
    const res = await this.openBlob(repo, digest);
    const declared = Number(header(res, 'content-length'));
    const expected = opts.size ?? (Number.isFinite(declared) ? declared : undefined);
    const h = createHash(digest.startsWith('sha512:') ? 'sha512' : 'sha256');
    let n = 0;
    const verifier = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        n += chunk.length;
        if (expected !== undefined && n > expected) return cb(truncated(repo, digest, `more than the ${expected} bytes announced`));
        h.update(chunk);
        cb(null, chunk);
      },
      flush(cb) {
        if (expected !== undefined && n !== expected) return cb(truncated(repo, digest, `got ${n} of ${expected} bytes`));
        const got = `${digest.split(':')[0]}:${h.digest('hex')}`;
        if (got !== digest) return cb(digestMismatch(`blob ${digest}`, repo, got));
        cb();
      },
    });
    pipeline(res.body, verifier, (err) => {
      if (err && !verifier.destroyed) verifier.destroy(isSigilError(err) ? err : truncated(repo, digest, err));
    });
    res.body.on('aborted', () => verifier.destroy(truncated(repo, digest, 'connection closed early')));
    return verifier;
  }

  /**
   * Uploads a blob unless the repository has it already. With `mountFrom` it first asks the
   * registry to mount the blob from that repository (no bytes sent); registries that cannot mount
   * answer 202 with an upload session, which we then use. Small blobs go in one PUT after the POST
   * (distribution 2.8 does not take a monolithic POST), large ones in PATCH chunks.
   */
  async putBlob(repo: RepositoryRef, data: Uint8Array, opts: { digest?: string; mountFrom?: string; skipExistsCheck?: boolean } = {}): Promise<PutBlobResult> {
    const digest = opts.digest ?? digestOf(data);
    if (opts.digest && digestOf(data, opts.digest) !== opts.digest) {
      throw new SigilError('DIGEST_MISMATCH', `blob to upload does not hash to ${opts.digest}`);
    }
    if (!opts.skipExistsCheck && (await this.hasBlob(repo, digest))) return { digest, size: data.byteLength, how: 'existed' };
    for (let attempt = 0; ; attempt++) {
      try {
        const session = await this.startUpload(repo, digest, opts.mountFrom);
        if (session !== 'mounted') {
          if (data.byteLength <= this.opts.chunkSize) await this.finishUpload(repo, session, digest, data);
          else await this.uploadChunks(repo, session, digest, chunksOf(data, this.opts.chunkSize));
        }
        this.knownBlobs.add(`${repo.registry}/${repo.repository}@${digest}`);
        return { digest, size: data.byteLength, how: session === 'mounted' ? 'mounted' : 'uploaded' };
      } catch (e) {
        // A session that broke midway is restarted from the beginning: the bytes are in memory.
        if (!(isSigilError(e) && e.code === 'NETWORK') || attempt >= this.opts.retries) throw e;
        await sleep(this.opts.retryBaseMs * 2 ** attempt);
      }
    }
  }

  /**
   * Uploads a blob from a stream (e.g. another registry's blobStream) in PATCH chunks, so a large
   * layer is never held in memory whole. `open` is called only when bytes are needed: not when the
   * repository has the blob already or the registry mounts it from `mountFrom`. Each chunk is kept
   * until the registry accepted it; when a PATCH fails we ask the session for its offset (GET upload
   * URL) and resume from there. The stream's digest is checked before the upload is closed, so a
   * source that changed under us never becomes a blob under the wrong name.
   */
  async putBlobStream(repo: RepositoryRef, open: () => Promise<AsyncIterable<Uint8Array>>, digest: string, opts: { mountFrom?: string } = {}): Promise<PutBlobResult> {
    checkDigest(digest);
    if (await this.hasBlob(repo, digest)) return { digest, size: -1, how: 'existed' };
    const session = await this.startUpload(repo, digest, opts.mountFrom);
    if (session === 'mounted') return { digest, size: -1, how: 'mounted' };
    const source = await open();
    const h = createHash(digest.startsWith('sha512:') ? 'sha512' : 'sha256');
    let size = 0;
    const chunkSize = this.opts.chunkSize;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const c of rechunk(source, chunkSize)) {
        h.update(c);
        size += c.length;
        yield c;
      }
    }
    await this.uploadChunks(repo, session, digest, counted(), () => {
      const got = `${digest.split(':')[0]}:${h.digest('hex')}`;
      if (got !== digest) throw new SigilError('DIGEST_MISMATCH', `stream for blob ${digest} hashed to ${got}; upload abandoned`);
    });
    return { digest, size, how: 'uploaded' };
  }

  private async startUpload(repo: RepositoryRef, digest: string, mountFrom: string | undefined): Promise<URL | 'mounted'> {
    const mount = mountFrom && mountFrom !== repo.repository;
    const target = `/v2/${repo.repository}/blobs/uploads/${mount ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : ''}`;
    const spec: RequestSpec = {
      method: 'POST',
      target,
      repo,
      actions: ['pull', 'push'],
      ...(mount ? { extraScopes: [repositoryScope(mountFrom, ['pull'])] } : {}),
    };
    const res = await this.request(spec);
    if (res.status === 201 && mount) {
      await discardBody(res);
      return 'mounted';
    }
    if (res.status !== 202) return this.fail(res, spec, `upload of blob ${digest}`);
    await discardBody(res);
    return this.location(res, spec, `upload of blob ${digest}`);
  }

  private location(res: HttpResponse, spec: RequestSpec, what: string): URL {
    const loc = header(res, 'location');
    if (!loc) throw new SigilError('NETWORK', `registry ${spec.repo.registry} answered ${what} without a Location header`);
    return new URL(loc, res.url);
  }

  private async finishUpload(repo: RepositoryRef, session: URL, digest: string, body: Uint8Array | undefined, range?: string): Promise<void> {
    // The Location may carry critical query parameters (distribution's _state): append, never rebuild.
    const href = session.href;
    const url = new URL(`${href}${href.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`);
    const spec: RequestSpec = {
      method: 'PUT',
      target: url,
      repo,
      actions: ['pull', 'push'],
      headers: body ? { 'content-type': 'application/octet-stream', ...(range ? { 'content-range': range } : {}) } : {},
      ...(body ? { body } : {}),
      retry: false,
    };
    const res = await this.request(spec);
    if (res.status !== 201) return this.fail(res, spec, `upload of blob ${digest}`);
    await discardBody(res);
    const got = header(res, 'docker-content-digest');
    if (got && got !== digest) throw new SigilError('DIGEST_MISMATCH', `registry ${repo.registry} stored blob ${digest} as ${got}`);
  }

  private async uploadChunks(repo: RepositoryRef, start: URL, digest: string, chunks: AsyncIterable<Buffer> | Iterable<Buffer>, beforeClose?: () => void): Promise<void> {
    let session = start;
    let offset = 0;
    for await (const chunk of chunks) {
      for (let attempt = 0; ; attempt++) {
        const spec: RequestSpec = {
          method: 'PATCH',
          target: session,
          repo,
          actions: ['pull', 'push'],
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
          body: chunk,
          retry: false,
        };
        let res: HttpResponse | undefined;
        let failure: unknown;
        try {
          res = await this.request(spec);
        } catch (e) {
          failure = e;
        }
        if (res?.status === 202) {
          await discardBody(res);
          session = this.location(res, spec, `chunk of blob ${digest}`);
          offset += chunk.length;
          break;
        }
        if (res && !RETRY_STATUS.has(res.status)) return this.fail(res, spec, `chunk upload of blob ${digest}`);
        if (attempt >= this.opts.retries) {
          if (res) return this.fail(res, spec, `chunk upload of blob ${digest}`);
          throw failure;
        }
        if (res) await discardBody(res);
        await sleep(this.opts.retryBaseMs * 2 ** attempt);
        // Ask the session how far it got (spec end-13): the chunk may have been stored before the failure.
        const status = await this.uploadStatus(repo, session);
        session = status.location;
        // distribution reports an empty session as "0-0", the same as one byte; at offset 0 read it as empty.
        const stored = offset === 0 && status.end <= 0 ? 0 : status.end + 1;
        if (stored === offset + chunk.length) {
          offset += chunk.length;
          break;
        }
        if (stored !== offset) {
          throw new SigilError('NETWORK', `registry ${repo.registry} holds ${stored} bytes of the upload of ${digest}, expected ${offset}; restart the upload`);
        }
      }
    }
    beforeClose?.();
    await this.finishUpload(repo, session, digest, undefined);
  }

  private async uploadStatus(repo: RepositoryRef, session: URL): Promise<{ location: URL; end: number }> {
    const spec: RequestSpec = { method: 'GET', target: session, repo, actions: ['pull', 'push'] };
    const res = await this.request(spec);
    if (res.status !== 204) return this.fail(res, spec, 'upload status');
    await discardBody(res);
    const m = /^0-(\d+)$/.exec(header(res, 'range') ?? '');
    return { location: this.location(res, spec, 'upload status'), end: m ? Number(m[1]) : -1 };
  }

  /**
   * Pushes manifest bytes under a tag or digest; Content-Type is the manifest's media type (spec:
   * MUST equal its mediaType field). The caller pushes blobs first, so a manifest is never visible
   * before everything it names is stored.
   */
  async putManifest(repo: RepositoryRef, reference: string, bytes: Uint8Array, mediaType: string): Promise<PutManifestResult> {
    const digest = digestOf(bytes, reference.includes(':') ? reference : undefined);
    if (reference.includes(':') && reference !== digest) throw new SigilError('DIGEST_MISMATCH', `manifest bytes hash to ${digest}, not ${reference}`);
    const spec: RequestSpec = {
      method: 'PUT',
      target: `/v2/${repo.repository}/manifests/${reference}`,
      repo,
      actions: ['pull', 'push'],
      headers: { 'content-type': mediaType },
      body: bytes,
    };
    const res = await this.request(spec);
    if (res.status !== 201) return this.fail(res, spec, `push of manifest ${reference}`);
    await discardBody(res);
    const got = header(res, 'docker-content-digest');
    if (got && got !== digest) throw new SigilError('DIGEST_MISMATCH', `registry ${repo.registry} stored manifest ${digest} as ${got}`);
    return { digest, subjectProcessed: header(res, 'oci-subject') !== undefined };
  }

  async deleteManifest(repo: RepositoryRef, reference: string): Promise<void> {
    const spec: RequestSpec = { method: 'DELETE', target: `/v2/${repo.repository}/manifests/${reference}`, repo, actions: ['pull', 'push'] };
    const res = await this.request(spec);
    if (res.status !== 202 && res.status !== 200) return this.fail(res, spec, `delete of manifest ${reference}`);
    await discardBody(res);
  }

  /** All tags of a repository, following `Link: <…>; rel="next"` pages. */
  async listTags(repo: RepositoryRef, opts: { pageSize?: number } = {}): Promise<string[]> {
    const tags: string[] = [];
    let target: string | URL = `/v2/${repo.repository}/tags/list${opts.pageSize ? `?n=${opts.pageSize}` : ''}`;
    for (let page = 0; page < 10_000; page++) {
      const spec: RequestSpec = { method: 'GET', target, repo, actions: ['pull'] };
      const res = await this.request(spec);
      if (res.status !== 200) return this.fail(res, spec, 'tag list');
      const body = await readBody(res, MAX_MANIFEST_BYTES, `tag list of ${repo.repository}`);
      const doc = parseJson(body, `tag list of ${repo.repository}`, 'MANIFEST_MALFORMED');
      if (!isObject(doc) || !(doc.tags === null || doc.tags === undefined || (Array.isArray(doc.tags) && doc.tags.every((t) => typeof t === 'string')))) {
        throw new SigilError('MANIFEST_MALFORMED', `tag list of ${repo.repository} from ${repo.registry} is not {"name", "tags": [strings]}`);
      }
      tags.push(...((doc.tags as string[] | null | undefined) ?? []));
      const next = nextLink(res);
      if (!next) return tags;
      target = next;
    }
    throw new SigilError('NETWORK', `tag list of ${repo.repository} on ${repo.registry} did not end after 10000 pages`);
  }

  /**
   * The referrers of `digest`: the referrers API when the registry has it, else the image index
   * under the referrers tag schema (spec: a 404 from the API MUST fall back to the tag; a tag that
   * is missing or not an index means no referrers). Which one the registry supports is learned once
   * per client, so later lookups cost one round trip.
   */
  async referrers(repo: RepositoryRef, digest: string, opts: { artifactType?: string } = {}): Promise<ReferrersResult> {
    checkDigest(digest);
    const key = `${repo.registry}/${repo.repository}@${digest}`;
    const ttl = this.opts.referrersCacheTtlMs;
    const cached = ttl > 0 ? this.referrersCache.get(key) : undefined;
    let result: ReferrersResult;
    if (cached && Date.now() - cached.at < ttl) result = cached.result;
    else {
      result = await this.fetchReferrers(repo, digest);
      if (ttl > 0) this.referrersCache.set(key, { at: Date.now(), result });
    }
    if (!opts.artifactType) return result;
    return { ...result, descriptors: result.descriptors.filter((d) => d.artifactType === opts.artifactType) };
  }

  private async fetchReferrers(repo: RepositoryRef, digest: string): Promise<ReferrersResult> {
    const st = this.state(repo.registry);
    if (st.referrersApi === undefined && st.referrersProbe) await st.referrersProbe.catch(() => undefined);
    if (st.referrersApi === undefined) {
      const probe = this.fetchReferrersOnce(repo, digest);
      st.referrersProbe = probe;
      try {
        return await probe;
      } finally {
        st.referrersProbe = undefined;
      }
    }
    return this.fetchReferrersOnce(repo, digest);
  }

  private async fetchReferrersOnce(repo: RepositoryRef, digest: string): Promise<ReferrersResult> {
    const st = this.state(repo.registry);
    if (st.referrersApi !== false) {
      const out: Descriptor[] = [];
      let target: string | URL = `/v2/${repo.repository}/referrers/${digest}`;
      for (let page = 0; page < 1000; page++) {
        const spec: RequestSpec = { method: 'GET', target, repo, actions: ['pull'], headers: { accept: OCI_INDEX } };
        const res = await this.request(spec);
        if ((res.status === 404 || res.status === 405 || res.status === 501) && page === 0) {
          await discardBody(res);
          // A registry with the API MUST NOT answer 404 (spec "Listing Referrers"); this one lacks
          // it. Some registries say so with 405 Method Not Allowed or 501 instead.
          st.referrersApi = false;
          break;
        }
        if (res.status !== 200) return this.fail(res, spec, `referrers of ${digest}`);
        st.referrersApi = true;
        const body = await readBody(res, MAX_MANIFEST_BYTES, `referrers of ${digest}`);
        const index = parseManifest(body, header(res, 'content-type') ?? OCI_INDEX, `referrers list of ${digest}`);
        if (index.kind !== 'index') throw new SigilError('MANIFEST_MALFORMED', `referrers list of ${digest} from ${repo.registry} is not an image index`);
        out.push(...index.manifests);
        const next = nextLink(res);
        if (!next) return { descriptors: out, source: 'api' };
        target = next;
      }
      if (st.referrersApi) return { descriptors: out, source: 'api' };
    }
    const index = await this.referrersTagIndex(repo, digest);
    return { descriptors: index?.manifests ?? [], source: 'tag-schema' };
  }

  /** The index under the referrers tag, or undefined when the tag is missing or holds something else. */
  private async referrersTagIndex(repo: RepositoryRef, digest: string): Promise<{ manifests: Descriptor[]; annotations?: Record<string, string> } | undefined> {
    try {
      const m = await this.getManifest({ registry: repo.registry, repository: repo.repository, tag: referrersTag(digest) });
      if (m.manifest.kind !== 'index') return undefined;
      return { manifests: m.manifest.manifests, ...(m.manifest.annotations ? { annotations: m.manifest.annotations } : {}) };
    } catch (e) {
      if (isSigilError(e) && (e.code === 'NOT_FOUND' || e.code === 'MANIFEST_MALFORMED' || e.code === 'MEDIA_TYPE_UNSUPPORTED')) return undefined;
      throw e;
    }
  }

  /**
   * Pushes a manifest that has a `subject` (a referrer), by digest. When the registry does not
   * confirm with OCI-Subject, the referrers tag index is updated as the spec's "Pushing Manifests
   * with Subject" asks: pull it (or start empty), skip if listed, append, push. Registries without
   * the referrers API offer no conditional PUT, so two writers racing on the same subject can lose
   * an entry; the referrer manifest itself is never lost and `sigil tree` finds it by digest.
   */
  async putReferrer(repo: RepositoryRef, bytes: Uint8Array, mediaType: string): Promise<PutManifestResult & { descriptor: Descriptor; tagSchemaUpdated: boolean }> {
    const manifest = parseManifest(bytes, mediaType, 'referrer manifest');
    if (!manifest.subject) throw new SigilError('MANIFEST_MALFORMED', 'a referrer manifest must have a subject');
    const subject = manifest.subject.digest;
    const digest = digestOf(bytes);
    const put = await this.putManifest(repo, digest, bytes, mediaType);
    const descriptor = referrerDescriptor(manifest, bytes, digest);
    this.referrersCache.delete(`${repo.registry}/${repo.repository}@${subject}`);
    if (put.subjectProcessed) return { ...put, descriptor, tagSchemaUpdated: false };
    const current = await this.referrersTagIndex(repo, subject);
    const list = current?.manifests ?? [];
    if (list.some((d) => d.digest === digest)) return { ...put, descriptor, tagSchemaUpdated: false };
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...list, descriptor], ...(current?.annotations ? { annotations: current.annotations } : {}) };
    await this.putManifest(repo, referrersTag(subject), Buffer.from(JSON.stringify(index)), OCI_INDEX);
    return { ...put, descriptor, tagSchemaUpdated: true };
  }
}

function errorSummary(body: Buffer): string {
  if (body.length === 0) return '';
  try {
    const doc = JSON.parse(body.toString('utf8')) as unknown;
    if (isObject(doc) && Array.isArray(doc.errors) && doc.errors.length > 0) {
      return ': ' + doc.errors
        .filter(isObject)
        .map((e) => [e.code, e.message].filter((x) => typeof x === 'string' && x).join(' '))
        .join('; ');
    }
  } catch {
    /* not JSON: fall through to text */
  }
  const text = body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
  return text ? `: ${text}` : '';
}

function digestMismatch(what: string, repo: RepositoryRef, got: string): SigilError {
  return new SigilError('DIGEST_MISMATCH', `${what} from ${repo.registry}/${repo.repository} has digest ${got}: content does not match what was asked for`, {
    hint: 'the registry or something between us and it altered the content; do not use it',
  });
}

function truncated(repo: RepositoryRef, digest: string, cause: unknown): SigilError {
  const why = typeof cause === 'string' ? cause : (cause as Error)?.message ?? String(cause);
  return new SigilError('DIGEST_MISMATCH', `blob ${digest} from ${repo.registry}/${repo.repository} is truncated or corrupt: ${why}`, {
    hint: 'the download was cut off or altered; retry, and do not use partial content',
  });
}

function networkError(spec: RequestSpec, e: unknown): SigilError {
  if (isSigilError(e)) return e;
  const err = e as NodeJS.ErrnoException;
  return new SigilError('NETWORK', `cannot reach registry ${spec.repo.registry} (${spec.method} for repository ${spec.repo.repository || '/'}): ${err.code ?? ''} ${err.message}`.trim(), {
    hint: 'check the registry address and that it is running',
    cause: e,
  });
}

function* chunksOf(data: Uint8Array, size: number): Generator<Buffer> {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, Math.min(b.length, i + size));
}

async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let n = 0;
  for await (const c of source) {
    let buf = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    while (n + buf.length >= size) {
      const take = size - n;
      parts.push(buf.subarray(0, take));
      yield Buffer.concat(parts, size);
      buf = buf.subarray(take);
      parts = [];
      n = 0;
    }
    if (buf.length) {
      parts.push(Buffer.from(buf));
      n += buf.length;
    }
  }
  if (n > 0) yield Buffer.concat(parts, n);
}
