/**
 * Transparency log benchmark: `npm run bench -- log [requests] [entries-for-proofs] [verify-threads,…]`.
 *
 * 1. Ceiling: raw better-sqlite3 batched inserts into the log's own schema (entry and tree-node
 *    rows, the leaf-hash index in sorted runs), synchronous=FULL, 256 rows per transaction —
 *    what the disk and SQLite allow before any HTTP, JSON or crypto.
 *    1b. The SQLite appender alone at 8/16/32 entries per transaction: the log's SQLite CPU per entry.
 * 2. Write throughput: `sigil log serve` (a child process, SQLite) receiving verified Rekor v2
 *    hashedrekord entries from 64 concurrent keep-alive HTTP/1.1 connections of this process (or wrk,
 *    SIGIL_BENCH_CLIENT=wrk; SIGIL_BENCH_CONNECTIONS changes the 64); every
 *    request is answered only after its entry is durable and covered by a signed checkpoint.
 *    RSS of the server is sampled as the log grows.
 * 3. Inclusion proof latency at 1,000,000 entries: a log built by direct batched appends, then
 *    random-index proofs through TransparencyLog (in-process, what the HTTP handler calls) and
 *    through HTTP, p50/p99 reported; RSS of the process as the log grows.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encryptCosignKey } from '../src/crypto/cosign-key.js';
import { LocalSigner } from '../src/crypto/local-signer.js';
import { leafHash } from '../src/merkle/hash.js';
import { MerkleFrontier } from '../src/merkle/frontier.js';
import { SqliteLogStore } from '../src/services/storage/sqlite-log-store.js';
import type { SealFn } from '../src/services/storage/log-store.js';
import { LEAF_INDEX_MERGE_AT, SQLITE_SCHEMA, SqliteAppender } from '../src/services/storage/sqlite-appender.js';
import { signCheckpoint } from '../src/formats/checkpoint.js';
import { TransparencyLog } from '../src/services/log/log.js';
import { serveLog } from '../src/services/log/server.js';
import { hashedRekordRequestV2 } from '../src/sign/log-client.js';
import { prehashEngine } from '../src/crypto/prehash.js';

/** Concurrent keep-alive connections of the write load (the goal is stated for 64; SIGIL_BENCH_CONNECTIONS overrides). */
const CONNECTIONS = Number(process.env.SIGIL_BENCH_CONNECTIONS ?? 64);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const mib = (b: number): string => `${(b / 1048576).toFixed(0)} MiB`;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** CPU ticks (user + system) of every thread of a process, by thread id and name. */
function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${name}#${tid}`, Number(f[11]) + Number(f[12]));
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

