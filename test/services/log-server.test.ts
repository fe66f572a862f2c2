/**
 * sigil's transparency log over real HTTP on 127.0.0.1 with a real SQLite store: Rekor v2 and v1
 * writes of every accepted kind, proofs and tiles checked against the checkpoint the log signed,
 * and bad input refused with 4xx JSON while nothing is stored and the server keeps serving.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import { pae } from '../../src/core/pae.js';
import { canonicalize } from '../../src/core/canonical-json.js';
import { leafHash } from '../../src/merkle/hash.js';
import { verifyInclusion, verifyConsistency } from '../../src/merkle/proof.js';
import { decodeEntryBundle, decodeHashTile } from '../../src/merkle/tiles.js';
import { parseSignedNote, verifySignedNote } from '../../src/formats/checkpoint.js';
import { SqliteLogStore } from '../../src/services/storage/sqlite-log-store.js';
import { TransparencyLog } from '../../src/services/log/log.js';
import { serveLog } from '../../src/services/log/server.js';
import type { RunningServer } from '../../src/services/http.js';
import {
  LogClient,
  dsseProposalV1,
  dsseRequestV2,
  hashedRekordProposalV1,
  hashedRekordRequestV2,
  intotoProposalV1,
  type TlogEntryJson,
} from '../../src/sign/log-client.js';

let dir: string;
let log: TransparencyLog;
let server: RunningServer;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = ec.publicKey.export({ type: 'spki', format: 'der' });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-log-'));
  const store = SqliteLogStore.open(join(dir, 'log.db'));
  log = await TransparencyLog.open({ store, signer: new LocalSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey), origin: 'sigil.test' });
  server = await serveLog(log, 0);
});
after(async () => {
  await server.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

function hashedRekord(artifact: string): { digest: Buffer; sig: Buffer } {
  const data = Buffer.from(artifact);
  return { digest: createHash('sha256').update(data).digest(), sig: sign('sha256', data, ec.privateKey) };
}

function dsseEnvelope(statement: object) {
  const payload = Buffer.from(JSON.stringify(statement));
  const payloadType = 'application/vnd.in-toto+json';
  return { payloadType, payload, signatures: [{ sig: sign('sha256', pae(payloadType, payload), ec.privateKey) }] };
}

/** Checks a bundle entry against the log's key: checkpoint signature, proof, body. */
function checkEntry(e: TlogEntryJson): void {
  const note = parseSignedNote(e.inclusionProof.checkpoint.envelope);
  verifySignedNote(note, [log.noteKey]);
  assert.equal(note.origin, 'sigil.test');
  assert.equal(String(note.size), e.inclusionProof.treeSize);
  verifyInclusion(
    Number(e.logIndex),
    note.size,
    leafHash(Buffer.from(e.canonicalizedBody, 'base64')),
    e.inclusionProof.hashes.map((h) => Buffer.from(h, 'base64')),
    note.rootHash,
  );
  assert.equal(e.logId.keyId, log.logId.toString('base64'));
}

async function post(path: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(server.url + path, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers };
}

