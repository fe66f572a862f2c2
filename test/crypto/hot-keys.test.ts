import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, createHash, generateKeyPairSync, randomBytes, sign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { nativePrehash, type NativePrehash } from '../../src/crypto/prehash-native.js';
import { HotKeys, hotKeys } from '../../src/crypto/hot-keys.js';
import { verifyPrehashed } from '../../src/crypto/prehash.js';
import { verifyMessage } from '../../src/services/log/kinds/prepared.js';
import { REPO_ROOT } from '../helpers/paths.js';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254fn + 2n; // P-256 order
const built = existsSync(join(REPO_ROOT, 'native/prehash/build/Release/sigil_prehash.node'));

function native(): NativePrehash {
  assert.ok(nativePrehash, 'the native addon is built (npm ci builds it) and loads');
  return nativePrehash;
}

function pointOf(pub: KeyObject): Buffer {
  const jwk = pub.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
}

function derInt(v: Buffer): Buffer {
  return Buffer.concat([Buffer.from([2, v.length]), v]);
}

function minimal(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return b;
}

function seq(...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(body.length < 128 ? [0x30, body.length] : [0x30, 0x81, body.length]), body]);
}

function rs(sig: Buffer): { r: bigint; s: bigint } {
  const rl = sig[3]!;
  const r = BigInt('0x' + sig.subarray(4, 4 + rl).toString('hex'));
  const s = BigInt('0x' + sig.subarray(6 + rl).toString('hex'));
  return { r, s };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('native hot-key verification gives ECDSA_verify\'s answer for valid, tampered and malformed signatures', { skip: !built }, async () => {
  const m = native();
  assert.ok(['ord-asm', 'bn'].includes(m.hotInverse()));
  assert.ok(['direct', 'openssl'].includes(m.hotComb()));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const point = pointOf(publicKey);
  const key = m.newKey(0, point)!;
  const table = await m.precomputeP256(point);
  assert.ok(table, 'a table is built for a P-256 point');
  const same = (digest: Buffer, sig: Buffer, label: string): boolean => {
    const want = m.verify(key, digest, sig);
    assert.equal(m.verifyHot(table, digest, sig), want, `${label}: ${sig.toString('hex')} over ${digest.toString('hex')}`);
    return want;
  };

  let valid = 0;
  for (let i = 0; i < 400; i++) {
    const msg = randomBytes(40);
    const alg = (['sha256', 'sha384', 'sha512'] as const)[i % 3]!;
    const digest = createHash(alg).update(msg).digest();
    const sig = sign(alg, msg, privateKey);
    // sha384/sha512 digests are truncated to P-256's 256 bits, as OpenSSL does.
    if (same(digest, sig, `valid ${alg}`)) valid++;
    const bad = Buffer.from(sig);
    bad[i % bad.length]! ^= 1 << (i % 8);
    same(digest, bad, 'one bit of the signature flipped');
    const wrong = Buffer.from(digest);
    wrong[i % 32]! ^= 0x80; // within the 256 bits P-256 uses
    assert.equal(same(wrong, sig, 'digest changed'), false);
    if (i < 40) same(digest.subarray(0, 1 + (i % 32)), sig, 'short digest');
  }
  assert.equal(valid, 400);

  const msg = Buffer.from('structured cases');
  const digest = createHash('sha256').update(msg).digest();
  const sig = sign('sha256', msg, privateKey);
  const { r, s } = rs(sig);
  const cases: [string, Buffer][] = [
    ['high S (n - s) is valid ECDSA', seq(derInt(minimal(r)), derInt(minimal(N - s)))],
    ['r = 0', seq(derInt(minimal(0n)), derInt(minimal(s)))],
    ['s = 0', seq(derInt(minimal(r)), derInt(minimal(0n)))],
    ['r = n', seq(derInt(minimal(N)), derInt(minimal(s)))],
    ['s = n', seq(derInt(minimal(r)), derInt(minimal(N)))],
    ['r + n', seq(derInt(minimal(r + N)), derInt(minimal(s)))],
    ['r padded with a needless zero', seq(derInt(Buffer.concat([Buffer.from([0]), minimal(r)])), derInt(minimal(s)))],
    ['negative r', seq(derInt(Buffer.concat([Buffer.from([0xff]), minimal(r)])), derInt(minimal(s)))],
    ['empty r', seq(derInt(Buffer.alloc(0)), derInt(minimal(s)))],
    ['r of 33 bytes without its zero', seq(derInt(Buffer.from('ff'.repeat(33), 'hex')), derInt(minimal(s)))],
    ['long-form sequence length', Buffer.concat([Buffer.from([0x30, 0x81, sig.length - 2]), sig.subarray(2)])],
    ['indefinite length', Buffer.concat([Buffer.from([0x30, 0x80]), sig.subarray(2), Buffer.from([0, 0])])],
    ['trailing byte', Buffer.concat([sig, Buffer.from([0])])],
    ['trailing byte inside the sequence', seq(derInt(minimal(r)), derInt(minimal(s)), Buffer.from([5, 0]))],
    ['SET instead of SEQUENCE', Buffer.concat([Buffer.from([0x31]), sig.subarray(1)])],
    ['BIT STRING instead of INTEGER', seq(Buffer.concat([Buffer.from([3, minimal(r).length]), minimal(r)]), derInt(minimal(s)))],
    ['one integer only', seq(derInt(minimal(r)))],
    ['sequence length one too long', Buffer.concat([Buffer.from([0x30, sig[1]! + 1]), sig.subarray(2)])],
    ['truncated', sig.subarray(0, sig.length - 1)],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [label, bytes] of cases) same(digest, bytes, label);
  assert.equal(same(digest, cases[0]![1], 'high S'), true);
  // A digest at or above n (all ones) is reduced, as OpenSSL reduces it.
  const ones = Buffer.alloc(32, 0xff);
  const { privateKey: k2, publicKey: p2 } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const t2 = await m.precomputeP256(pointOf(p2));
  const h2 = m.newKey(0, pointOf(p2))!;
  // crypto.sign hashes; sign a message whose digest we cannot choose, so check consistency instead.
  assert.equal(m.verifyHot(t2!, ones, sign('sha256', ones, k2)), m.verify(h2, ones, sign('sha256', ones, k2)));
  assert.equal(m.verifyHot(table, digest, sig), true);
  assert.equal(m.verifyHot(t2!, digest, sig), false, 'another key\'s table does not verify this signature');
  assert.equal(await m.precomputeP256(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)])), null, 'off-curve point: no table');
  assert.throws(() => m.precomputeP256(Buffer.alloc(33)), /65-byte/);
});