/** Busy threads of the server during the run: % of a core (100 ticks/s on Linux) and CPU µs per entry. */
function threadUse(pid: number, before: Map<string, number>, after: Map<string, number>, secs: number, entries: number): string {
  const rows = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((a, [, t]) => a + t, 0);
  // Worker threads are all named "node": the main thread is the one whose id is the process id,
  // the others are numbered in the order they started (ascending thread id).
  const order = [...after.keys()].map((k) => Number(k.split('#')[1])).sort((a, b) => a - b);
  const label = (k: string): string => {
    const [name, tid] = k.split('#');
    return Number(tid) === pid ? 'main' : `${name}#${order.indexOf(Number(tid))}`;
  };
  const show = rows.filter(([, t]) => t / secs >= 3).map(([k, t]) => `${label(k)} ${(t / secs).toFixed(0)}% (${((t * 1e4) / entries).toFixed(0)} µs/entry)`);
  return `${show.join(', ')}; all threads ${(total / secs).toFixed(0)}% = ${((total * 1e4) / entries).toFixed(0)} µs/entry`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * 1. Raw better-sqlite3 ceiling with the log's schema (version 2) and durability: an entry row and
 * a tree_nodes row per entry (both appended at the end of their B-trees), and the leaf-hash index
 * filled in sorted runs of LEAF_INDEX_MERGE_AT, as the appender does.
 */
function rawSqlite(dir: string, rows: number): number {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(SQLITE_SCHEMA);
  const ins = db.prepare('INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?)');
  const node = db.prepare('INSERT INTO tree_nodes VALUES (?, ?)');
  const index = db.prepare('INSERT INTO leaf_index VALUES (?, ?)');
  const body = randomBytes(700); // a hashedrekord v0.0.2 body with a P-256 public key is ~600-700 bytes
  let tail: [Buffer, number][] = [];
  const batch = db.transaction((start: number, n: number) => {
    for (let i = start; i < start + n; i++) {
      const h = randomBytes(32);
      ins.run(i, h, body, 'hashedrekord', '0.0.2', 0);
      node.run(i, randomBytes(32));
      tail.push([h, i]);
    }
    if (tail.length >= LEAF_INDEX_MERGE_AT) {
      for (const [h, i] of tail.sort((a, b) => Buffer.compare(a[0], b[0]))) index.run(h, i);
      tail = [];
    }
  });
  const t0 = performance.now();
  for (let i = 0; i < rows; i += 256) batch(i, Math.min(256, rows - i));
  const rate = rows / ((performance.now() - t0) / 1000);
  db.close();
  return rate;
}

/**
 * 1b. The SQLite appender alone (what a log store's writer runs per batch: entry and node rows, the
 * leaf-hash tail and index, the checkpoint signature, a durable COMMIT), at the transaction sizes a
 * 64-client load produces: CPU per entry of this process, so the log's SQLite share can be read off.
 */
async function appenderAlone(dir: string, entries: number): Promise<void> {
  const signer = new LocalSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const seal: SealFn = (size, root) => signCheckpoint('bench.log', size, root, signer);
  const body = randomBytes(620);
  const batch = Array.from({ length: entries }, (_, i) => {
    const b = Buffer.concat([body, Buffer.from(String(i))]);
    return { leafHash: leafHash(b), body: b, kind: 'hashedrekord', version: '0.0.2', integratedTime: 0 };
  });
  for (const per of [8, 16, 32]) {
    const appender = new SqliteAppender(join(dir, `appender-${per}.db`));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < entries; i += per) await appender.append(batch.slice(i, i + per), seal);
    const cpu = process.cpuUsage(cpu0);
    const secs = (performance.now() - t0) / 1000;
    appender.close();
    console.log(`SqliteAppender alone, ${per} entries per transaction (synchronous=FULL): ${fmt(entries / secs)} entries/s, ${((cpu.user + cpu.system) / entries).toFixed(1)} µs of CPU per entry`);
  }
}

/**
 * Deletes the databases of a finished measurement (files named `prefix`…) and flushes what the
 * kernel still holds for the disk, so that the next measured run does not compete with their
 * writeback: measured, the log's rate right after section 1 was ~10 % below its rate with section 1
 * skipped (13,977 / 14,500 vs 16,318 / 15,686 /s, alternating), and equal once this ran.
 */
function settleDisk(dir: string, prefix: RegExp): void {
  for (const f of readdirSync(dir)) if (prefix.test(f)) rmSync(join(dir, f), { force: true });
  spawnSync('sync');
}

interface Prepared {
  bodies: Buffer[];
}

function prepareRequests(n: number, keys: number): Prepared {
  const kps = Array.from({ length: keys }, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const spkis = kps.map((k) => k.publicKey.export({ type: 'spki', format: 'der' }));
  const bodies: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const data = Buffer.from(`bench artifact ${i} ${randomBytes(8).toString('hex')}`);
    const k = i % keys;
    bodies.push(Buffer.from(JSON.stringify(hashedRekordRequestV2(createHash('sha256').update(data).digest(), sign('sha256', data, kps[k]!.privateKey), { publicKey: spkis[k]! }, 'PKIX_ECDSA_P256_SHA_256'))));
  }
  return { bodies };
}

/**
 * A minimal keep-alive HTTP/1.1 client connection, like wrk's: the request bytes are built before
 * the run and the reply is parsed only as far as its status line and Content-Length. node:http's
 * client costs ~30 µs of CPU per request, which on 2 cores would be taken from the server under
 * test; this one costs a few µs. Replies must carry Content-Length (sigil's always do).
 */
