/**
 * verifyMany / VerifyPool: a batch of real corpus bundles (valid and invalid mixed) verified on
 * worker threads gives, in job order, the same verdicts and codes as verifySync on the main
 * thread; trust material, key rings and KeyObject policies cross the thread boundary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SigilError } from '../../src/core/errors.js';
import { VerifyPool, verifyMany, type VerifyJob } from '../../src/verify/many.js';
import { verifySync } from '../../src/verify/verify.js';
import type { TrustMaterial } from '../../src/verify/types.js';
import { loadCases, prepareCase, type PreparedCase } from './corpus-cases.js';

function groups(): Map<TrustMaterial, PreparedCase[]> {
  const out = new Map<TrustMaterial, PreparedCase[]>();
  const byRoot = new Map<unknown, TrustMaterial>();
  for (const c of loadCases()) {
    const p = prepareCase(c);
    if ('setupError' in p) continue;
    // One TrustMaterial per (root, key ring) so jobs sharing it can share a pool.
    const k = `${c.trustedRoot}|${c.keys ?? ''}`;
    let t = byRoot.get(k);
    if (!t) byRoot.set(k, (t = p.trust));
    const list = out.get(t) ?? [];
    list.push(p);
    out.set(t, list);
  }
  return out;
}

function verdict(p: PreparedCase): string {
  try {
    verifySync(p.bundleText, p.artifact, p.policy, p.trust);
    return 'ok';
  } catch (e) {
    return e instanceof SigilError ? e.code : `crash: ${String(e)}`;
  }
}

test('verifyMany on 2 threads agrees with verifySync on the corpus cases of the public-good root (with and without the npm key ring), in order', async () => {
  let total = 0;
  // The two big groups; each pool start costs a TypeScript compile per thread under tsx.
  const big = [...groups()].sort((a, b) => b[1].length - a[1].length).slice(0, 2);
  for (const [trust, cases] of big) {
    const jobs: VerifyJob[] = cases.map((p) => ({ bundle: p.bundleText, artifact: p.artifact, policy: p.policy }));
    const out = await verifyMany(jobs, trust, { threads: 2 });
    assert.equal(out.length, jobs.length);
    out.forEach((o, i) => {
      const want = verdict(cases[i]!);
      const got = o.ok ? 'ok' : o.error.code;
      assert.equal(got, want, cases[i]!.c.id);
      if (!o.ok) assert.ok(o.error instanceof SigilError);
    });
    total += jobs.length;
  }
  assert.ok(total > 80, `${total} jobs`);
});

test('a VerifyPool is reused across batches and reports bad input as outcomes, not exceptions', async () => {
  const group = [...groups()].find(([, cs]) => cs.length > 20);
  assert.ok(group);
  const [trust, cases] = group;
  const pool = new VerifyPool(trust, 2);
  try {
    await pool.started();
    const jobs: VerifyJob[] = cases.slice(0, 10).map((p) => ({ bundle: p.bundleText, artifact: p.artifact, policy: p.policy }));
    const a = await pool.run(jobs);
    const b = await pool.run([...jobs, { bundle: '{not json', artifact: { bytes: Buffer.from('x') }, policy: {} }]);
    assert.deepEqual(a.map((o) => o.ok), b.slice(0, 10).map((o) => o.ok));
    const last = b[10]!;
    assert.equal(last.ok, false);
    if (!last.ok) assert.equal(last.error.code, 'JSON_MALFORMED');
    assert.deepEqual(await pool.run([]), []);
  } finally {
    await pool.close();
  }
});