test('hot keys: promotion after N uses, one build at a time, least recently used dropped, failures never retried', { skip: !built }, async () => {
  const hk = new HotKeys({ after: 3, budget: 1, maxTables: 2 });
  const keys = Array.from({ length: 3 }, () => hk.track(pointOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey))!);
  const [a, b, c] = keys as [NonNullable<(typeof keys)[0]>, NonNullable<(typeof keys)[0]>, NonNullable<(typeof keys)[0]>];
  assert.equal(hk.use(a), undefined);
  assert.equal(hk.use(a), undefined);
  assert.equal(hk.use(a), undefined, 'the third use starts the build and still verifies the slow way');
  assert.equal(a.build, 'building');
  for (let i = 0; i < 3; i++) hk.use(b);
  assert.equal(b.build, 'idle', 'one build at a time: b waits for a');
  await until(() => a.table !== undefined, 'a\'s table');
  assert.ok(hk.use(a), 'a verifies with its table');
  hk.use(b);
  assert.equal(b.build, 'building', 'b is built on its next use');
  await until(() => b.table !== undefined, 'b\'s table');
  hk.use(a); // a used more recently than b
  for (let i = 0; i < 3; i++) hk.use(c);
  await until(() => c.table !== undefined, 'c\'s table');
  assert.equal(hk.size, 2);
  assert.equal(b.table, undefined, 'the least recently used table (b) was dropped');
  assert.ok(a.table);
  assert.deepEqual({ built: hk.stats.built, dropped: hk.stats.dropped }, { built: 3, dropped: 1 });

  const off = hk.track(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 9)]))!;
  for (let i = 0; i < 3; i++) hk.use(off);
  await until(() => off.build === 'failed', 'the failed build');
  for (let i = 0; i < 10; i++) hk.use(off);
  assert.equal(off.build, 'failed');
  assert.equal(hk.stats.failed, 1, 'a failed key is not built again');
});

