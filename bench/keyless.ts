/**
 * Keyless benchmark: `npm run bench -- keyless [seconds] [e2e-signings]`.
 *
 * 1. Certificates issued per second by the CA as `sigil up` runs it, in-process (no HTTP), each one
 *    the full pipeline: ES256 token verification (jose, cached JWKS), claims and identity rules,
 *    proof-of-possession check, precertificate, CT log entry (SCT signature, durable SQLite
 *    append, Merkle tree update), final certificate with the SCT embedded. 1 thread and 2
 *    threads (worker_threads, one CT log database each, both cores).
 * 2. Ceiling beside it: the raw node:crypto operations one certificate needs and nothing else
 *    (ES256 verify, PoP verify, precertificate sign, SCT sign, final sign), 1 and 2 threads.
 * 3. End-to-end keyless sign-blob latency against `sigil up` running as its own process: ephemeral
 *    key → certificate → signature → Rekor v2 entry → RFC 3161 timestamp → bundle, sequentially;
 *    median and p99. Baseline: sigstore-js `sigstore.sign` against the same stack (Rekor v1 + TSA).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as sigstore from 'sigstore';
import { LocalSigner } from '../src/crypto/local-signer.js';
import { listen, type RequestListener } from '../src/services/http.js';
import { DevOidcIssuer } from '../src/services/oidc-dev/issuer.js';
import { devOidcHandler } from '../src/services/oidc-dev/server.js';
import { StateDir, loadCaIssuer, readOidcState } from '../src/services/state.js';
import { parseSigningConfig } from '../src/formats/signing-config.js';
import { beginKeyless, keylessSignBlob, servicesFromSigningConfig } from '../src/sign/keyless.js';
import type { WorkerInput } from './_keyless-worker.js';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function startWorker(input: WorkerInput): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const url = new URL('./_keyless-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(code, { eval: true, workerData: input, execArgv: [] });
}

interface Totals {
  issue: number;
  issueMs: number;
  raw: number;
  rawMs: number;
}

/** Starts the workers, waits until all are warm, releases them together; rates summed over threads. */
async function runWorkers(inputs: WorkerInput[]): Promise<{ issue: number; raw: number }> {
  const workers = inputs.map(startWorker);
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((res, rej) => {
          w.once('message', () => res());
          w.once('error', rej);
        }),
    ),
  );
  const done = workers.map(
    (w) =>
      new Promise<Totals>((res, rej) => {
        w.on('message', (m: Totals & { type: string }) => m.type === 'done' && res(m));
        w.once('error', rej);
      }),
  );
  for (const w of workers) w.postMessage('go');
  const all = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  return {
    issue: all.reduce((a, t) => a + t.issue / (t.issueMs / 1000), 0),
    raw: all.reduce((a, t) => a + t.raw / (t.rawMs / 1000), 0),
  };
}