class RawConnection {
  #socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (status: number) => void; reject: (e: Error) => void } | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('error', (e) => this.#waiting?.reject(e));
    socket.on('close', () => this.#waiting?.reject(new Error('connection closed by the server')));
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  #onData(d: Buffer): void {
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    const end = this.#buf.indexOf('\r\n\r\n');
    if (end < 0 || !this.#waiting) return;
    const head = this.#buf.toString('latin1', 0, end);
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!m) {
      this.#waiting.reject(new Error(`reply without Content-Length: ${head.slice(0, 200)}`));
      return;
    }
    const total = end + 4 + Number(m[1]);
    if (this.#buf.length < total) return;
    this.#buf = this.#buf.subarray(total);
    const w = this.#waiting;
    this.#waiting = undefined;
    w.resolve(Number(head.slice(9, 12)));
  }

  /** Sends one complete request and resolves with the reply's status code. */
  send(request: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** POST /api/v2/log/entries with the body, as complete HTTP/1.1 request bytes. */
function rawRequest(port: number, body: Buffer): Buffer {
  const head = `POST /api/v2/log/entries HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

type Target = 'log' | 'floor';

/** Starts the server on a free port (port 0) and learns the port from the URL it prints first. */
async function startServer(dir: string, verifyThreads: number, target: Target, db = `http-${verifyThreads}.db`): Promise<{ pid: number; port: number; stop: () => Promise<void> }> {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'log.key'), encryptCosignKey(key.privateKey, 'bench', { scrypt: { N: 1024, r: 8, p: 1 } }));
  const script =
    target === 'log'
      ? ['src/cli/sigil.ts', 'log', 'serve', '--db', `sqlite:${join(dir, db)}`, '--key', join(dir, 'log.key'), '--addr', '127.0.0.1:0', '--origin', 'bench.log', '--output', 'json', '--verify-threads', String(verifyThreads)]
      : ['bench/_log-floor-server.ts', '0', String(verifyThreads)];
  // SIGIL_BENCH_DIST=1 runs the compiled log server (npm run build first): its worker threads then
  // inherit SIGIL_BENCH_SERVER_NODE_ARGS (e.g. --cpu-prof), which tsx-started workers do not.
  const dist = process.env.SIGIL_BENCH_DIST === '1' && target === 'log';
  const entry = dist ? [join('dist', script[0]!.replace(/\.ts$/, '.js')), ...script.slice(1)] : ['--import', 'tsx', ...script];
  const child = spawn(process.execPath, [...(process.env.SIGIL_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), ...entry], {
    env: { ...process.env, SIGIL_PASSWORD: 'bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => {
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
      else reject(new Error(`no URL in the server's first output: ${d.toString()}`));
    });
    child.once('exit', (c) => reject(new Error(`${target} server exited ${c}`)));
  });
  return {
    pid: child.pid!,
    port,
    stop: () =>
      new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Requests sent before each measured run and not counted: for the JIT and SQLite's cache, and so
 * that each of the 64 keys passes the 256 uses after which the verification thread builds it a
 * fixed-base table (src/crypto/hot-keys.ts), as it would early in the life of a long-running log.
 */
const WARMUP = 40_000;

/** Signing keys the requests cycle through (SIGIL_BENCH_KEYS, default 64; 0: a fresh key per request, as keyless entries carry). */
const KEYS = Number(process.env.SIGIL_BENCH_KEYS ?? 64);

async function writeThroughput(dir: string, bodies: Buffer[], verifyThreads: number, target: Target): Promise<void> {
  const n = bodies.length;
  console.log(target === 'log' ? `\n### sigil log serve --verify-threads ${verifyThreads}` : `\n### floor: the same HTTP front and verification, no log behind it, ${verifyThreads} verification threads`);
  const server = await startServer(dir, verifyThreads, target);
  const port = server.port;
  const requests = bodies.map((b) => rawRequest(port, b));
  const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => RawConnection.open(port)));
  let next = 0;
  const run = async (until: number, statuses: Map<number, number>) => {
    await Promise.all(
      conns.map(async (conn) => {
        while (next < until) {
          const s = await conn.send(requests[next++]!);
          statuses.set(s, (statuses.get(s) ?? 0) + 1);
        }
      }),
    );
  };
  await run(WARMUP, new Map());
  const statuses = new Map<number, number>();
  const samples: string[] = [];
  const cpu0 = process.cpuUsage();
  const ticks0 = threadTicks(server.pid);
  const sampler = setInterval(() => samples.push(`${fmt(next)} entries: RSS ${mib(rssOf(server.pid))}`), 2000);
  const start = performance.now();
  await run(n, statuses);
  const secs = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const threads = threadUse(server.pid, ticks0, threadTicks(server.pid), secs, n - WARMUP);
  clearInterval(sampler);
  samples.push(`${fmt(n)} entries: RSS ${mib(rssOf(server.pid))}`);
  for (const c of conns) c.close();
  await server.stop();
  const ok = statuses.get(201) ?? 0;
  console.log(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  console.log(`throughput: ${fmt(ok / secs)} verified entries/s (${fmt(ok)} in ${secs.toFixed(1)} s), goal 15,000/s; the ${CONNECTIONS} load-generating connections in this process used ${((cpu.user + cpu.system) / 1e4 / secs).toFixed(0)}% of a core (${((cpu.user + cpu.system) / ok).toFixed(0)} µs/entry)`);
  console.log(`server threads busy during the run (% of a core): ${threads}`);
  console.log(`server RSS as the log grew: ${samples.join('; ')}`);
  if (target === 'log') {
    // One checkpoint per committed transaction: how far group commit merged the requests.
    const db = new Database(join(dir, `http-${verifyThreads}.db`), { readonly: true });
    const commits = db.prepare('SELECT count(*) FROM checkpoints').pluck().get() as number;
    db.close();
    console.log(`transactions: ${fmt(commits)} (${(n / commits).toFixed(1)} entries each on average, warm-up included)`);
  }
  settleDisk(dir, new RegExp(`^http-${verifyThreads}\\.db`));
}