test('Rekor v2 hashedrekord: 201 with a verifiable entry; a duplicate returns the same entry', async () => {
  const client = new LogClient({ url: server.url, verifyWith: [log.noteKey] });
  const { digest, sig } = hashedRekord('hello v2');
  const req = hashedRekordRequestV2(digest, sig, { publicKey: spki }, 'PKIX_ECDSA_P256_SHA_256');
  const first = await post('/api/v2/log/entries', JSON.stringify(req));
  assert.equal(first.status, 201, first.text);
  const e = JSON.parse(first.text) as TlogEntryJson;
  checkEntry(e);
  assert.deepEqual(e.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
  const body = Buffer.from(e.canonicalizedBody, 'base64').toString();
  assert.equal(canonicalize(JSON.parse(body)), body, 'body is RFC 8785 canonical');
  assert.equal((JSON.parse(body) as { spec: { hashedRekordV002: { data: { digest: string } } } }).spec.hashedRekordV002.data.digest, digest.toString('base64'));
  const again = await client.uploadRequest(req);
  assert.equal(again.logIndex, e.logIndex);
});

test('Rekor v2 dsse and Rekor v1 hashedrekord, dsse and intoto are logged and verifiable', async () => {
  const env = dsseEnvelope({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'x', predicate: { n: 1 } });
  const v2 = new LogClient({ url: server.url, verifyWith: [log.noteKey] });
  const d2 = await v2.uploadRequest(dsseRequestV2(env, [{ material: { publicKey: spki }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }]));
  checkEntry(d2);
  assert.deepEqual(d2.kindVersion, { kind: 'dsse', version: '0.0.2' });

  const v1 = new LogClient({ url: server.url, api: 'v1', verifyWith: [log.noteKey] });
  const { digest, sig } = hashedRekord('hello v1');
  const h1 = await v1.uploadRequest(hashedRekordProposalV1('sha256', digest, sig, { publicKey: spki }));
  checkEntry(h1);
  assert.ok(h1.inclusionPromise?.signedEntryTimestamp);
  const d1 = await v1.uploadRequest(dsseProposalV1(dsseEnvelope({ a: 2 }), [{ publicKey: spki }]));
  checkEntry(d1);
  const i1 = await v1.uploadRequest(intotoProposalV1(dsseEnvelope({ a: 3 }), { publicKey: spki }));
  checkEntry(i1);
  assert.deepEqual(i1.kindVersion, { kind: 'intoto', version: '0.0.2' });

  // v1 duplicate: 409 with Location; the client follows it and gets the same entry.
  const dup = await post('/api/v1/log/entries', JSON.stringify(hashedRekordProposalV1('sha256', digest, sig, { publicKey: spki })));
  assert.equal(dup.status, 409);
  assert.match(dup.headers.get('location') ?? '', /^\/api\/v1\/log\/entries\/[0-9a-f]{64}$/);
  const again = await v1.uploadRequest(hashedRekordProposalV1('sha256', digest, sig, { publicKey: spki }));
  assert.equal(again.logIndex, h1.logIndex);
  const byIndex = await fetch(`${server.url}/api/v1/log/entries?logIndex=${h1.logIndex}`);
  assert.equal(byIndex.status, 200);
});

test('tiles, checkpoint, consistency and inclusion-by-hash agree with each other', async () => {
  const before = parseSignedNote(await (await fetch(`${server.url}/checkpoint`)).text());
  const client = new LogClient({ url: server.url });
  const entries: TlogEntryJson[] = [];
  await Promise.all(
    Array.from({ length: 300 }, async (_, i) => {
      const { digest, sig } = hashedRekord(`tile entry ${i}`);
      entries.push(await client.uploadRequest(hashedRekordRequestV2(digest, sig, { publicKey: spki }, 'PKIX_ECDSA_P256_SHA_256')));
    }),
  );
  const cpRes = await fetch(`${server.url}/checkpoint`);
  assert.equal(cpRes.headers.get('cache-control'), 'no-cache');
  const head = parseSignedNote(await cpRes.text());
  verifySignedNote(head, [log.noteKey]);
  assert.ok(head.size >= 300 + before.size);

  const full = await fetch(`${server.url}/tile/0/000`);
  assert.equal(full.status, 200);
  assert.equal(full.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const hashes = decodeHashTile(Buffer.from(await full.arrayBuffer()));
  assert.equal(hashes.length, 256);
  const bundle = await fetch(`${server.url}/api/v2/tile/entries/000`);
  const bodies = decodeEntryBundle(Buffer.from(await bundle.arrayBuffer()));
  assert.equal(bodies.length, 256);
  bodies.forEach((b, i) => assert.deepEqual(leafHash(b), hashes[i]));

  const w = head.size - 256;
  const partial = await fetch(`${server.url}/tile/0/001.p/${w}`);
  assert.equal(partial.status, 200);
  assert.equal(partial.headers.get('cache-control'), 'no-cache');
  assert.equal(decodeHashTile(Buffer.from(await partial.arrayBuffer())).length, w);
  assert.equal((await fetch(`${server.url}/tile/0/001`)).status, 404, 'tile 1 is not full yet');
  assert.equal((await fetch(`${server.url}/tile/0/001.p/${w + 1}`)).status, 404);
  assert.equal((await fetch(`${server.url}/tile/0/1`)).status, 404, 'malformed tile path');

  const cons = (await (await fetch(`${server.url}/api/v1/log/proof?firstSize=${before.size}&lastSize=${head.size}`)).json()) as { hashes: string[]; rootHash: string };
  assert.equal(cons.rootHash, head.rootHash.toString('hex'));
  if (before.size > 0) verifyConsistency(before.size, head.size, cons.hashes.map((h) => Buffer.from(h, 'hex')), before.rootHash, head.rootHash);

  const some = entries[123]!;
  const leaf = leafHash(Buffer.from(some.canonicalizedBody, 'base64')).toString('hex');
  const inc = (await (await fetch(`${server.url}/api/v1/log/proof/inclusion?leafHash=${leaf}&treeSize=${head.size}`)).json()) as {
    logIndex: number;
    hashes: string[];
  };
  assert.equal(String(inc.logIndex), some.logIndex);
  verifyInclusion(inc.logIndex, head.size, Buffer.from(leaf, 'hex'), inc.hashes.map((h) => Buffer.from(h, 'hex')), head.rootHash);

  const info = (await (await fetch(`${server.url}/api/v1/log`)).json()) as { treeSize: number; logID: string };
  assert.equal(info.logID, log.logId.toString('hex'));
  assert.match(await (await fetch(`${server.url}/api/v1/log/publicKey`)).text(), /BEGIN PUBLIC KEY/);
});

test('bad requests get 4xx JSON errors, store nothing, and the server keeps serving', async () => {
  const size = async () => parseSignedNote(await (await fetch(`${server.url}/checkpoint`)).text()).size;
  const start = await size();
  const { digest, sig } = hashedRekord('bad input');
  const good = hashedRekordRequestV2(digest, sig, { publicKey: spki }, 'PKIX_ECDSA_P256_SHA_256') as { hashedRekordRequestV002: Record<string, unknown> };
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'der' });
  const offCurve = Buffer.from(spki);
  offCurve[offCurve.length - 1]! ^= 1; // y changed: the point leaves the curve
  const cases: [string, string | Buffer, Record<string, string> | undefined, number, string][] = [
    ['oversized', Buffer.alloc(200 * 1024, 0x20), undefined, 413, 'USAGE'],
    ['wrong content type', JSON.stringify(good), { 'content-type': 'text/plain' }, 415, 'USAGE'],
    ['no content type', JSON.stringify(good), {}, 415, 'USAGE'],
    ['invalid JSON', '{"hashedRekordRequestV002": {', undefined, 400, 'JSON_MALFORMED'],
    ['not an object', '[]', undefined, 400, 'LOG_ENTRY_MALFORMED'],
    ['unknown kind', JSON.stringify({ rekordRequestV001: {} }), undefined, 400, 'LOG_ENTRY_UNSUPPORTED'],
    ['two kinds', JSON.stringify({ ...good, dsseRequestV002: {} }), undefined, 400, 'LOG_ENTRY_MALFORMED'],
    ['bad signature', JSON.stringify(hashedRekordRequestV2(digest, sig, { publicKey: other }, 'PKIX_ECDSA_P256_SHA_256')), undefined, 400, 'SIGNATURE_INVALID'],
    ['altered digest', JSON.stringify(hashedRekordRequestV2(createHash('sha256').update('x').digest(), sig, { publicKey: spki }, 'PKIX_ECDSA_P256_SHA_256')), undefined, 400, 'SIGNATURE_INVALID'],
    ['short digest', JSON.stringify(hashedRekordRequestV2(digest.subarray(0, 20), sig, { publicKey: spki }, 'PKIX_ECDSA_P256_SHA_256')), undefined, 400, 'LOG_ENTRY_MALFORMED'],
    ['key details of another curve', JSON.stringify(hashedRekordRequestV2(digest, sig, { publicKey: p384 }, 'PKIX_ECDSA_P256_SHA_256')), undefined, 400, 'KEY_MISMATCH'],
    ['unknown key details', JSON.stringify(hashedRekordRequestV2(digest, sig, { publicKey: spki }, 'PKIX_MLDSA_65' as 'PKIX_ED25519')), undefined, 400, 'LOG_ENTRY_UNSUPPORTED'],
    ['garbage key', JSON.stringify(hashedRekordRequestV2(digest, sig, { publicKey: Buffer.from('not a key') }, 'PKIX_ECDSA_P256_SHA_256')), undefined, 400, 'LOG_ENTRY_MALFORMED'],
    ['garbage certificate', JSON.stringify(hashedRekordRequestV2(digest, sig, { certificate: Buffer.from('not a cert') }, 'PKIX_ECDSA_P256_SHA_256')), undefined, 400, 'LOG_ENTRY_MALFORMED'],
    ['key point off its curve', JSON.stringify(hashedRekordRequestV2(digest, sig, { publicKey: offCurve }, 'PKIX_ECDSA_P256_SHA_256')), undefined, 400, 'LOG_ENTRY_MALFORMED'],
    ['bad base64', JSON.stringify({ hashedRekordRequestV002: { ...good.hashedRekordRequestV002, digest: '!!!' } }), undefined, 400, 'LOG_ENTRY_MALFORMED'],
    ['extra field', JSON.stringify({ hashedRekordRequestV002: { ...good.hashedRekordRequestV002, extra: 1 } }), undefined, 400, 'LOG_ENTRY_MALFORMED'],
    ['missing signature', JSON.stringify({ hashedRekordRequestV002: { digest: digest.toString('base64') } }), undefined, 400, 'LOG_ENTRY_MALFORMED'],
  ];
  for (const [name, body, headers, status, code] of cases) {
    const r = await post('/api/v2/log/entries', body, headers ?? { 'content-type': 'application/json' });
    assert.equal(r.status, status, `${name}: ${r.text}`);
    const j = JSON.parse(r.text) as { code: string; message: string };
    assert.equal(j.code, code, `${name}: ${r.text}`);
    assert.ok(j.message.length > 0);
    if (name === 'key point off its curve') assert.match(j.message, /publicKey\.rawBytes holds an EC point that is not on its curve/);
  }
  const v1cases: [string, unknown, string][] = [
    ['v1 unknown kind', { apiVersion: '0.0.1', kind: 'rekord', spec: {} }, 'LOG_ENTRY_UNSUPPORTED'],
    ['v1 bad signature', hashedRekordProposalV1('sha256', digest, sig, { publicKey: other }), 'SIGNATURE_INVALID'],
    ['v1 dsse bad signature', dsseProposalV1({ ...dsseEnvelope({ z: 1 }), signatures: [{ sig }] }, [{ publicKey: spki }]), 'SIGNATURE_INVALID'],
    ['v1 no spec', { apiVersion: '0.0.1', kind: 'hashedrekord' }, 'LOG_ENTRY_MALFORMED'],
  ];
  for (const [name, body, code] of v1cases) {
    const r = await post('/api/v1/log/entries', JSON.stringify(body));
    assert.equal(r.status, 400, `${name}: ${r.text}`);
    assert.equal((JSON.parse(r.text) as { code: string }).code, code, name);
  }
  assert.equal((await fetch(`${server.url}/api/v2/log/entries`)).status, 405);
  assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  assert.equal((await fetch(`${server.url}/api/v1/log/entries?logIndex=99999999`)).status, 404);
  assert.equal((await fetch(`${server.url}/api/v1/log/entries?logIndex=-1`)).status, 400);
  assert.equal(await size(), start, 'nothing stored');
  const ok = await post('/api/v2/log/entries', JSON.stringify(good));
  assert.equal(ok.status, 201, 'still serving');
});
