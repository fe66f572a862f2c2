/**
 * RegistryClient against the real Debian docker-registry 2.8 (plus an htpasswd instance), with
 * images built by umoci and pushed by skopeo, and faults injected by a proxy in front of it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SigilError } from '../../src/core/errors.js';
import { RegistryClient, digestOf, referrersTag } from '../../src/oci/client.js';
import { parseReference, withDigest } from '../../src/oci/reference.js';
import { OCI_EMPTY, OCI_EMPTY_DATA, OCI_EMPTY_DIGEST, OCI_MANIFEST } from '../../src/oci/media-types.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushMultiArchIndex, pushTinyImage } from '../helpers/images.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';

let reg: TestRegistry;
let authReg: TestRegistry;
let proxy: FaultProxy;
let app: { ref: string; digest: string };
const clients: RegistryClient[] = [];
const client = (opts: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient => {
  const c = new RegistryClient({ retryBaseMs: 5, env: { HOME: '/nonexistent' }, ...opts });
  clients.push(c);
  return c;
};

before(async () => {
  [reg, authReg] = await Promise.all([startRegistry(), startRegistry({ htpasswd: { username: 'testuser', password: 'testpass' } })]);
  proxy = await startFaultProxy(reg.host);
  app = await pushTinyImage(reg.host, 'test/app', 'v1');
});

after(async () => {
  for (const c of clients) c.close();
  await proxy?.stop();
  await Promise.all([reg?.stop(), authReg?.stop()]);
});

function artifact(subject: { digest: string; size: number }, layer: { digest: string; size: number }, annotations: Record<string, string> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.test+json',
      config: { mediaType: OCI_EMPTY, digest: OCI_EMPTY_DIGEST, size: 2 },
      layers: [{ mediaType: 'application/vnd.example.test+json', ...layer }],
      subject: { mediaType: OCI_MANIFEST, ...subject },
      annotations,
    }),
  );
}

test('pull: a skopeo-pushed OCI image by tag and by digest, HEAD resolve, blobs whole and streamed', async () => {
  const c = client();
  const ref = parseReference(app.ref);
  const m = await c.getManifest(ref);
  assert.equal(m.digest, app.digest, 'skopeo keeps OCI manifests byte for byte');
  assert.equal(m.mediaType, OCI_MANIFEST);
  assert.equal(m.manifest.kind, 'manifest');
  const head = await c.resolve(ref);
  assert.deepEqual(head, { digest: app.digest, mediaType: OCI_MANIFEST, size: m.bytes.length });
  const byDigest = await c.getManifest(withDigest(ref, app.digest));
  assert.deepEqual(byDigest.bytes, m.bytes);
  if (m.manifest.kind !== 'manifest') throw new Error('not an image');
  const layer = m.manifest.layers[0]!;
  const data = await c.getBlob(ref, layer.digest, { size: layer.size });
  assert.equal(digestOf(data), layer.digest);
  const chunks: Buffer[] = [];
  for await (const chunk of await c.blobStream(ref, layer.digest, { size: layer.size })) chunks.push(chunk as Buffer);
  assert.deepEqual(Buffer.concat(chunks), data);
  assert.equal(await c.hasBlob(ref, layer.digest), true);
  assert.equal(await c.hasBlob(ref, 'sha256:' + '0'.repeat(64)), false);
});

test('pull: a multi-arch OCI index built from two umoci images', async () => {
  const c = client();
  const multi = await pushMultiArchIndex(reg.host, 'test/multi', 'v1');
  const m = await c.getManifest(parseReference(multi.ref));
  assert.equal(m.digest, multi.digest);
  assert.equal(m.manifest.kind, 'index');
  if (m.manifest.kind !== 'index') return;
  assert.deepEqual(
    m.manifest.manifests.map((d) => [d.platform?.architecture, d.digest]),
    multi.platforms.map((p) => [p.architecture, p.digest]),
  );
  for (const p of multi.platforms) assert.equal((await c.getManifest({ ...parseReference(multi.ref), digest: p.digest })).manifest.kind, 'manifest');
});

test('push: HEAD before upload, monolithic and chunked uploads, cross-repository mount', async () => {
  const c = client({ chunkSize: 4096 });
  const repo = { registry: reg.host, repository: 'test/push' };
  const small = randomBytes(1000);
  assert.equal((await c.putBlob(repo, small)).how, 'uploaded');
  assert.equal((await c.putBlob(repo, small)).how, 'existed');
  const big = randomBytes(4096 * 3 + 17);
  const put = await c.putBlob(repo, big);
  assert.equal(put.how, 'uploaded');
  assert.deepEqual(await c.getBlob(repo, put.digest), big);
  // Mount into another repository: no bytes sent.
  const other = { registry: reg.host, repository: 'test/other' };
  assert.equal((await c.putBlob(other, big, { mountFrom: 'test/push' })).how, 'mounted');
  assert.deepEqual(await c.getBlob(other, put.digest), big);
  // Streamed copy between repositories in chunks, never holding the blob whole.
  const third = { registry: reg.host, repository: 'test/third' };
  const streamed = await c.putBlobStream(third, () => c.blobStream(repo, put.digest), put.digest);
  assert.deepEqual(streamed, { digest: put.digest, size: big.length, how: 'uploaded' });
  assert.deepEqual(await c.getBlob(third, put.digest), big);
  // Same registry: mounted, the source stream is never opened.
  let opened = false;
  const fourth = { registry: reg.host, repository: 'test/fourth' };
  const mounted = await c.putBlobStream(fourth, async () => ((opened = true), c.blobStream(repo, put.digest)), put.digest, { mountFrom: 'test/push' });
  assert.deepEqual([mounted.how, opened], ['mounted', false]);
  // A stream whose bytes do not hash to the digest is never stored under it.
  const liar = { registry: reg.host, repository: 'test/liar' };
  const wrongDigest = 'sha256:' + 'e'.repeat(64);
  await assert.rejects(c.putBlobStream(liar, async () => (async function* () { yield small; })(), wrongDigest), (e: SigilError) => e.code === 'DIGEST_MISMATCH');
  assert.equal(await c.hasBlob(liar, wrongDigest), false);
  // A digest that does not match the data is refused before anything is sent.
  await assert.rejects(c.putBlob(repo, small, { digest: put.digest }), (e: SigilError) => e.code === 'DIGEST_MISMATCH');
});

test('push: a manifest naming a missing blob is refused by the registry with its reason', async () => {
  const c = client();
  const repo = { registry: reg.host, repository: 'test/push' };
  const bytes = artifact({ digest: app.digest, size: 1 }, { digest: 'sha256:' + '9'.repeat(64), size: 3 });
  await assert.rejects(c.putManifest(repo, 'x', bytes, OCI_MANIFEST), (e: SigilError) => e.code === 'NETWORK' && /MANIFEST_BLOB_UNKNOWN/.test(e.message) && e.message.includes('test/push'));
});

test('referrers: distribution 2.8 lacks the API, so the tag schema is read and written', async () => {
  const c = client();
  const repo = { registry: reg.host, repository: 'test/app' };
  await c.putBlob(repo, OCI_EMPTY_DATA);
  const subject = await c.resolve(parseReference(app.ref));
  assert.deepEqual(await c.referrers(repo, app.digest), { descriptors: [], source: 'tag-schema' });
  const layers = [Buffer.from('{"n":1}'), Buffer.from('{"n":2}')];
  const pushed = [];
  for (const [i, l] of layers.entries()) {
    const put = await c.putBlob(repo, l);
    const bytes = artifact({ digest: subject.digest, size: subject.size }, { digest: put.digest, size: l.length }, { n: String(i) });
    const r = await c.putReferrer(repo, bytes, OCI_MANIFEST);
    assert.equal(r.subjectProcessed, false);
    assert.equal(r.tagSchemaUpdated, true);
    pushed.push(r.descriptor);
    // Pushing the same referrer again does not duplicate it (spec: SHOULD NOT).
    assert.equal((await c.putReferrer(repo, bytes, OCI_MANIFEST)).tagSchemaUpdated, false);
  }
  const list = await c.referrers(repo, app.digest);
  assert.equal(list.source, 'tag-schema');
  assert.deepEqual(list.descriptors, pushed);
  assert.equal(list.descriptors[0]!.artifactType, 'application/vnd.example.test+json');
  assert.deepEqual(list.descriptors[1]!.annotations, { n: '1' });
  assert.ok((await c.listTags(repo)).includes(referrersTag(app.digest)));
  assert.equal((await c.referrers(repo, app.digest, { artifactType: 'application/other' })).descriptors.length, 0);
  // The 404 from the referrers route is learned: later lookups go straight to the tag.
  const before = c.requestCount;
  await c.referrers(repo, app.digest);
  assert.equal(c.requestCount - before, 1);
});

test('errors name the registry and the repository: 404 manifest, unknown registry', async () => {
  const c = client({ retries: 1 });
  await assert.rejects(c.getManifest(parseReference(`${reg.host}/test/app:nope`)), (e: SigilError) => {
    assert.equal(e.code, 'NOT_FOUND');
    assert.match(e.message, new RegExp(`manifest nope not found in repository test/app on registry ${reg.host.replace(/\./g, '\\.')}`));
    assert.match(e.message, /MANIFEST_UNKNOWN/);
    return true;
  });
  await assert.rejects(c.getManifest(parseReference('127.0.0.1:1/x/y:v1')), (e: SigilError) => e.code === 'NETWORK' && /127\.0\.0\.1:1/.test(e.message) && /x\/y/.test(e.message));
});

test('basic auth: htpasswd registry with credentials from Docker config.json; 401 without, clear hint', async () => {
  const ref = `${authReg.host}/test/app:v1`;
  const anon = client();
  await assert.rejects(anon.getManifest(parseReference(ref)), (e: SigilError) => {
    assert.equal(e.code, 'UNAUTHORIZED');
    assert.match(e.message, new RegExp(`registry ${authReg.host.replace(/\./g, '\\.')} refused manifest v1 in repository test/app: authentication required \\(401`));
    assert.match(e.hint ?? '', /auths/);
    return true;
  });
  const c = client({ dockerConfigPath: authReg.dockerConfigPath! });
  const repo = { registry: authReg.host, repository: 'test/app' };
  const blob = await c.putBlob(repo, OCI_EMPTY_DATA);
  assert.equal(blob.digest, OCI_EMPTY_DIGEST);
  const layer = await c.putBlob(repo, Buffer.from('layer'));
  const bytes = artifact({ digest: app.digest, size: 1 }, { digest: layer.digest, size: 5 });
  await c.putManifest(repo, 'v1', bytes, OCI_MANIFEST);
  assert.equal((await c.getManifest(parseReference(ref))).digest, digestOf(bytes));
  assert.equal((await c.ping(authReg.host)).auth, 'basic');
  // Several first requests in flight at once all learn the challenge and get through.
  const fresh = client({ dockerConfigPath: authReg.dockerConfigPath! });
  const all = await Promise.all(Array.from({ length: 5 }, () => fresh.resolve(parseReference(ref))));
  assert.ok(all.every((r) => r.digest === digestOf(bytes)));
  const wrong = client({ credentials: { [authReg.host]: { username: 'testuser', password: 'wrong' } } });
  await assert.rejects(wrong.getManifest(parseReference(ref)), (e: SigilError) => e.code === 'UNAUTHORIZED' && /rejected/.test(e.hint ?? ''));
});

test('faults: 500 then recovery is retried; persistent 503 fails after the retries', async () => {
  const c = client();
  const ref = parseReference(`${proxy.host}/test/app:v1`);
  proxy.setFault({ match: (m, p) => m === 'GET' && p.includes('/manifests/'), kind: 'status', status: 500, times: 2 });
  const seen = proxy.requests.length;
  const m = await c.getManifest(ref);
  assert.equal(m.digest, app.digest);
  assert.equal(proxy.requests.slice(seen).filter((r) => r.includes('(injected)')).length, 2);
  proxy.setFault({ match: () => true, kind: 'status', status: 503, times: 100 });
  const few = client({ retries: 2 });
  await assert.rejects(few.getManifest(ref), (e: SigilError) => e.code === 'NETWORK' && /503/.test(e.message) && /test\/app/.test(e.message));
  proxy.setFault(undefined);
  // 429 with Retry-After: honoured, then success.
  proxy.setFault({ match: (m) => m === 'HEAD', kind: 'status', status: 429, times: 1 });
  assert.equal((await c.resolve(ref)).digest, app.digest);
  proxy.setFault(undefined);
});

test('faults: truncated blobs and altered manifests are rejected, never returned', async () => {
  const c = client({ retries: 0 });
  const ref = parseReference(`${proxy.host}/test/app:v1`);
  const m = await c.getManifest(ref);
  if (m.manifest.kind !== 'manifest') throw new Error('not an image');
  const layer = m.manifest.layers[0]!;
  proxy.setFault({ match: (meth, p) => meth === 'GET' && p.includes('/blobs/'), kind: 'truncate', times: 1 });
  await assert.rejects(c.getBlob(ref, layer.digest), (e: SigilError) => e.code === 'DIGEST_MISMATCH' && /truncated/.test(e.message));
  proxy.setFault({ match: (meth, p) => meth === 'GET' && p.includes('/blobs/'), kind: 'truncate', times: 1 });
  const stream = await c.blobStream(ref, layer.digest);
  await assert.rejects(
    (async () => {
      for await (const _ of stream) {
        /* read until the error */
      }
    })(),
    (e: SigilError) => e.code === 'DIGEST_MISMATCH',
  );
  proxy.setFault({ match: (meth, p) => meth === 'GET' && p.includes('/blobs/'), kind: 'corrupt', times: 1 });
  await assert.rejects(c.getBlob(ref, layer.digest), (e: SigilError) => e.code === 'DIGEST_MISMATCH');
  proxy.setFault({ match: (meth, p) => meth === 'GET' && p.includes('/blobs/'), kind: 'corrupt', times: 1 });
  const s2 = await c.blobStream(ref, layer.digest);
  await assert.rejects(
    (async () => {
      for await (const _ of s2) {
        /* read until the error */
      }
    })(),
    (e: SigilError) => e.code === 'DIGEST_MISMATCH' && /has digest/.test(e.message),
  );
  for (const r of [ref, withDigest(ref, app.digest)]) {
    proxy.setFault({ match: (meth, p) => meth === 'GET' && p.includes('/manifests/'), kind: 'corrupt', times: 1 });
    await assert.rejects(c.getManifest(r), (e: SigilError) => e.code === 'DIGEST_MISMATCH' && e.kind === 'verification');
  }
  proxy.setFault(undefined);
  assert.equal((await c.getManifest(ref)).digest, app.digest);
});

