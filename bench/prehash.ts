/**
 * Signature verification over a precomputed digest (src/crypto/prehash.ts) against the baseline
 * node:crypto `crypto.verify` over the 32-byte message (which hashes inside), same keys, same
 * process. Cases: ECDSA P-256 and P-384 with a cached KeyObject (native addon and BigInt
 * fallback), P-256 from SPKI bytes without a KeyObject (the transparency-log case: a new key per
 * entry), P-256 keys once they are hot (a fixed-base table per key, src/crypto/hot-keys.ts),
 * RSA-2048 PKCS#1 v1.5 and PSS.
 *
 * npm run bench -- prehash [seconds-per-case]
 */
import { constants, createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { verifyPrehashed, verifyPrehashedSpki, prehashEngine } from '../src/crypto/prehash.js';
import { hotKeys } from '../src/crypto/hot-keys.js';
import { nativePrehash } from '../src/crypto/prehash-native.js';
import { CURVES_BY_NODE_NAME, parsePoint, verifyDigestDer, type AffinePoint, type Curve } from '../src/crypto/ecdsa-js.js';

interface Sample {
  pub: KeyObject;
  spki: Buffer;
  msg: Buffer;
  digest: Buffer;
  sig: Buffer;
  curve?: Curve;
  Q?: AffinePoint;
}

function samples(kind: 'P-256' | 'P-384' | 'rsa' | 'rsa-pss', count: number): Sample[] {
  const out: Sample[] = [];
  const alg = kind === 'P-384' ? 'sha384' : 'sha256';
  for (let i = 0; i < count; i++) {
    const { privateKey, publicKey } =
      kind === 'rsa' || kind === 'rsa-pss'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: kind });
    const msg = createHash('sha256').update(`message ${i}`).digest(); // 32-byte message, as in LIMITS.md
    const sig =
      kind === 'rsa-pss'
        ? sign(alg, msg, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
        : sign(alg, msg, privateKey);
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const s: Sample = { pub: publicKey, spki, msg, digest: createHash(alg).update(msg).digest(), sig };
    if (kind === 'P-256' || kind === 'P-384') {
      s.curve = CURVES_BY_NODE_NAME[kind === 'P-256' ? 'prime256v1' : 'secp384r1']!;
      s.Q = parsePoint(s.curve, spki.subarray(spki.length - 1 - 2 * s.curve.size))!;
    }
    out.push(s);
  }
  return out;
}

/** Runs fn over the samples round-robin for `seconds` (after a short warm-up) and returns ops/s. */
function measure(items: Sample[], fn: (s: Sample) => boolean, seconds: number): number {
  const run = (ms: number): [number, number] => {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ms) {
      for (let i = 0; i < 64; i++) {
        if (!fn(items[n % items.length]!)) throw new Error('verification failed in benchmark');
        n++;
      }
      t = performance.now();
    }
    return [n, t - t0];
  };
  run(Math.min(300, seconds * 300));
  const [n, ms] = run(seconds * 1000);
  return (n / ms) * 1000;
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(9);

function row(name: string, ops: number, base: number, baseName: string): void {
  console.log(`${name.padEnd(58)} ${fmt(ops)} ops/s   ratio to ${baseName}: ${(ops / base).toFixed(2)}`);
}

/** Uses every key until its table is built, then measures verification with the tables. */
async function measureHot(items: Sample[], seconds: number): Promise<{ ops: number; builtMs: number; tables: number }> {
  hotKeys.policy.after = 256;
  const t0 = performance.now();
  const before = hotKeys.stats.built;
  while (hotKeys.stats.built - before < items.length && performance.now() - t0 < 30_000) {
    for (const s of items) verifyPrehashed(s.pub, 'sha256', s.digest, s.sig);
    await new Promise((r) => setImmediate(r));
  }
  const builtMs = performance.now() - t0;
  return { ops: measure(items, (s) => verifyPrehashed(s.pub, 'sha256', s.digest, s.sig), seconds), builtMs, tables: hotKeys.stats.built - before };
}

export default async function main(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? 2);
  console.log(`prehash verification, ${seconds} s per case, engine for ECDSA: ${prehashEngine()} (Node ${process.version}, OpenSSL ${process.versions.openssl})\n`);

  for (const curve of ['P-256', 'P-384'] as const) {
    const items = samples(curve, 64);
    const alg = curve === 'P-256' ? 'sha256' : 'sha384';
    const base = measure(items, (s) => verify(alg, s.msg, s.pub, s.sig), seconds);
    row(`${curve} baseline crypto.verify(${alg}, 32 B msg, KeyObject)`, base, base, 'baseline');
    // Keys are promoted only after 256 uses: measure the ordinary path with promotion off.
    const after = hotKeys.policy.after;
    hotKeys.policy.after = Infinity;
    const pre = measure(items, (s) => verifyPrehashed(s.pub, alg, s.digest, s.sig), seconds);
    hotKeys.policy.after = after;
    row(`${curve} verifyPrehashed (${prehashEngine()}, cached KeyObject)`, pre, base, 'crypto.verify');
    if (curve === 'P-256' && nativePrehash) {
      const hot = await measureHot(items, seconds);
      row(`P-256 verifyPrehashed, hot keys (inverse: ${nativePrehash.hotInverse()})`, hot.ops, base, 'crypto.verify');
      console.log(`  (${hot.tables} of ${items.length} keys got a table, ${Math.round(hot.builtMs)} ms from the first use including 256 uses each)`);
    }
    const big = measure(items, (s) => verifyDigestDer(s.curve!, s.Q!, s.digest, s.sig), Math.min(seconds, 2));
    row(`${curve} BigInt fallback (ecdsa-js, parsed point)`, big, base, 'crypto.verify');
    // Cold keys: each verification starts from SPKI bytes (a log entry with an ephemeral key).
    const coldBase = measure(items, (s) => verify(alg, s.msg, createPublicKey({ key: s.spki, format: 'der', type: 'spki' }), s.sig), seconds);
    row(`${curve} cold baseline createPublicKey(spki) + crypto.verify`, coldBase, coldBase, 'cold baseline');
    const cold = measure(items, (s) => verifyPrehashedSpki(s.spki, alg, s.digest, s.sig), seconds);
    row(`${curve} cold verifyPrehashedSpki (${prehashEngine()})`, cold, coldBase, 'cold baseline');
    console.log('');
  }

  const rsa = samples('rsa', 16);
  const rsaBase = measure(rsa, (s) => verify('sha256', s.msg, s.pub, s.sig), seconds);
  row('RSA-2048 PKCS#1 v1.5 baseline crypto.verify(sha256)', rsaBase, rsaBase, 'baseline');
  row('RSA-2048 PKCS#1 v1.5 verifyPrehashed (publicDecrypt + DigestInfo)', measure(rsa, (s) => verifyPrehashed(s.pub, 'sha256', s.digest, s.sig), seconds), rsaBase, 'crypto.verify');
  const pss = samples('rsa-pss', 16);
  const pssBase = measure(pss, (s) => verify('sha256', s.msg, { key: s.pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, s.sig), seconds);
  row('RSA-2048 PSS baseline crypto.verify(sha256, salt 32)', pssBase, pssBase, 'baseline');
  row(
    'RSA-2048 PSS verifyPrehashed (raw RSA + EMSA-PSS-VERIFY)',
    measure(pss, (s) => verifyPrehashed(s.pub, 'sha256', s.digest, s.sig, { rsaPadding: 'pss' }), seconds),
    pssBase,
    'crypto.verify',
  );
}