async function proofLatency(dir: string, entries: number): Promise<void> {
  console.log(`\n## 3. Inclusion proofs at ${fmt(entries)} entries`);
  const store = SqliteLogStore.open(join(dir, 'big.db'), { synchronous: 'NORMAL' });
  const signer = new LocalSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const log0 = await TransparencyLog.open({ store, signer, origin: 'bench.proofs' });
  const body = randomBytes(600);
  const t0 = performance.now();
  const rss: string[] = [];
  for (let i = 0; i < entries; i += 16384) {
    const batch = [];
    for (let j = i; j < Math.min(entries, i + 16384); j++) {
      const b = Buffer.concat([body, Buffer.from(String(j))]);
      batch.push({ leafHash: leafHash(b), body: b, kind: 'hashedrekord', version: '0.0.2', integratedTime: 0 });
    }
    await store.appendBatch(batch, (size, root) => log0.sealCheckpoint(size, root));
    if ((i / 16384) % 16 === 0) rss.push(`${fmt(i + batch.length)}: ${mib(process.memoryUsage().rss)}`);
  }
  console.log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s (direct batched appends, 16,384 per commit); process RSS while growing: ${rss.join(', ')}`);
  await store.close();

  // Fresh process state: a new store and log, so no node comes from the append cache.
  const log = await TransparencyLog.open({ store: SqliteLogStore.open(join(dir, 'big.db')), signer, origin: 'bench.proofs' });
  const head = await log.head();
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 20000; i++) {
    const index = Math.floor(Math.random() * head.size);
    const t = performance.now();
    await log.inclusionProof(index);
    lat.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  console.log(
    `in-process TransparencyLog.inclusionProof, 20,000 random indices: p50 ${percentile(lat, 50).toFixed(3)} ms, p99 ${percentile(lat, 99).toFixed(3)} ms, ` +
      `max ${lat[lat.length - 1]!.toFixed(3)} ms (goal p99 < 2 ms); CPU time ${((cpu.user + cpu.system) / 20000).toFixed(0)} µs per proof (insensitive to other processes taking the CPU)`,
  );

  // Lookups by leaf hash (GET /api/v1/log/entries/<uuid>, proofs by leafHash): known and unknown hashes alternate.
  const look: number[] = [];
  for (let i = 0; i < 10000; i++) {
    const hash = i % 2 === 0 ? leafHash(Buffer.concat([body, Buffer.from(String(Math.floor(Math.random() * head.size)))])) : randomBytes(32);
    const t = performance.now();
    const found = await log.store.findLeaf(hash);
    look.push(performance.now() - t);
    if ((found === undefined) !== (i % 2 === 1)) throw new Error(`findLeaf answered ${String(found)} for lookup ${i}`);
  }
  look.sort((a, b) => a - b);
  console.log(`LogStore.findLeaf, 10,000 lookups (half unknown hashes): p50 ${percentile(look, 50).toFixed(3)} ms, p99 ${percentile(look, 99).toFixed(3)} ms`);

  const server = await serveLog(log, 0);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path: string) =>
    new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, path, agent }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve());
      })
        .on('error', reject)
        .end();
    });
  const http: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const index = Math.floor(Math.random() * head.size);
    const t = performance.now();
    await get(`/api/v1/log/proof/inclusion?logIndex=${index}`);
    http.push(performance.now() - t);
  }
  http.sort((a, b) => a - b);
  console.log(`HTTP GET /api/v1/log/proof/inclusion (one keep-alive client, same process): p50 ${percentile(http, 50).toFixed(3)} ms, p99 ${percentile(http, 99).toFixed(3)} ms`);
  agent.destroy();
  await server.close();
  await log.close();

  // Baseline in the same run: recomputing a proof from leaves in memory is what the stored nodes avoid.
  const f = MerkleFrontier.empty();
  const tb = performance.now();
  for (let i = 0; i < 100000; i++) f.append(leafHash(Buffer.from(String(i))));
  console.log(`baseline: hashing 100,000 leaves into a tree takes ${(performance.now() - tb).toFixed(0)} ms, so any proof built without stored nodes at 1M entries costs ~10x that`);
}

/** Whether wrk (Debian package `wrk`) is on PATH: a C load generator that costs the server's cores less. */
function haveWrk(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

/** Lua for wrk: each request posts the next prepared body (one JSON document per line of the file). */
const WRK_SCRIPT = `
local bodies, i = {}, 0
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/json"
end
function request()
  i = i + 1
  if i > #bodies then i = 1 end
  return wrk.format(nil, "/api/v2/log/entries", nil, bodies[i])
end
`;

/** CPU ticks (user + system, 1/100 s) of one process. */
function processTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/**
 * The same write load from wrk (one thread, 64 connections) instead of this process: its
 * bodies never repeat within the run (checked against the log's entry count afterwards).
 */
async function writeThroughputWrk(dir: string, bodies: Buffer[], verifyThreads: number, target: Target): Promise<void> {
  console.log(target === 'log' ? `\n### sigil log serve --verify-threads ${verifyThreads}, load from wrk` : `\n### floor, ${verifyThreads} verification threads, load from wrk`);
  const server = await startServer(dir, verifyThreads, target, `wrk-${verifyThreads}.db`);
  const warm = bodies.slice(0, WARMUP);
  const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => RawConnection.open(server.port)));
  let next = 0;
  await Promise.all(conns.map(async (c) => { while (next < warm.length) await c.send(rawRequest(server.port, warm[next++]!)); }));
  for (const c of conns) c.close();
  const file = join(dir, 'wrk-bodies.txt');
  writeFileSync(file, bodies.slice(WARMUP).map((b) => b.toString()).join('\n') + '\n');
  writeFileSync(join(dir, 'wrk.lua'), WRK_SCRIPT);
  // Long enough to measure, short enough that 25,000 requests/s would not run out of bodies.
  const secs = Math.max(2, Math.floor((bodies.length - WARMUP) / 25000));
  const ticks0 = threadTicks(server.pid);
  const wrk = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${secs}s`, '--latency', '-s', join(dir, 'wrk.lua'), `http://127.0.0.1:${server.port}`, '--', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  wrk.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let wrkTicks = 0;
  const sampler = setInterval(() => {
    try {
      wrkTicks = processTicks(wrk.pid!);
    } catch {
      // exited
    }
  }, 100);
  await new Promise((r) => wrk.once('exit', r));
  clearInterval(sampler);
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const threads = threadUse(server.pid, ticks0, threadTicks(server.pid), secs, total);
  await server.stop();
  let stored = '';
  if (target === 'log') {
    const db = new Database(join(dir, `wrk-${verifyThreads}.db`), { readonly: true });
    const entries = db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
    db.close();
    stored = `; ${fmt(entries - warm.length)} new entries stored for ${fmt(total)} requests${entries - warm.length < total - 64 ? ' (some bodies repeated: shorten the run or prepare more)' : ''}`;
  }
  settleDisk(dir, new RegExp(`^wrk-${verifyThreads}\\.db`));
  const p99 = /99%\s+([\d.]+\w+)/.exec(out)?.[1] ?? '?';
  console.log(`throughput: ${fmt(rate)} verified entries/s (${fmt(total)} in ${secs} s, ${non2xx} non-2xx, latency p99 ${p99}), goal 15,000/s; wrk used ${(wrkTicks / secs).toFixed(0)}% of a core (${((wrkTicks * 1e4) / Math.max(1, total)).toFixed(0)} µs/entry)${stored}`);
  console.log(`server threads busy during the run (% of a core): ${threads}`);
}