test('timeouts: a registry that accepts but never answers fails with NETWORK naming it', async () => {
  const silent = http.createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
  try {
    const c = client({ timeoutMs: 150, retries: 1 });
    await assert.rejects(c.getManifest(parseReference(`${host}/a/b:v1`)), (e: SigilError) => e.code === 'NETWORK' && e.message.includes(host) && /no response/.test(e.message));
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});

test('keep-alive: requests reuse pooled connections (sequential: one; 40 in flight: at most the pool size)', async () => {
  const p = await startFaultProxy(reg.host);
  const c = client({ maxSockets: 8 });
  const ref = parseReference(`${p.host}/test/app:v1`);
  try {
    for (let i = 0; i < 20; i++) await c.resolve(ref);
    assert.equal(p.connections(), 1);
    const before = c.requestCount;
    await Promise.all(Array.from({ length: 40 }, () => c.resolve(ref)));
    assert.equal(c.requestCount - before, 40);
    assert.ok(p.connections() <= 8, `${p.connections()} connections`);
    assert.equal(c.connectionCount, p.connections(), 'the client counts the connections it opens');
  } finally {
    await p.stop();
  }
});

test('--allow-insecure-registry: a TLS registry with a self-signed certificate is reached only when named insecure', async () => {
  const tlsReg = await startRegistry({ tls: true });
  try {
    const repo = { registry: tlsReg.host, repository: 'tls/app' };
    // Loopback defaults to plain HTTP, which a TLS-only registry refuses.
    await assert.rejects(client({ retries: 0 }).putBlob(repo, Buffer.from('x')), (e: SigilError) => e.code === 'NETWORK' && e.message.includes(tlsReg.host));
    const insecure = client({ insecureRegistries: [tlsReg.host] });
    const put = await insecure.putBlob(repo, Buffer.from('over tls'));
    assert.deepEqual(await insecure.getBlob(repo, put.digest), Buffer.from('over tls'));
    // Named insecure but speaking plain HTTP: the probe falls back to HTTP.
    const plain = client({ insecureRegistries: [reg.host] });
    assert.equal((await plain.getManifest(parseReference(app.ref))).digest, app.digest);
  } finally {
    await tlsReg.stop();
  }
});

test('unknown manifest media types are refused by name (Docker schema 1, OCI artifact manifest)', async () => {
  const served: Record<string, { type: string; body: string }> = {
    '/v2/old/app/manifests/v1': { type: 'application/vnd.docker.distribution.manifest.v1+prettyjws', body: JSON.stringify({ schemaVersion: 1, name: 'old/app', tag: 'v1', fsLayers: [] }) },
    '/v2/old/app/manifests/v2': { type: 'application/vnd.oci.artifact.manifest.v1+json', body: JSON.stringify({ mediaType: 'application/vnd.oci.artifact.manifest.v1+json', artifactType: 'x', blobs: [] }) },
  };
  const srv = http.createServer((req, res) => {
    const s = served[req.url ?? ''];
    if (!s) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': s.type }).end(s.body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  try {
    const c = client();
    for (const tag of ['v1', 'v2']) {
      await assert.rejects(c.getManifest(parseReference(`${host}/old/app:${tag}`)), (e: SigilError) => e.code === 'MEDIA_TYPE_UNSUPPORTED' && e.message.includes(served[`/v2/old/app/manifests/${tag}`]!.type));
    }
  } finally {
    srv.close();
  }
});
