/**
 * Crash test: `sigil log serve` (a real child process on SQLite) under concurrent writers is
 * killed with SIGKILL at random moments, several times. After each restart every acknowledged
 * entry is at the index it was given, every checkpoint the log ever published is consistent with
 * the new head, and `sigil log monitor` (run after every round on one state file) agrees.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafHash } from '../../src/merkle/hash.js';
import { verifyConsistency } from '../../src/merkle/proof.js';
import { parseSignedNote, verifySignedNote, noteVerifierKey } from '../../src/formats/checkpoint.js';
import { importPublicKey } from '../../src/crypto/keys.js';
import { hashedRekordRequestV2, type TlogEntryJson } from '../../src/sign/log-client.js';
import { runSigil, type CliResult } from '../helpers/cli-run.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { freePort } from '../helpers/postgres.js';
import { readFileSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'sigil-log-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, SIGIL_PASSWORD: 'crash-test' };

async function sigil(args: string[]): Promise<CliResult> {
  return runSigil(args, env, { cwd: dir });
}

function startServer(port: number): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'src/cli/sigil.ts'), 'log', 'serve', '--db', `sqlite:${join(dir, 'log.db')}`, '--key', join(dir, 'log.key'), '--addr', `127.0.0.1:${port}`, '--origin', 'crash.test', '--output', 'json'],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        try {
          resolve({ child, url: (JSON.parse(line) as { url: string }).url });
        } catch (e) {
          reject(e as Error);
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`log serve exited early (${code}): ${err}`)));
  });
}

const artifactKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = artifactKey.publicKey.export({ type: 'spki', format: 'der' });
let counter = 0;

interface Ack {
  index: number;
  leaf: Buffer;
}

/** Writers post until the server dies; returns what the log acknowledged and the checkpoints it published. */
async function load(url: string, writers: number, acks: Ack[], checkpoints: Map<number, string>, stop: { dead: boolean }): Promise<void> {
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (!stop.dead) {
        const data = Buffer.from(`crash artifact ${counter++} ${Math.random()}`);
        const req = hashedRekordRequestV2(createHash('sha256').update(data).digest(), sign('sha256', data, artifactKey.privateKey), { publicKey: spki }, 'PKIX_ECDSA_P256_SHA_256');
        let res: Response;
        try {
          res = await fetch(`${url}/api/v2/log/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req) });
        } catch {
          return; // server killed
        }
        if (res.status !== 201) {
          await res.arrayBuffer().catch(() => undefined);
          continue;
        }
        let e: TlogEntryJson;
        try {
          e = (await res.json()) as TlogEntryJson;
        } catch {
          return; // killed mid-response: not acknowledged
        }
        acks.push({ index: Number(e.logIndex), leaf: leafHash(Buffer.from(e.canonicalizedBody, 'base64')) });
        checkpoints.set(Number(e.inclusionProof.treeSize), e.inclusionProof.checkpoint.envelope);
      }
    }),
  );
}

test('every acknowledged entry and published checkpoint survives SIGKILL; monitor agrees', async (t) => {
  const keygen = await sigil(['log', 'keygen', '--output-key-prefix', 'log', '--output', 'json']);
  assert.equal(keygen.code, 0, keygen.stderr);
  const key = noteVerifierKey('crash.test', importPublicKey(readFileSync(join(dir, 'log.pub'))));
  const acks: Ack[] = [];
  const checkpoints = new Map<number, string>();
  const port = await freePort();
  for (let round = 0; round < 3; round++) {
    const { child, url } = await startServer(port);
    const stop = { dead: false };
    const before = acks.length;
    const writers = load(url, 24, acks, checkpoints, stop);
    // Kill at a random moment once the log is taking writes.
    while (acks.length === before) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 800)));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    stop.dead = true;
    await writers;

    t.diagnostic(`round ${round}: ${acks.length} acknowledged entries, ${checkpoints.size} checkpoints seen so far`);
    const restarted = await startServer(port);
    try {
      const head = parseSignedNote(await (await fetch(`${restarted.url}/checkpoint`)).text());
      verifySignedNote(head, [key]);
      assert.ok(acks.length > 0, 'the log acknowledged entries before the kill');
      for (const a of acks) {
        const res = await fetch(`${restarted.url}/api/v1/log/entries?logIndex=${a.index}`);
        assert.equal(res.status, 200, `acknowledged entry ${a.index} missing after round ${round}`);
        const body = Object.values((await res.json()) as Record<string, { body: string }>)[0]!.body;
        assert.deepEqual(leafHash(Buffer.from(body, 'base64')), a.leaf, `entry ${a.index} changed`);
      }
      for (const [size, text] of checkpoints) {
        const cp = parseSignedNote(text);
        verifySignedNote(cp, [key]);
        assert.ok(size <= head.size, `published size ${size} is beyond the head ${head.size} after restart`);
        const proof = (await (await fetch(`${restarted.url}/api/v1/log/proof?firstSize=${size}&lastSize=${head.size}`)).json()) as { hashes: string[] };
        verifyConsistency(size, head.size, proof.hashes.map((h) => Buffer.from(h, 'hex')), cp.rootHash, head.rootHash);
      }
      const mon = await sigil(['log', 'monitor', '--url', restarted.url, '--state', 'monitor.json', '--log-key', 'log.pub', '--output', 'json']);
      assert.equal(mon.code, 0, mon.stderr + mon.stdout);
      assert.equal((JSON.parse(mon.stdout) as { size: number }).size, head.size);
    } finally {
      restarted.child.kill('SIGTERM');
      await new Promise((r) => restarted.child.once('exit', r));
    }
  }
  assert.ok(new Set(acks.map((a) => a.index)).size === acks.length, 'no index acknowledged twice');
});
