/**
 * `sigil log keygen|get|proof|monitor` against a real log over HTTP: proofs checked, signatures
 * checked with the pinned key, and a log that rewrites its history (a fork with the same key and
 * origin, or a rollback) makes the monitor exit 1 and keep its state as evidence.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import { importPrivateKey, importPublicKey } from '../../src/crypto/keys.js';
import { noteKeyId } from '../../src/formats/checkpoint.js';
import { SqliteLogStore } from '../../src/services/storage/sqlite-log-store.js';
import { TransparencyLog } from '../../src/services/log/log.js';
import { serveLog } from '../../src/services/log/server.js';
import type { RunningServer } from '../../src/services/http.js';
import { LogClient, hashedRekordRequestV2, type TlogEntryJson } from '../../src/sign/log-client.js';
import { runSigil, type CliResult } from '../helpers/cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'sigil-log-cli-'));
const env = { SIGIL_PASSWORD: 'log-pw' };
const servers: { log: TransparencyLog; server: RunningServer }[] = [];
const artifactKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = artifactKey.publicKey.export({ type: 'spki', format: 'der' });

async function sigil(args: string[]): Promise<CliResult> {
  return runSigil(args, env, { cwd: dir });
}

async function startLog(db: string): Promise<{ log: TransparencyLog; server: RunningServer }> {
  const signer = new LocalSigner(importPrivateKey(readFileSync(join(dir, 'log.key')), 'log-pw'));
  const log = await TransparencyLog.open({ store: SqliteLogStore.open(join(dir, db)), signer, origin: 'cli.test' });
  const s = { log, server: await serveLog(log, 0) };
  servers.push(s);
  return s;
}

async function add(url: string, names: string[]): Promise<TlogEntryJson[]> {
  const client = new LogClient({ url });
  const out: TlogEntryJson[] = [];
  for (const n of names) {
    const data = Buffer.from(n);
    out.push(await client.uploadRequest(hashedRekordRequestV2(createHash('sha256').update(data).digest(), sign('sha256', data, artifactKey.privateKey), { publicKey: spki }, 'PKIX_ECDSA_P256_SHA_256')));
  }
  return out;
}

before(async () => {
  const r = await sigil(['log', 'keygen', '--output-key-prefix', 'log']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  for (const s of servers) {
    await s.server.close();
    await s.log.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

test('log keygen writes an encrypted key and prints the log ID a trusted root needs', async () => {
  assert.match(readFileSync(join(dir, 'log.key'), 'utf8'), /BEGIN ENCRYPTED SIGSTORE PRIVATE KEY/);
  const r = await sigil(['log', 'keygen', '--output-key-prefix', 'ed', '--algorithm', 'ed25519', '--origin', 'ed.test', '--output', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { logId: string };
  assert.equal(out.logId, noteKeyId('ed.test', importPublicKey(readFileSync(join(dir, 'ed.pub')))).toString('hex'));
  const again = await sigil(['log', 'keygen', '--output-key-prefix', 'ed']);
  assert.equal(again.code, 2, 'refuses to overwrite');
  assert.equal((await sigil(['log', 'keygen', '--algorithm', 'rsa-2048', '--output-key-prefix', 'x'])).code, 2);
});

test('log get and log proof check proofs and, with --log-key, checkpoint signatures', async () => {
  const { server } = await startLog('main.db');
  const entries = await add(server.url, ['a', 'b', 'c', 'd', 'e']);
  const get = await sigil(['log', 'get', '--url', server.url, '--index', entries[2]!.logIndex, '--log-key', 'log.pub', '--output', 'json']);
  assert.equal(get.code, 0, get.stderr);
  const g = JSON.parse(get.stdout) as { verified: { inclusionProof: boolean; checkpointSignature: boolean }; uuid: string; body: { kind: string } };
  assert.deepEqual(g.verified, { inclusionProof: true, checkpointSignature: true });
  assert.equal(g.body.kind, 'hashedrekord');
  const byUuid = await sigil(['log', 'get', '--url', server.url, '--uuid', g.uuid, '--output', 'json']);
  assert.equal(byUuid.code, 0, byUuid.stderr);
  assert.equal((JSON.parse(byUuid.stdout) as { verified: { checkpointSignature: boolean } }).verified.checkpointSignature, false);

  const inc = await sigil(['log', 'proof', '--url', server.url, '--uuid', g.uuid, '--log-key', 'log.pub', '--output', 'json']);
  assert.equal(inc.code, 0, inc.stderr);
  const byIndex = await sigil(['log', 'proof', '--url', server.url, '--index', '0', '--tree-size', entries[3]!.inclusionProof.treeSize]);
  assert.equal(byIndex.code, 0, byIndex.stderr);
  const cons = await sigil(['log', 'proof', '--url', server.url, '--first-size', entries[1]!.inclusionProof.treeSize, '--log-key', 'log.pub', '--output', 'json']);
  assert.equal(cons.code, 0, cons.stderr);
  assert.equal((JSON.parse(cons.stdout) as { lastSize: number }).lastSize, 5);

  // Another key: the checkpoint signature does not verify → exit 1.
  writeFileSync(join(dir, 'other.pub'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
  const wrong = await sigil(['log', 'get', '--url', server.url, '--index', '0', '--log-key', 'other.pub']);
  assert.equal(wrong.code, 1, wrong.stdout);
  assert.match(wrong.stderr, /TLOG_CHECKPOINT_INVALID/);
  assert.equal((await sigil(['log', 'get', '--url', server.url, '--index', '99'])).code, 2);
  assert.equal((await sigil(['log', 'proof', '--url', server.url, '--first-size', '6'])).code, 2, 'size 6 was never published');
  assert.equal((await sigil(['log', 'get', '--url', server.url])).code, 2);
});

test('log monitor accepts growth, and exits 1 on a fork or a rollback keeping its state', async () => {
  const main = await startLog('monitor-main.db');
  await add(main.server.url, ['m1', 'm2', 'm3']);
  const first = await sigil(['log', 'monitor', '--url', main.server.url, '--state', 'mon.json', '--output', 'json']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal((JSON.parse(first.stdout) as { firstRun: boolean }).firstRun, true);
  await add(main.server.url, ['m4', 'm5']);
  const second = await sigil(['log', 'monitor', '--url', main.server.url, '--state', 'mon.json', '--output', 'json']);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(JSON.parse(second.stdout), { url: main.server.url, origin: 'cli.test', previousSize: 3, size: 5, firstRun: false });

  // The same key and origin serving another history from the same URL the monitor knows.
  const forked = await startLog('monitor-fork.db');
  await add(forked.server.url, ['m1', 'm2', 'm3', 'X4', 'X5', 'X6']);
  const state = JSON.parse(readFileSync(join(dir, 'mon.json'), 'utf8')) as { url: string };
  writeFileSync(join(dir, 'fork.json'), JSON.stringify({ ...state, url: forked.server.url }));
  const before = readFileSync(join(dir, 'fork.json'), 'utf8');
  const fork = await sigil(['log', 'monitor', '--url', forked.server.url, '--state', 'fork.json']);
  assert.equal(fork.code, 1, fork.stdout);
  assert.match(fork.stderr, /CONSISTENCY_INVALID/);
  assert.equal(readFileSync(join(dir, 'fork.json'), 'utf8'), before, 'state kept as evidence');

  const short = await startLog('monitor-short.db');
  await add(short.server.url, ['m1', 'm2']);
  writeFileSync(join(dir, 'rollback.json'), JSON.stringify({ ...state, url: short.server.url }));
  const rollback = await sigil(['log', 'monitor', '--url', short.server.url, '--state', 'rollback.json']);
  assert.equal(rollback.code, 1);
  assert.match(rollback.stderr, /rollback/);

  assert.equal((await sigil(['log', 'monitor', '--url', short.server.url, '--state', 'mon.json'])).code, 2, 'state of another URL');
});