async function issuance(seconds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-bench-keyless-'));
  try {
    const state = new StateDir(join(dir, 'state'), { SIGIL_STATE_PASSWORD: 'bench' }, { N: 1024, r: 8, p: 1 });
    const issuer = await loadCaIssuer(state);
    state.signer('ctlog');
    const holder: { h?: RequestListener } = {};
    const oidcServer = await listen((q, s) => holder.h!(q, s), 0);
    const oidc = new DevOidcIssuer(oidcServer.url, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { subject: 'bench', email: 'bench@sigil.local' });
    holder.h = devOidcHandler(oidc);
    const requests: WorkerInput['requests'] = [];
    for (let i = 0; i < 256; i++) {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      requests.push({
        token: await oidc.mint({ ttlSeconds: 3600 }),
        pem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
        pop: sign('sha256', Buffer.from('bench@sigil.local'), privateKey).toString('base64'),
      });
    }
    const token = requests[0]!.token;
    const [h, p, s] = token.split('.');
    const client = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const raw: WorkerInput['raw'] = {
      jwtInput: `${h}.${p}`,
      jwtSig: Buffer.from(s!, 'base64url').toString('base64'),
      oidcPub: oidc.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      popData: 'bench@sigil.local',
      popSig: sign('sha256', Buffer.from('bench@sigil.local'), client.privateKey).toString('base64'),
      clientPub: client.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      caKey: (issuer.signer as LocalSigner).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      ctKey: state.signer('ctlog').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    };
    const base = { stateDir: join(dir, 'state'), issuerUrl: oidcServer.url, requests, seconds, concurrency: 16 };
    const input = (i: number): WorkerInput => ({ ...base, ctPath: join(dir, `ct-${i}.sqlite`), raw });

    const one = await runWorkers([input(0)]);
    const two = await runWorkers([input(1), input(2)]);
    const [raw1, issue1, raw2, issue2] = [one.raw, one.issue, two.raw, two.issue];
    await oidcServer.close();
    console.log(`\n1-2. Certificates issued per second (in-process CA + CT log; ${seconds} s per thread count, sigil and the raw ceiling in alternating 200 ms slices)\n`);
    console.log('| case | certificates/s | ratio to raw ceiling |');
    console.log('|---|---:|---:|');
    console.log(`| raw node:crypto ops per certificate, 1 thread (ceiling) | ${fmt(raw1)} | 1.00 |`);
    console.log(`| sigil CA issue(), 1 thread | ${fmt(issue1)} | ${(issue1 / raw1).toFixed(2)} |`);
    console.log(`| raw node:crypto ops per certificate, 2 threads (ceiling) | ${fmt(raw2)} | 1.00 |`);
    console.log(`| sigil CA issue(), 2 threads | ${fmt(issue2)} | ${(issue2 / raw2).toFixed(2)} |`);
    console.log(`\ngoal ≥ 1,500 certificates/s on 2 cores: ${issue2 >= 1500 ? 'met' : 'NOT met'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function endToEnd(count: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-bench-up-'));
  const stateDir = join(dir, 'state');
  const up = spawn(process.execPath, ['--import', 'tsx', new URL('../src/cli/sigil.ts', import.meta.url).pathname, 'up', '--state', stateDir, '--port', '0', '--output', 'json'], {
    env: { ...process.env, SIGIL_STATE_PASSWORD: 'bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const ready = await new Promise<{ signingConfig: string; urls: { ca: string; tlog: string; tsa: string } }>((resolve, reject) => {
      let out = '';
      up.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      up.once('exit', (code) => reject(new Error(`sigil up exited with ${code}`)));
    });
    const state = new StateDir(stateDir, { SIGIL_STATE_PASSWORD: 'bench' });
    const o = readOidcState(state);
    const oidc = new DevOidcIssuer(o.url, state.signer('oidc').privateKey, { subject: o.subject, ...(o.email ? { email: o.email } : {}) });
    const services = servicesFromSigningConfig(parseSigningConfig(readFileSync(ready.signingConfig)));
    const artifact = Buffer.alloc(1024, 7);
    const tokens = await Promise.all(Array.from({ length: count + 20 }, () => oidc.mint()));

    const sigilOnce = async (token: string) => {
      const t0 = performance.now();
      const session = await beginKeyless({ token, caUrl: services.caUrl, tlog: services.tlogs[0]!, tsaUrls: services.tsaUrls });
      await keylessSignBlob(artifact, session);
      return performance.now() - t0;
    };
    const sigstoreOnce = async (token: string) => {
      const t0 = performance.now();
      await sigstore.sign(artifact, { fulcioURL: ready.urls.ca, rekorURL: ready.urls.tlog, tsaServerURL: ready.urls.tsa, identityToken: token });
      return performance.now() - t0;
    };
    for (let i = 0; i < 10; i++) {
      await sigilOnce(tokens[i]!);
      await sigstoreOnce(tokens[i + 10]!);
    }
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < count; i++) {
      // Interleaved so both see the same machine load.
      ours.push(await sigilOnce(tokens[20 + i]!));
      theirs.push(await sigstoreOnce(tokens[20 + i]!));
    }
    ours.sort((a, b) => a - b);
    theirs.sort((a, b) => a - b);
    console.log(`\n3. End-to-end keyless sign-blob latency against \`sigil up\` (separate process), ${count} sequential signings of 1 KiB\n`);
    console.log('| client | median ms | p99 ms | ratio (median) |');
    console.log('|---|---:|---:|---:|');
    console.log(`| sigstore-js sigstore.sign (Fulcio + Rekor v1 + TSA), baseline | ${percentile(theirs, 50).toFixed(1)} | ${percentile(theirs, 99).toFixed(1)} | 1.00 |`);
    console.log(`| sigil keyless sign-blob (CA + Rekor v2 + TSA) | ${percentile(ours, 50).toFixed(1)} | ${percentile(ours, 99).toFixed(1)} | ${(percentile(theirs, 50) / percentile(ours, 50)).toFixed(2)} |`);
  } finally {
    const exited = new Promise((r) => up.once('exit', r));
    up.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function main(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? 3);
  const e2e = Number(args[1] ?? 200);
  await issuance(seconds);
  await endToEnd(e2e);
}
