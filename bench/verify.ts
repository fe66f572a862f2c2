/**
 * `npm run bench -- verify [seconds]`: bundles verified per second over the real public-good
 * bundles of ../shared/corpus (every valid certificate case of cases.json with the public-good
 * trusted root: conformance happy paths, sigstore-js bundles, slsa-verifier/npm provenance), by
 *   - sigil `verifySync` on one thread,
 *   - `@sigstore/verify` 3.x (Verifier + toSignedEntity + bundleFromJSON) on one thread,
 *   - the crypto ceiling: only the raw node:crypto operations each bundle needs (one
 *     X509Certificate parse of the leaf, the leaf's signature check by its CA key — P-384 for
 *     public-good Fulcio —, the artifact/DSSE signature, the SET and the checkpoint signature),
 *   - sigil `VerifyPool` (verifyMany) with 1 and 2 worker threads, threads started before timing.
 * Trust material is decoded once; every bundle is parsed and verified in full on every iteration
 * (certificates are parsed without Certificate's DER cache). All in one process, same data.
 */
import { X509Certificate, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { bundleFromJSON as sjsBundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot as ProtoTrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { loadCases, prepareCase, type PreparedCase } from '../test/verify/corpus-cases.js';
import { corpusPath } from '../test/helpers/paths.js';
import { verifySync } from '../src/verify/verify.js';
import { VerifyPool, type VerifyJob } from '../src/verify/many.js';
import { parseBundle, certificateMaterial } from '../src/formats/bundle.js';
import { setPayload } from '../src/verify/set.js';
import { parseSignedNote } from '../src/formats/checkpoint.js';
import { keyHashAlgorithm } from '../src/crypto/keys.js';
import { envelopePae } from '../src/formats/dsse.js';
import type { ArtifactInput } from '../src/verify/types.js';

interface Item {
  p: PreparedCase;
  artifact: ArtifactInput;
  artifactBytes?: Buffer;
}

interface Rate {
  /** Items per wall-clock second. */
  wall: number;
  /** Items per second of this process's CPU time (user + system): robust when other processes share the cores. */
  cpu: number;
}

// A full GC before each timed slice, outside the timing: without it the garbage sigstore-js
// leaves behind is collected during whichever contender runs next and billed to it.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs `pass` (one pass over all items) until `seconds` have elapsed. */
function rate(items: number, seconds: number, pass: () => void): Rate {
  gc();
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  do {
    pass();
    n += items;
  } while (performance.now() < end);
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall: n / wall, cpu: n / ((c.user + c.system) / 1e6) };
}

async function asyncRate(items: number, seconds: number, pass: () => Promise<void>): Promise<number> {
  gc();
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) await pass();
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    await pass();
    n += items;
  }
  return n / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function main(args: string[]): Promise<void> {
  // Many short interleaved rounds: other processes on this 2-core machine load it unevenly, and
  // a round runs the three contenders back to back, so a per-round ratio compares like with like.
  const seconds = Number(args[0] ?? 0.6);
  const runs = Number(args[1] ?? 15);
  const publicGood = 'trusted-roots/public-good/trusted_root.json';
  const items: Item[] = [];
  for (const c of loadCases()) {
    if (c.expected !== 'valid' || c.trustedRoot !== publicGood || c.identity === undefined) continue;
    const p = prepareCase(c);
    if ('setupError' in p) continue;
    // Artifacts as bytes in memory for both verifiers: the benchmark measures verification, not file reads.
    if ('path' in p.artifact) {
      const bytes = readFileSync(p.artifact.path);
      items.push({ p, artifact: { bytes }, artifactBytes: bytes });
    } else {
      items.push({ p, artifact: p.artifact });
    }
  }
  const trust = items[0]!.p.trust;
  const rootJson: unknown = JSON.parse(readFileSync(corpusPath(publicGood), 'utf8'));

  // sigstore-js, set up as its own clients do: trust material once, bundle parsed per verification.
  const sjsVerifier = new Verifier(toTrustMaterial(ProtoTrustedRoot.fromJSON(rootJson)));
  const sjsOne = (it: Item): void => {
    const b = sjsBundleFromJSON(JSON.parse(it.p.bundleText));
    const entity = toSignedEntity(b, it.artifactBytes);
    sjsVerifier.verify(entity, { subjectAlternativeName: it.p.c.identity!, extensions: { issuer: it.p.c.issuer! } });
  };
  const sigilOne = (it: Item): void => {
    verifySync(it.p.bundleText, it.artifact, it.p.policy, trust);
  };
  // Every bundle must verify with both before anything is timed.
  for (const it of items) {
    sigilOne(it);
    sjsOne(it);
  }

  // The crypto ceiling: the raw operations per bundle, inputs prepared outside the timing.
  const caKeys = trust.root.certificateAuthorities.map((ca) => createPublicKey({ key: ca.certChain[0]!.spki, format: 'der', type: 'spki' }));
  type Op = () => boolean;
  const ops: Op[] = [];
  for (const it of items) {
    const pb = parseBundle(it.p.bundleText);
    const certs = certificateMaterial(pb.bundle)!;
    const leafX = new X509Certificate(certs.leaf);
    const issuerKey = caKeys.find((k) => leafX.verify(k));
    if (!issuerKey) throw new Error(`${it.p.c.id}: no CA key verifies the leaf`);
    const leafKey = leafX.publicKey;
    const content = pb.bundle.content;
    const [data, sig] =
      content.$case === 'messageSignature' ? [it.artifactBytes!, content.messageSignature.signature] : [envelopePae(content.dsseEnvelope), content.dsseEnvelope.signatures[0]!.sig];
    const hash = keyHashAlgorithm(leafKey);
    const logOps: [Buffer, KeyObject, Buffer][] = [];
    for (const e of pb.bundle.verificationMaterial.tlogEntries) {
      const log = trust.root.tlogsFor(e.logId!.keyId)[0]!;
      if (e.inclusionPromise) logOps.push([setPayload(e), log.publicKey, e.inclusionPromise.signedEntryTimestamp]);
      if (e.inclusionProof?.checkpoint) {
        const note = parseSignedNote(e.inclusionProof.checkpoint.envelope);
        const s = note.signatures.find((x) => x.keyHint.equals(e.logId!.keyId.subarray(0, 4)))!;
        logOps.push([Buffer.from(note.body, 'utf8'), log.publicKey, s.signature]);
      }
    }
    ops.push(() => {
      const x = new X509Certificate(certs.leaf);
      let ok = x.verify(issuerKey);
      ok = cryptoVerify(hash, data, leafKey, sig) && ok;
      for (const [d, k, s] of logOps) ok = cryptoVerify('sha256', d, k, s) && ok;
      return ok;
    });
  }
  for (const op of ops) if (!op()) throw new Error('ceiling op failed');

  // Rounds interleave the three so that load from other processes hits all of them alike; ratios
  // are taken per round and their median reported.
  const n = items.length;
  const sigil: Rate[] = [];
  const sjs: Rate[] = [];
  const ceiling: Rate[] = [];
  for (let w = 0; w < 3; w++) {
    items.forEach(sigilOne);
    items.forEach(sjsOne);
    ops.forEach((op) => op());
  }
  for (let r = 0; r < runs; r++) {
    sigil.push(rate(n, seconds, () => items.forEach(sigilOne)));
    sjs.push(rate(n, seconds, () => items.forEach(sjsOne)));
    ceiling.push(rate(n, seconds, () => ops.forEach((op) => op())));
  }
  const perRound = (a: Rate[], b: Rate[], k: keyof Rate): number => median(a.map((x, i) => x[k] / b[i]![k]));

  // verifyMany: a batch of 8 passes over the corpus per call, pools started before timing.
  const batch: VerifyJob[] = [];
  for (let i = 0; i < 8; i++) for (const it of items) batch.push({ bundle: it.p.bundleText, artifact: it.artifact, policy: it.p.policy });
  const pools: Record<number, number> = {};
  for (const threads of [1, 2]) {
    const pool = new VerifyPool(trust, threads);
    await pool.started();
    const outcome = await pool.run(batch);
    if (!outcome.every((o) => o.ok)) throw new Error('verifyMany rejected a corpus bundle');
    const xs: number[] = [];
    for (let r = 0; r < 5; r++) xs.push(await asyncRate(batch.length, 2, async () => void (await pool.run(batch))));
    pools[threads] = median(xs);
    await pool.close();
  }

  const m = (xs: Rate[], k: keyof Rate): string => median(xs.map((x) => x[k])).toFixed(0);
  const s = median(sigil.map((x) => x.wall));
  const tw = sigil.reduce((t, x, i) => t + x.wall + sjs[i]!.wall + ceiling[i]!.wall, 0);
  const tc = sigil.reduce((t, x, i) => t + x.cpu + sjs[i]!.cpu + ceiling[i]!.cpu, 0);
  console.log(`corpus: ${n} public-good bundles (${items.filter((i) => i.artifactBytes).length} message signatures, ${items.filter((i) => !i.artifactBytes).length} DSSE), ${runs} interleaved rounds of ${seconds}s each, medians`);
  console.log(`machine load during the rounds: wall/CPU rate ${(tw / tc).toFixed(2)} (1.00 = this process had a core to itself)`);
  console.log(`                                  per wall-clock s   per CPU s`);
  console.log(`sigil verifySync (1 thread):      ${m(sigil, 'wall').padStart(8)}          ${m(sigil, 'cpu').padStart(8)}   bundles`);
  console.log(`@sigstore/verify 3.x (1 thread):  ${m(sjs, 'wall').padStart(8)}          ${m(sjs, 'cpu').padStart(8)}   bundles`);
  console.log(`crypto ceiling (1 thread):        ${m(ceiling, 'wall').padStart(8)}          ${m(ceiling, 'cpu').padStart(8)}   bundles`);
  console.log(`sigil verifyMany, 1 worker:       ${pools[1]!.toFixed(0).padStart(8)}   bundles/s (wall clock)`);
  console.log(`sigil verifyMany, 2 workers:      ${pools[2]!.toFixed(0).padStart(8)}   bundles/s (wall clock)`);
  console.log(`ratio verifyMany(2 workers)/verifySync(1 thread, wall): ${(pools[2]! / s).toFixed(2)}`);
  console.log(`ratio verifyMany(2 workers)/verifyMany(1 worker): ${(pools[2]! / pools[1]!).toFixed(2)}`);
  console.log(`ratio sigil/sigstore-js (wall clock): ${perRound(sigil, sjs, 'wall').toFixed(2)}`);
  console.log(`ratio sigil/ceiling (wall clock): ${perRound(sigil, ceiling, 'wall').toFixed(2)}`);
  console.log(`ratio sigil/sigstore-js: ${perRound(sigil, sjs, 'cpu').toFixed(2)}`);
  console.log(`ratio sigil/ceiling: ${perRound(sigil, ceiling, 'cpu').toFixed(2)}`);
}