export default async function main(args: string[]): Promise<void> {
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores (other processes share the machine)`);
  const requests = Number(args[0] ?? 150000);
  const proofEntries = Number(args[1] ?? 1000000);
  const verifyThreads = (args[2] ?? '0,1').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'sigil-bench-log-'));
  try {
    const quick = process.env.SIGIL_BENCH_QUICK === '1';
    if (!quick) {
      console.log('## 1. Ceiling: raw better-sqlite3, log schema, synchronous=FULL, 256 rows per transaction');
      const raw = rawSqlite(dir, 200000);
      console.log(`raw batched insert: ${fmt(raw)} entries/s (entry row + one tree-node row each, leaf index in sorted runs)`);
      await appenderAlone(dir, 100000);
      settleDisk(dir, /^(raw|appender-\d+)\.db/);
    }
    console.log(`\n## 2. Verified hashedrekord writes over HTTP (${CONNECTIONS} keep-alive clients, SQLite, every answer durable (log serve flushes the WAL before answering), prehash engine: ${prehashEngine()})`);
    const t0 = performance.now();
    const { bodies } = prepareRequests(requests + WARMUP, KEYS === 0 ? requests + WARMUP : KEYS);
    const keyNote = KEYS === 0 ? 'a fresh P-256 key each, as keyless entries have: no key becomes hot' : `${KEYS} P-256 keys`;
    const warmNote = KEYS === 0 ? 'JIT and caches' : 'JIT, caches, and the keys become hot: 256 uses each';
    console.log(`prepared ${fmt(bodies.length)} signed requests (${keyNote}) in ${((performance.now() - t0) / 1000).toFixed(1)} s; each run starts with ${fmt(WARMUP)} of them, not counted (${warmNote})`);
    // SIGIL_BENCH_CLIENT: node (this process's raw client, the default), wrk, or both.
    const client = process.env.SIGIL_BENCH_CLIENT ?? 'node';
    if (client !== 'node' && !haveWrk()) throw new Error('SIGIL_BENCH_CLIENT asks for wrk, which is not installed (apt-get install wrk)');
    for (const target of quick ? (['log'] as const) : (['log', 'floor'] as const)) {
      for (const threads of verifyThreads) {
        if (client !== 'wrk') await writeThroughput(dir, bodies, threads, target);
        if (client !== 'node') await writeThroughputWrk(dir, bodies, threads, target);
      }
    }
    if (proofEntries > 0) await proofLatency(dir, proofEntries);
    else console.log('\n## 3. Inclusion proofs: skipped (0 proof entries asked for)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  }
}
