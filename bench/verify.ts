/**
 * `npm run bench -- verify [seconds-per-slice] [rounds]`: bundles verified per second over the
 * real public-good bundles of ../shared/corpus (every valid certificate case of cases.json with
 * the public-good trusted root: conformance happy paths, sigstore-js bundles, slsa-verifier and
 * npm provenance), in one process, by
 *   - sigil `verifySync`,
 *   - `@sigstore/verify` 3.x (Verifier + toSignedEntity + bundleFromJSON, trust material once),
 *   - the crypto ceiling: only the raw node:crypto operations each bundle needs (one
 *     X509Certificate parse of the leaf, the leaf's signature check by its CA key — P-384 for
 *     public-good Fulcio —, the artifact/DSSE signature, the SET and the checkpoint signature),
 * each on one thread of its own (bench/_verify-contender.ts: a pristine V8 isolate per contender,
 * run one at a time so they never compete for a core), in interleaved rounds; ratios are taken
 * per round and their median reported. Then sigil's `VerifyPool` (verifyMany) with 1 and 2
 * worker threads against that single-thread rate.
 *
 * Trust material is decoded once; every bundle is parsed and verified in full on every pass
 * (certificates are parsed without Certificate's DER cache: no per-bundle result is reused).
 * Figures are per wall-clock second and per CPU second of the process: the second is what to
 * read while other processes load the machine (the load line says how much they did).
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { VerifyPool, type VerifyJob } from '../src/verify/many.js';
import { benchItems, type SliceResult } from './_verify-contender.js';

const CONTENDERS = ['sigil', 'sigstore-js', 'ceiling'] as const;
type Contender = (typeof CONTENDERS)[number];

interface Rate {
  wall: number;
  cpu: number;
}

function spawn(contender: Contender): Promise<{ slice: (seconds: number) => Promise<Rate>; close: () => Promise<number> }> {
  const api = import.meta.resolve('tsx/esm/api');
  const url = new URL('./_verify-contender.ts', import.meta.url).href;
  const w = new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); });`, {
    eval: true,
    workerData: { contender },
    execArgv: [],
  });
  return new Promise((resolve, reject) => {
    w.once('error', reject);
    w.once('message', () => {
      resolve({
        slice: (seconds) =>
          new Promise<Rate>((res) => {
            w.once('message', (r: SliceResult) => res({ wall: r.items / r.wallSeconds, cpu: r.items / r.cpuSeconds }));
            w.postMessage({ seconds });
          }),
        close: () => w.terminate(),
      });
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function main(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? 1);
  const runs = Number(args[1] ?? 9);
  const items = benchItems();
  const n = items.length;

  const workers = {} as Record<Contender, Awaited<ReturnType<typeof spawn>>>;
  for (const c of CONTENDERS) workers[c] = await spawn(c);
  const rates: Record<Contender, Rate[]> = { sigil: [], 'sigstore-js': [], ceiling: [] };
  for (let r = 0; r < runs; r++) {
    // Alternate the order so no contender always follows the same one.
    const order = r % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
    for (const c of order) rates[c].push(await workers[c].slice(seconds));
  }
  for (const c of CONTENDERS) await workers[c].close();

  // verifyMany: batches of 8 passes over the corpus, pools started before timing.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const batch: VerifyJob[] = [];
  for (let i = 0; i < 8; i++) for (const it of items) batch.push({ bundle: it.p.bundleText, artifact: it.artifact, policy: it.p.policy });
  const pools: Record<number, number> = {};
  for (const threads of [1, Math.min(2, availableParallelism())]) {
    const pool = new VerifyPool(items[0]!.p.trust, threads);
    await pool.started();
    if (!(await pool.run(batch)).every((o) => o.ok)) throw new Error('verifyMany rejected a corpus bundle');
    const xs: number[] = [];
    for (let r = 0; r < 5; r++) {
      gc();
      let done = 0;
      const t0 = performance.now();
      do {
        await pool.run(batch);
        done += batch.length;
      } while (performance.now() - t0 < 2000);
      xs.push(done / ((performance.now() - t0) / 1000));
    }
    pools[threads] = median(xs);
    await pool.close();
  }

  const m = (c: Contender, k: keyof Rate): number => median(rates[c].map((x) => x[k]));
  const perRound = (a: Contender, b: Contender, k: keyof Rate): number => median(rates[a].map((x, i) => x[k] / rates[b][i]![k]));
  const load = median(CONTENDERS.flatMap((c) => rates[c].map((x) => x.wall / x.cpu)));
  const row = (name: string, c: Contender): string => `${name.padEnd(34)}${m(c, 'wall').toFixed(0).padStart(8)}          ${m(c, 'cpu').toFixed(0).padStart(8)}`;
  console.log(`corpus: ${n} public-good bundles (${items.filter((i) => i.artifactBytes).length} message signatures, ${items.filter((i) => !i.artifactBytes).length} DSSE); ${runs} interleaved rounds of ${seconds}s per contender, each on its own thread; medians`);
  console.log(`machine load: wall/CPU ${load.toFixed(2)} (1.00 = the running contender had a core to itself)`);
  console.log(`bundles/s                           per wall-clock s   per CPU s`);
  console.log(row('sigil verifySync (1 thread)', 'sigil'));
  console.log(row('@sigstore/verify 3.x (1 thread)', 'sigstore-js'));
  console.log(row('crypto ceiling (1 thread)', 'ceiling'));
  console.log(`sigil verifyMany, 1 worker:       ${pools[1]!.toFixed(0).padStart(8)}   (wall clock)`);
  if (pools[2] !== undefined) console.log(`sigil verifyMany, 2 workers:      ${pools[2].toFixed(0).padStart(8)}   (wall clock)`);
  if (pools[2] !== undefined) {
    console.log(`ratio verifyMany(2 workers)/verifySync(1 thread): ${(pools[2] / m('sigil', 'wall')).toFixed(2)}`);
    console.log(`ratio verifyMany(2 workers)/verifyMany(1 worker): ${(pools[2] / pools[1]!).toFixed(2)}`);
  }
  console.log(`ratio sigil/sigstore-js (wall clock): ${perRound('sigil', 'sigstore-js', 'wall').toFixed(2)}`);
  console.log(`ratio sigil/ceiling (wall clock): ${perRound('sigil', 'ceiling', 'wall').toFixed(2)}`);
  console.log(`ratio sigil/sigstore-js: ${perRound('sigil', 'sigstore-js', 'cpu').toFixed(2)}`);
  console.log(`ratio sigil/ceiling: ${perRound('sigil', 'ceiling', 'cpu').toFixed(2)}`);
  // Last line, the issue-2 goal figure (>= 1.8): verifyMany with one worker per core against the
  // single-thread verifySync rate of this same run (wall clock both).
  const widest = pools[2] ?? pools[1]!;
  console.log(`ratio verifyMany/single-thread: ${(widest / m('sigil', 'wall')).toFixed(2)}`);
}
