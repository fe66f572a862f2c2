/**
 * The referrers API path. Debian's distribution 2.8 has no referrers API and nothing installable
 * here has one, so these tests run against test/helpers/referrers-registry.ts. Its behaviour is
 * first held to the MUST clauses of the OCI distribution spec 1.1 (quoted in the test names),
 * then RegistryClient is run against it: referrers API with pagination and filters, OCI-Subject,
 * bearer-token auth with scopes, tag pagination by Link.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SigilError } from '../../src/core/errors.js';
import { RegistryClient, digestOf, referrersTag } from '../../src/oci/client.js';
import { OCI_EMPTY, OCI_EMPTY_DATA, OCI_EMPTY_DIGEST, OCI_INDEX, OCI_MANIFEST } from '../../src/oci/media-types.js';
import { startReferrersRegistry, type ReferrersRegistry } from '../helpers/referrers-registry.js';

let plain: ReferrersRegistry;
let secured: ReferrersRegistry;
let legacy: ReferrersRegistry;
const clients: RegistryClient[] = [];
const client = (opts: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient => {
  const c = new RegistryClient({ retryBaseMs: 5, env: { HOME: '/nonexistent' }, ...opts });
  clients.push(c);
  return c;
};
const sha = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

before(async () => {
  [plain, secured, legacy] = await Promise.all([
    startReferrersRegistry({ pageSize: 2 }),
    startReferrersRegistry({ bearer: { username: 'u', password: 'p' } }),
    startReferrersRegistry({ referrersApi: false }),
  ]);
});

after(async () => {
  for (const c of clients) c.close();
  await Promise.all([plain?.stop(), secured?.stop(), legacy?.stop()]);
});

function artifactManifest(subject: string, layer: Buffer, opts: { artifactType?: string; annotations?: Record<string, string> } = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      ...(opts.artifactType ? { artifactType: opts.artifactType } : {}),
      config: { mediaType: opts.artifactType ? OCI_EMPTY : 'application/vnd.example.config+json', digest: OCI_EMPTY_DIGEST, size: 2 },
      layers: [{ mediaType: 'application/octet-stream', digest: sha(layer), size: layer.length }],
      subject: { mediaType: OCI_MANIFEST, digest: subject, size: 100 },
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    }),
  );
}

async function raw(reg: ReferrersRegistry, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${reg.url}${path}`, { method, headers, ...(body ? { body: new Uint8Array(body) } : {}) });
}

async function rawPushBlob(reg: ReferrersRegistry, name: string, data: Buffer): Promise<void> {
  const res = await raw(reg, 'POST', `/v2/${name}/blobs/uploads/?digest=${sha(data)}`, data, { 'content-type': 'application/octet-stream' });
  assert.equal(res.status, 201);
}

test('spec: "A registry MUST initially accept ... a subject field that references a manifest that does not exist"; OCI-Subject is returned', async () => {
  await rawPushBlob(plain, 'spec/a', OCI_EMPTY_DATA);
  await rawPushBlob(plain, 'spec/a', Buffer.from('x'));
  const subject = 'sha256:' + '5'.repeat(64);
  const m = artifactManifest(subject, Buffer.from('x'), { artifactType: 'application/vnd.example.sig' });
  const res = await raw(plain, 'PUT', `/v2/spec/a/manifests/${sha(m)}`, m, { 'content-type': OCI_MANIFEST });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('oci-subject'), subject);
  assert.equal(res.headers.get('docker-content-digest'), sha(m));
});

test('spec: referrers "MUST NOT return a 404", "400 Bad Request" for an invalid digest, Content-Type is the index type', async () => {
  const none = await raw(plain, 'GET', `/v2/spec/a/referrers/sha256:${'6'.repeat(64)}`);
  assert.equal(none.status, 200);
  assert.equal(none.headers.get('content-type'), OCI_INDEX);
  assert.deepEqual(await none.json(), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
  assert.equal((await raw(plain, 'GET', '/v2/spec/a/referrers/sha256:zz')).status, 400);
});

test('spec: descriptors carry artifactType (else the config mediaType) and the manifest annotations; Link when paged; OCI-Filters-Applied', async () => {
  const subject = 'sha256:' + '7'.repeat(64);
  const pushed: string[] = [];
  for (const [i, at] of ['application/vnd.a', 'application/vnd.b', undefined].entries()) {
    const m = artifactManifest(subject, Buffer.from('x'), { ...(at ? { artifactType: at } : {}), annotations: { i: String(i) } });
    assert.equal((await raw(plain, 'PUT', `/v2/spec/a/manifests/${sha(m)}`, m, { 'content-type': OCI_MANIFEST })).status, 201);
    pushed.push(sha(m));
  }
  const first = await raw(plain, 'GET', `/v2/spec/a/referrers/${subject}`);
  const link = first.headers.get('link');
  assert.match(link ?? '', /^<\/v2\/spec\/a\/referrers\/sha256:7+\?offset=2>; rel="next"$/);
  const page1 = (await first.json()) as { manifests: { digest: string; artifactType?: string; annotations?: Record<string, string> }[] };
  const page2 = (await (await raw(plain, 'GET', link!.slice(1, link!.indexOf('>')))).json()) as typeof page1;
  const all = [...page1.manifests, ...page2.manifests];
  assert.deepEqual(all.map((d) => d.digest).sort(), pushed.sort());
  assert.deepEqual(all.map((d) => d.artifactType).sort(), ['application/vnd.a', 'application/vnd.b', 'application/vnd.example.config+json']);
  assert.ok(all.every((d) => d.annotations?.i !== undefined));
  const filtered = await raw(plain, 'GET', `/v2/spec/a/referrers/${subject}?artifactType=application/vnd.b`);
  assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
  assert.deepEqual(((await filtered.json()) as typeof page1).manifests.map((d) => d.artifactType), ['application/vnd.b']);
});

test('spec: tags/list is lexically ordered, "When n is zero ... MUST return an empty list, and MUST NOT include a Link header"', async () => {
  const m = artifactManifest('sha256:' + '8'.repeat(64), Buffer.from('x'));
  for (const t of ['b', 'a', 'c']) assert.equal((await raw(plain, 'PUT', `/v2/spec/a/manifests/${t}`, m, { 'content-type': OCI_MANIFEST })).status, 201);
  const zero = await raw(plain, 'GET', '/v2/spec/a/tags/list?n=0');
  assert.deepEqual(await zero.json(), { name: 'spec/a', tags: [] });
  assert.equal(zero.headers.get('link'), null);
  const two = await raw(plain, 'GET', '/v2/spec/a/tags/list?n=2');
  assert.deepEqual(await two.json(), { name: 'spec/a', tags: ['a', 'b'] });
  assert.equal(two.headers.get('link'), '</v2/spec/a/tags/list?n=2&last=b>; rel="next"');
});

test('spec: chunked upload "MUST respond with a 416" for an out-of-order chunk; a wrong digest is refused', async () => {
  const post = await raw(plain, 'POST', '/v2/spec/a/blobs/uploads/', undefined, { 'content-length': '0' });
  assert.equal(post.status, 202);
  const loc = post.headers.get('location')!;
  assert.equal((await raw(plain, 'PATCH', loc, Buffer.from('abc'), { 'content-range': '5-7' })).status, 416);
  const ok = await raw(plain, 'PATCH', loc, Buffer.from('abc'), { 'content-range': '0-2' });
  assert.equal(ok.status, 202);
  assert.equal(ok.headers.get('range'), '0-2');
  assert.equal((await raw(plain, 'PUT', `${loc}?digest=${sha(Buffer.from('abd'))}`)).status, 400);
});

test('client: referrers API with Link pagination and artifactType filter; OCI-Subject means no referrers tag', async () => {
  const c = client();
  const repo = { registry: plain.host, repository: 'client/app' };
  const subject = 'sha256:' + '9'.repeat(64);
  await c.putBlob(repo, OCI_EMPTY_DATA);
  const pushed = [];
  for (let i = 0; i < 5; i++) {
    const layer = Buffer.from(`layer ${i}`);
    await c.putBlob(repo, layer);
    const r = await c.putReferrer(repo, artifactManifest(subject, layer, { artifactType: i % 2 ? 'application/vnd.odd' : 'application/vnd.even' }), OCI_MANIFEST);
    assert.equal(r.subjectProcessed, true);
    assert.equal(r.tagSchemaUpdated, false);
    pushed.push(r.descriptor.digest);
  }
  const all = await c.referrers(repo, subject);
  assert.equal(all.source, 'api');
  assert.deepEqual(all.descriptors.map((d) => d.digest).sort(), pushed.sort());
  assert.equal((await c.referrers(repo, subject, { artifactType: 'application/vnd.odd' })).descriptors.length, 2);
  await assert.rejects(c.getManifest({ ...repo, tag: referrersTag(subject) }), (e: SigilError) => e.code === 'NOT_FOUND');
  // The registry (pageSize 2) paged 5 referrers into 3 answers.
  assert.equal(plain.requests.filter((r) => r.startsWith(`GET /v2/client/app/referrers/${subject}`)).length, 6);
});

test('client: a cached referrers list costs no round trip; an own push invalidates it', async () => {
  const c = client({ referrersCacheTtlMs: 60_000 });
  const repo = { registry: plain.host, repository: 'client/cache' };
  const subject = 'sha256:' + 'a'.repeat(64);
  await c.putBlob(repo, OCI_EMPTY_DATA);
  await c.putBlob(repo, Buffer.from('x'));
  await c.putReferrer(repo, artifactManifest(subject, Buffer.from('x'), { artifactType: 'application/vnd.one' }), OCI_MANIFEST);
  assert.equal((await c.referrers(repo, subject)).descriptors.length, 1);
  const n = c.requestCount;
  assert.equal((await c.referrers(repo, subject)).descriptors.length, 1);
  assert.equal(c.requestCount, n);
  await c.putReferrer(repo, artifactManifest(subject, Buffer.from('x'), { artifactType: 'application/vnd.two' }), OCI_MANIFEST);
  assert.equal((await c.referrers(repo, subject)).descriptors.length, 2);
});

test('client: listTags follows Link pages', async () => {
  const c = client();
  const repo = { registry: plain.host, repository: 'client/tags' };
  await c.putBlob(repo, OCI_EMPTY_DATA);
  await c.putBlob(repo, Buffer.from('x'));
  const m = artifactManifest('sha256:' + 'b'.repeat(64), Buffer.from('x'));
  const names = ['t1', 't2', 't3', 't4', 't5'];
  for (const t of names) await c.putManifest(repo, t, m, OCI_MANIFEST);
  assert.deepEqual(await c.listTags(repo, { pageSize: 2 }), names);
  assert.deepEqual(await c.listTags(repo), names);
});

test('client: registry without the API (404) falls back to the tag schema on read and write', async () => {
  const c = client();
  const repo = { registry: legacy.host, repository: 'legacy/app' };
  const subject = 'sha256:' + 'c'.repeat(64);
  await c.putBlob(repo, OCI_EMPTY_DATA);
  await c.putBlob(repo, Buffer.from('x'));
  const r = await c.putReferrer(repo, artifactManifest(subject, Buffer.from('x'), { artifactType: 'application/vnd.x' }), OCI_MANIFEST);
  assert.deepEqual([r.subjectProcessed, r.tagSchemaUpdated], [false, true]);
  const list = await c.referrers(repo, subject);
  assert.equal(list.source, 'tag-schema');
  assert.deepEqual(list.descriptors, [r.descriptor]);
  const idx = await c.getManifest({ ...repo, tag: referrersTag(subject) });
  assert.equal(idx.manifest.kind, 'index');
});

test('client: bearer token auth — challenge, token with repository scopes, cached per scope, mount asks pull on the source', async () => {
  const c = client({ credentials: { [secured.host]: { username: 'u', password: 'p' } } });
  const repo = { registry: secured.host, repository: 'sec/app' };
  assert.equal((await c.ping(secured.host)).auth, 'bearer');
  const data = Buffer.from('secret layer');
  await c.putBlob(repo, data);
  assert.deepEqual(await c.getBlob(repo, digestOf(data)), data);
  const issued = secured.tokensIssued.length;
  await c.getBlob(repo, digestOf(data));
  assert.equal(secured.tokensIssued.length, issued, 'token reused for the same scope');
  assert.ok(secured.tokensIssued.some((t) => t.scopes.includes('repository:sec/app:pull,push')));
  assert.ok(secured.tokensIssued.some((t) => t.scopes.includes('repository:sec/app:pull')));
  const other = { registry: secured.host, repository: 'sec/other' };
  assert.equal((await c.putBlob(other, data, { mountFrom: 'sec/app' })).how, 'mounted');
  assert.ok(secured.tokensIssued.some((t) => t.scopes.includes('repository:sec/other:pull,push') && t.scopes.includes('repository:sec/app:pull')));
  const anon = client();
  await assert.rejects(anon.getBlob(repo, digestOf(data)), (e: SigilError) => e.code === 'UNAUTHORIZED' && e.message.includes(secured.host) && /refused a token/.test(e.message));
  const wrong = client({ credentials: { [secured.host]: { username: 'u', password: 'bad' } } });
  await assert.rejects(wrong.getBlob(repo, digestOf(data)), (e: SigilError) => e.code === 'UNAUTHORIZED' && /rejected/.test(e.hint ?? ''));
});
