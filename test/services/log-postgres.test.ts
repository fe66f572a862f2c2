/**
 * Two `sigil log serve` processes on one throwaway PostgreSQL cluster, with concurrent writers
 * on both, then a full-tree audit through the read API: every acknowledged entry at its index,
 * no index twice, the root rebuilt from all leaves (read back through C2SP entry tiles) equal to
 * the newest checkpoint, and every checkpoint either frontend published consistent with it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptCosignKey } from '../../src/crypto/cosign-key.js';
import { leafHash, rootFromLeafHashes } from '../../src/merkle/hash.js';
import { verifyConsistency } from '../../src/merkle/proof.js';
import { decodeEntryBundle, tilePath } from '../../src/merkle/tiles.js';
import { parseSignedNote, verifySignedNote, noteVerifierKey } from '../../src/formats/checkpoint.js';
import { hashedRekordRequestV2, type TlogEntryJson } from '../../src/sign/log-client.js';
import { startPostgres, freePort, type PgCluster } from '../helpers/postgres.js';
import { REPO_ROOT } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'sigil-log-pg-'));
const logKey = generateKeyPairSync('ed25519');
const env = { ...process.env, SIGIL_PASSWORD: 'pg-test' };
let cluster: PgCluster;
let db: string;
const children: ChildProcess[] = [];

function serve(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'src/cli/sigil.ts'), 'log', 'serve', '--db', db, '--key', join(dir, 'log.key'), '--addr', `127.0.0.1:${port}`, '--origin', 'pg.test', '--output', 'json'],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { url: string }).url);
    });
    child.on('exit', (code) => reject(new Error(`log serve exited (${code}): ${err}`)));
  });
}

before(async () => {
  cluster = await startPostgres();
  db = await cluster.createDatabase('sigil_log');
  writeFileSync(join(dir, 'log.key'), encryptCosignKey(logKey.privateKey, 'pg-test', { scrypt: { N: 1024, r: 8, p: 1 } }));
});
after(async () => {
  for (const c of children) {
    c.kill('SIGTERM');
    if (c.exitCode === null) await new Promise((r) => c.once('exit', r));
  }
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('two frontends on one PostgreSQL sequence concurrent writes into one consistent tree', async () => {
  const urls = await Promise.all([serve(await freePort()), serve(await freePort())]);
  const key = noteVerifierKey('pg.test', logKey.publicKey);
  const artifactKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = artifactKey.publicKey.export({ type: 'spki', format: 'der' });
  const request = (name: string) => {
    const data = Buffer.from(name);
    return JSON.stringify(hashedRekordRequestV2(createHash('sha256').update(data).digest(), sign('sha256', data, artifactKey.privateKey), { publicKey: spki }, 'PKIX_ECDSA_P256_SHA_256'));
  };
  const acks = new Map<number, Buffer>();
  const checkpoints = new Map<number, string>();
  let duplicates = 0;
  await Promise.all(
    Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; i < 30; i++) {
        // Every 10th request goes to both frontends at once: it must be logged exactly once.
        const name = i % 10 === 0 ? `shared ${w} ${i}` : `writer ${w} entry ${i}`;
        const targets = i % 10 === 0 ? urls : [urls[(w + i) % 2]!];
        // One request body (ECDSA signatures are randomised: a new signature would be a new entry).
        const body = request(name);
        const results = await Promise.all(
          targets.map(async (u) => {
            const res = await fetch(`${u}/api/v2/log/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
            if (res.status !== 201 && res.status !== 200) assert.fail(`status ${res.status}: ${await res.text()}`);
            if (res.status === 200) duplicates++;
            return (await res.json()) as TlogEntryJson;
          }),
        );
        const indexes = new Set(results.map((e) => e.logIndex));
        assert.equal(indexes.size, 1, 'the same entry got one index from both frontends');
        for (const e of results) {
          const leaf = leafHash(Buffer.from(e.canonicalizedBody, 'base64'));
          const prev = acks.get(Number(e.logIndex));
          if (prev) assert.deepEqual(prev, leaf, `index ${e.logIndex} acknowledged for two different entries`);
          acks.set(Number(e.logIndex), leaf);
          checkpoints.set(Number(e.inclusionProof.treeSize), e.inclusionProof.checkpoint.envelope);
        }
      }
    }),
  );
  assert.equal(acks.size, 16 * 30);
  assert.equal(duplicates, 16 * 3, 'the second copy of each shared entry was a duplicate');

  // Audit through frontend B's read API.
  const head = parseSignedNote(await (await fetch(`${urls[1]}/checkpoint`)).text());
  verifySignedNote(head, [key]);
  assert.equal(head.size, acks.size, 'no index skipped or given twice');
  const leaves: Buffer[] = [];
  for (let t = 0; t * 256 < head.size; t++) {
    const width = Math.min(256, head.size - t * 256);
    const res = await fetch(`${urls[1]}/${tilePath({ kind: 'entries', level: 0, index: t, width })}`);
    assert.equal(res.status, 200);
    leaves.push(...decodeEntryBundle(Buffer.from(await res.arrayBuffer())).map((b) => leafHash(b)));
  }
  assert.deepEqual(rootFromLeafHashes(leaves), head.rootHash);
  for (const [index, leaf] of acks) assert.deepEqual(leaves[index], leaf, `entry ${index}`);
  for (const [size, text] of checkpoints) {
    const cp = parseSignedNote(text);
    verifySignedNote(cp, [key]);
    const proof = (await (await fetch(`${urls[0]}/api/v1/log/proof?firstSize=${size}&lastSize=${head.size}`)).json()) as { hashes: string[] };
    verifyConsistency(size, head.size, proof.hashes.map((h) => Buffer.from(h, 'hex')), cp.rootHash, head.rootHash);
  }
});