test('hot keys: builds stay within the time budget', { skip: !built }, async () => {
  // Budget 0: the first build is free, every later one would exceed 0 % of the elapsed time.
  const hk = new HotKeys({ after: 1, budget: 0, maxTables: 8 });
  const a = hk.track(pointOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey))!;
  const b = hk.track(pointOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey))!;
  hk.use(a);
  await until(() => a.table !== undefined, 'the first table');
  for (let i = 0; i < 50; i++) hk.use(b);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(b.build, 'idle');
  assert.equal(b.table, undefined);
  assert.equal(hk.stats.built, 1);
});

test('verifyPrehashed promotes a busy P-256 key and keeps giving the same answers', { skip: !built }, async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const before = hotKeys.stats.built;
  const msgs = Array.from({ length: 8 }, (_, i) => Buffer.from(`message ${i}`));
  const sigs = msgs.map((m) => sign('sha256', m, privateKey));
  const digests = msgs.map((m) => createHash('sha256').update(m).digest());
  for (let i = 0; i < hotKeys.policy.after; i++) assert.equal(verifyPrehashed(publicKey, 'sha256', digests[i % 8]!, sigs[i % 8]!), true);
  await until(() => hotKeys.stats.built > before, 'the process-wide table');
  for (let i = 0; i < 8; i++) {
    assert.equal(verifyPrehashed(publicKey, 'sha256', digests[i]!, sigs[i]!), true);
    assert.equal(verifyPrehashed(publicKey, 'sha256', digests[(i + 1) % 8]!, sigs[i]!), false);
    const p1363 = sign('sha256', msgs[i]!, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    assert.equal(verifyPrehashed(publicKey, 'sha256', digests[i]!, p1363, { dsaEncoding: 'ieee-p1363' }), true);
  }
});

for (const [name, env, engines] of [
  ['the BN_mod_inverse fallback', 'SIGIL_NATIVE_NO_ORD_ASM', { inverse: 'bn', comb: 'direct' }],
  ['the EC_POINT_mul fallback', 'SIGIL_NATIVE_NO_COMB', { inverse: 'ord-asm', comb: 'openssl' }],
] as const) {
  test(`${name} of hot-key verification gives the same answers`, { skip: !built }, () => {
    // The engines are chosen once per thread or process, so the fallback runs in a child process.
    const script = `
      import { nativePrehash as m } from './src/crypto/prehash-native.ts';
      import { generateKeyPairSync, sign, createHash } from 'node:crypto';
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = publicKey.export({ format: 'jwk' });
      const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
      const t = await m.precomputeP256(point);
      let ok = 0, bad = 0;
      for (let i = 0; i < 50; i++) {
        const msg = Buffer.from('m' + i), d = createHash('sha256').update(msg).digest(), sig = sign('sha256', msg, privateKey);
        ok += m.verifyHot(t, d, sig); d[0] ^= 1; bad += m.verifyHot(t, d, sig);
      }
      console.log(JSON.stringify({ inverse: m.hotInverse(), comb: m.hotComb(), ok, bad }));`;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, [env]: '1' },
      encoding: 'utf8',
    });
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), { ...engines, ok: 50, bad: 0 });
  });
}

/** x(k*G) for 1 <= k < n, from node's own P-256 (an ECDH key's public point). */
function xOfMultiple(k: bigint): bigint {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(k.toString(16).padStart(64, '0'), 'hex'));
  return BigInt('0x' + ecdh.getPublicKey().subarray(1, 33).toString('hex'));
}

const mod = (a: bigint): bigint => ((a % N) + N) % N;
const inv = (a: bigint): bigint => {
  // a^(n-2) mod n
  let r = 1n, b = mod(a), e = N - 2n;
  for (; e > 0n; e >>= 1n, b = (b * b) % N) if (e & 1n) r = (r * b) % N;
  return r;
};

test('hot-key verification handles the scalars at the edges of its comb', { skip: !built }, async () => {
  const m = native();
  // A signature for which the verifier computes exactly u1 = e/s and u2 = r/s: with private key
  // d, R = (u1 + u2*d)*G, r = x(R) mod n, s = r/u2 and e = u1*s.
  const d = mod(BigInt('0x' + randomBytes(32).toString('hex'))) || 1n;
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(d.toString(16).padStart(64, '0'), 'hex'));
  const point = ecdh.getPublicKey();
  const key = m.newKey(0, point)!;
  const table = await m.precomputeP256(point);
  assert.ok(table);
  const be32 = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
  const check = (u1: bigint, u2: bigint, label: string, r0 = 0n): boolean => {
    const k = mod(u1 + u2 * d);
    const r = k === 0n ? r0 : mod(xOfMultiple(k));
    const s = mod(r * inv(u2));
    const sig = seq(derInt(minimal(r)), derInt(minimal(s)));
    const digest = be32(mod(u1 * s));
    const want = m.verify(key, digest, sig);
    assert.equal(m.verifyHot(table, digest, sig), want, `${label} (u1 ${u1.toString(16)}, u2 ${u2.toString(16)})`);
    return want;
  };
  const edges = [1n, 2n, 63n, 64n, 65n, 127n, 128n, N - 1n, N - 2n, 2n ** 252n + 1n, 2n ** 253n, 2n ** 255n, 15n * 2n ** 252n, BigInt('0x' + '40'.repeat(32)) % N, BigInt('0x' + '7f'.repeat(32)) % N];
  const r = (): bigint => mod(BigInt('0x' + randomBytes(32).toString('hex'))) || 1n;
  for (const u of edges) {
    assert.equal(check(u, r(), 'u1 at an edge'), true);
    assert.equal(check(r(), u, 'u2 at an edge'), true);
  }
  assert.equal(check(0n, r(), 'u1 = 0 (a zero digest): R = u2*Q'), true);
  // u1*G = u2*Q: the final addition is a doubling.
  const u2 = r();
  assert.equal(check(mod(u2 * d), u2, 'u1*G = u2*Q'), true);
  // u1*G = -u2*Q: R is the point at infinity, never valid whatever r says.
  assert.equal(check(mod(-u2 * d), u2, 'u1*G = -u2*Q', 12345n), false);
});

test('DSSE-style message verification of P-256 keys goes through the hot path and answers as crypto.verify', { skip: !built }, async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const before = hotKeys.stats.built;
  const check = (i: number): void => {
    const alg = i % 2 ? 'sha384' : 'sha256';
    const msg = Buffer.from(`DSSEv1 28 application/vnd.in-toto+json ${i} {}`);
    const sig = sign(alg, msg, privateKey);
    const bad = Buffer.from(sig);
    bad[8 + (i % 20)]! ^= 4;
    for (const [m, s] of [[msg, sig], [msg, bad], [Buffer.concat([msg, Buffer.from('x')]), sig], [msg, sig.subarray(1)]] as const) {
      assert.equal(verifyMessage(publicKey, alg, m, s), cryptoVerify(alg, m, publicKey, s));
    }
  };
  for (let i = 0; i < hotKeys.policy.after / 2; i++) check(i);
  await until(() => hotKeys.stats.built > before, 'the table of the envelope key');
  for (let i = 0; i < 40; i++) check(i);
});
