import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { SigilError } from '../../src/core/errors.js';
import type { DigestAlgorithm } from '../../src/core/digest.js';
import { ecPublicKeyFromSpki, prehashEngine, verifyPrehashed, verifyPrehashedSpki, p1363ToDer } from '../../src/crypto/prehash.js';
import {
  CURVES_BY_NODE_NAME,
  modInverse,
  onCurve,
  P256,
  P384,
  P521,
  parseDerSignature,
  parsePoint,
  verifyDigestDer,
  type AffinePoint,
  type Curve,
} from '../../src/crypto/ecdsa-js.js';
import { REPO_ROOT } from '../helpers/paths.js';

const ALGS: DigestAlgorithm[] = ['sha256', 'sha384', 'sha512'];
const CURVE_NAMES = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' } as const;

function point(pub: KeyObject, c: Curve): AffinePoint {
  const jwk = pub.export({ format: 'jwk' });
  const Q = parsePoint(c, Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]));
  assert.ok(Q);
  return Q;
}

/** Both engines must give the answer crypto.verify gives over the message. */
function agree(pub: KeyObject, c: Curve, alg: DigestAlgorithm, msg: Buffer, sig: Buffer, label: string): boolean {
  const want = verify(alg, msg, pub, sig);
  const digest = createHash(alg).update(msg).digest();
  assert.equal(verifyPrehashed(pub, alg, digest, sig), want, `${label}: verifyPrehashed (${prehashEngine()})`);
  assert.equal(verifyDigestDer(c, point(pub, c), digest, sig), want, `${label}: BigInt`);
  const spki = pub.export({ type: 'spki', format: 'der' });
  assert.equal(verifyPrehashedSpki(spki, alg, digest, sig), want, `${label}: from SPKI`);
  assert.equal(verifyPrehashed(ecPublicKeyFromSpki(spki)!, alg, digest, sig), want, `${label}: EcPublicKey`);
  return want;
}

function der(r: bigint, s: bigint): Buffer {
  const int = (v: bigint) => {
    let hex = v.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    let b = Buffer.from(hex, 'hex');
    if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([2, b.length]), b]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from(body.length < 128 ? [0x30, body.length] : [0x30, 0x81, body.length]), body]);
}

test('curve constants: G equals OpenSSL base point (key with d = 1), on the curve', () => {
  for (const [name, nodeName] of Object.entries(CURVE_NAMES)) {
    const c = CURVES_BY_NODE_NAME[nodeName]!;
    assert.equal(c.name, name);
    const size = c.size;
    const d = Buffer.alloc(size);
    d[size - 1] = 1;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: name });
    const jwk = privateKey.export({ format: 'jwk' });
    const g = createPublicKey({
      key: { kty: 'EC', crv: jwk.crv!, x: Buffer.from(c.gx.toString(16).padStart(size * 2, '0'), 'hex').toString('base64url'), y: Buffer.from(c.gy.toString(16).padStart(size * 2, '0'), 'hex').toString('base64url') },
      format: 'jwk',
    });
    assert.ok(onCurve(c, { x: c.gx, y: c.gy }));
    // A signature made with d = 1 verifies under G: proves G (and n via the ECDSA equation) match OpenSSL.
    const priv1 = (() => {
      const k = generateKeyPairSync('ec', { namedCurve: name }).privateKey.export({ format: 'jwk' });
      return { ...k, d: d.toString('base64url'), x: g.export({ format: 'jwk' }).x!, y: g.export({ format: 'jwk' }).y! };
    })();
    const msg = Buffer.from('d=1');
    const sig = sign('sha256', msg, { key: priv1, format: 'jwk' });
    assert.ok(verify('sha256', msg, g, sig));
    assert.ok(verifyDigestDer(c, { x: c.gx, y: c.gy }, createHash('sha256').update(msg).digest(), sig), name);
  }
  assert.equal(modInverse(3n, 7n), 5n);
  assert.throws(() => modInverse(0n, P256.n));
});

test('ECDSA over a digest: random keys, digests and every curve × hash pair agree with crypto.verify', () => {
  for (const [name, nodeName] of Object.entries(CURVE_NAMES)) {
    const c = CURVES_BY_NODE_NAME[nodeName]!;
    const rounds = name === 'P-256' ? 40 : 8;
    for (let i = 0; i < rounds; i++) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: name });
      for (const alg of ALGS) {
        const msg = randomBytes(1 + (i % 50));
        const sig = sign(alg, msg, privateKey);
        assert.ok(agree(publicKey, c, alg, msg, sig, `${name}/${alg} valid`));
        assert.ok(!agree(publicKey, c, alg, Buffer.concat([msg, Buffer.from('x')]), sig, `${name}/${alg} other message`));
        const other = generateKeyPairSync('ec', { namedCurve: name }).publicKey;
        assert.ok(!agree(other, c, alg, msg, sig, `${name}/${alg} other key`));
      }
    }
  }
});

test('ECDSA: high-S is valid ECDSA (accepted, as by OpenSSL); zero, ≥ n, flipped and malformed DER are rejected', () => {
  for (const [name, nodeName] of Object.entries(CURVE_NAMES)) {
    const c = CURVES_BY_NODE_NAME[nodeName]!;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: name });
    const msg = Buffer.from(`high-s ${name}`);
    const sig = sign('sha256', msg, privateKey);
    const { r, s } = parseDerSignature(sig)!;
    assert.ok(agree(publicKey, c, 'sha256', msg, der(r, c.n - s), `${name} high-S`), 'the other S verifies');
    const bad: [string, Buffer][] = [
      ['r = 0', der(0n, s)],
      ['s = 0', der(r, 0n)],
      ['r = n', der(c.n, s)],
      ['s = n', der(r, c.n)],
      ['r + n', der(r + c.n, s)],
      ['s + n', der(r, s + c.n)],
      ['r = 1, s = 1', der(1n, 1n)],
      ['trailing byte', Buffer.concat([sig, Buffer.from([0])])],
      ['truncated', sig.subarray(0, sig.length - 1)],
      ['empty', Buffer.alloc(0)],
      ['wrong outer tag', Buffer.concat([Buffer.from([0x31]), sig.subarray(1)])],
      ['bit flip in s', (() => { const b = Buffer.from(sig); b[b.length - 1]! ^= 1; return b; })()],
      ['garbage', randomBytes(sig.length)],
      ['P1363 instead of DER', Buffer.concat([Buffer.from(r.toString(16).padStart(c.size * 2, '0'), 'hex'), Buffer.from(s.toString(16).padStart(c.size * 2, '0'), 'hex')])],
    ];
    // Non-minimal / negative encodings of the same (r, s): OpenSSL re-encodes and rejects them.
    const rHex = r.toString(16).padStart(r.toString(16).length + (r.toString(16).length % 2), '0');
    const rb = Buffer.from(rHex, 'hex');
    const sEnc = der(1n, s).subarray(5); // the INTEGER s as encoded after "02 01 01"
    const padR = Buffer.concat([Buffer.from([2, rb.length + 2, 0, 0]), rb]);
    const seqBody = Buffer.concat([padR, sEnc]);
    bad.push(['zero-padded r', Buffer.concat([Buffer.from(seqBody.length < 128 ? [0x30, seqBody.length] : [0x30, 0x81, seqBody.length]), seqBody])]);
    if (sig.length - 2 < 128 && sig[1]! < 128) bad.push(['long-form length for a short body', Buffer.concat([Buffer.from([0x30, 0x81, sig[1]!]), sig.subarray(2)])]);
    const negR = Buffer.concat([Buffer.from([2, rb.length]), rb]);
    if (rb[0]! & 0x80) {
      const body = Buffer.concat([negR, sEnc]);
      bad.push(['negative r (no 00 pad)', Buffer.concat([Buffer.from(body.length < 128 ? [0x30, body.length] : [0x30, 0x81, body.length]), body])]);
    }
    for (const [label, b] of bad) assert.equal(agree(publicKey, c, 'sha256', msg, b, `${name} ${label}`), false, `${name} ${label}`);
  }
});

// ---- x(R) ≥ n: the r + n branch of the final comparison, built with the key-recovery trick ----
// Pick an on-curve R with x ≥ n, any r = x − n, s, e; then Q = r⁻¹(s·R − e·G) makes (r, s) valid over e.
// Random signatures hit this with probability ~2^-32 (P-256), so only a constructed case tests it.
function affAdd(c: Curve, P: AffinePoint | null, Q: AffinePoint | null): AffinePoint | null {
  const { p } = c;
  if (!P) return Q;
  if (!Q) return P;
  const m = (a: bigint) => ((a % p) + p) % p;
  if (P.x === Q.x) {
    if (m(P.y + Q.y) === 0n) return null;
    const l = m(m(3n * P.x * P.x - 3n) * modInverse(2n * P.y, p));
    const x = m(l * l - 2n * P.x);
    return { x, y: m(l * (P.x - x) - P.y) };
  }
  const l = m((Q.y - P.y) * modInverse(m(Q.x - P.x), p));
  const x = m(l * l - P.x - Q.x);
  return { x, y: m(l * (P.x - x) - P.y) };
}
function affMul(c: Curve, k: bigint, P: AffinePoint): AffinePoint | null {
  let R: AffinePoint | null = null;
  let A: AffinePoint | null = P;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) R = affAdd(c, R, A);
    A = affAdd(c, A, A);
  }
  return R;
}
function sqrtMod(c: Curve, a: bigint): bigint | undefined {
  // p ≡ 3 (mod 4) for P-256 and P-384: √a = a^((p+1)/4)
  let r = 1n;
  let b = a % c.p;
  for (let e = (c.p + 1n) / 4n; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % c.p;
    b = (b * b) % c.p;
  }
  return (r * r) % c.p === a % c.p ? r : undefined;
}

test('ECDSA: x(R) ≥ n (r + n comparison) accepted by native and BigInt engines alike', () => {
  for (const c of [P256, P384]) {
    let R: AffinePoint | undefined;
    for (let x = c.n + 1n; !R; x++) {
      const y = sqrtMod(c, (((x * x * x - 3n * x + c.b) % c.p) + c.p) % c.p);
      if (y !== undefined) R = { x, y };
    }
    const r = R.x - c.n;
    const s = 12345n;
    const digest = createHash(c === P256 ? 'sha256' : 'sha384').update('r+n').digest();
    const e = BigInt('0x' + digest.toString('hex'));
    const sR = affMul(c, s, R)!;
    const eG = affMul(c, e % c.n, { x: c.gx, y: c.gy })!;
    const Q = affMul(c, modInverse(r, c.n), affAdd(c, sR, { x: eG.x, y: (c.p - eG.y) % c.p })!)!;
    const hex = (v: bigint) => Buffer.from(v.toString(16).padStart(c.size * 2, '0'), 'hex').toString('base64url');
    const pub = createPublicKey({ key: { kty: 'EC', crv: c.name, x: hex(Q.x), y: hex(Q.y) }, format: 'jwk' });
    const alg = c === P256 ? 'sha256' : 'sha384';
    assert.ok(verifyDigestDer(c, Q, digest, der(r, s)), `${c.name} BigInt accepts`);
    assert.ok(verifyPrehashed(pub, alg, digest, der(r, s)), `${c.name} ${prehashEngine()} accepts`);
    // The same r without the wrap-around is not valid.
    assert.ok(!verifyDigestDer(c, Q, digest, der(r + 1n, s)));
    assert.ok(!verifyPrehashed(pub, alg, digest, der(r + 1n, s)));
  }
});

test('ECDSA P1363 option and conversion', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const msg = Buffer.from('p1363');
  const sig = sign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const d = createHash('sha256').update(msg).digest();
  assert.ok(verifyPrehashed(publicKey, 'sha256', d, sig, { dsaEncoding: 'ieee-p1363' }));
  assert.ok(!verifyPrehashed(publicKey, 'sha256', d, sig.subarray(1), { dsaEncoding: 'ieee-p1363' }));
  assert.ok(verify('sha256', msg, publicKey, p1363ToDer(sig, P256)!));
  assert.equal(p1363ToDer(sig.subarray(2), P256), undefined);
  assert.ok(!verifyPrehashed(publicKey, 'sha256', d, sig), 'P1363 bytes are not DER');
});

test('RSA PKCS#1 v1.5 and PSS over a digest agree with crypto.verify', () => {
  for (const bits of [2048, 2049, 3072]) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    for (const alg of ALGS) {
      const msg = randomBytes(40);
      const d = createHash(alg).update(msg).digest();
      const v15 = sign(alg, msg, privateKey);
      assert.ok(verifyPrehashed(publicKey, alg, d, v15), `${bits} ${alg} v1.5`);
      // A digest that differs in its first byte (flipped, not overwritten: a 1 there would be 1 in 256).
      const other = Buffer.from(d);
      other[0]! ^= 1;
      assert.ok(!verifyPrehashed(publicKey, alg, other, v15));
      const wrongAlg = alg === 'sha256' ? 'sha384' : 'sha256';
      assert.ok(!verifyPrehashed(publicKey, wrongAlg, createHash(wrongAlg).update(msg).digest(), v15), 'DigestInfo names the hash');
      for (const salt of [0, 32, DIGEST(alg)]) {
        const pss = sign(alg, msg, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: salt });
        assert.ok(verifyPrehashed(publicKey, alg, d, pss, { rsaPadding: 'pss', pssSaltLength: salt }), `${bits} ${alg} pss salt ${salt}`);
        assert.ok(verifyPrehashed(publicKey, alg, d, pss, { rsaPadding: 'pss', pssSaltLength: 'auto' }));
        assert.ok(!verifyPrehashed(publicKey, alg, d, pss, { rsaPadding: 'pss', pssSaltLength: salt + 1 }), 'other salt length');
        assert.ok(!verifyPrehashed(publicKey, alg, d, pss), 'PSS signature is not v1.5');
        const flipped = Buffer.from(pss);
        flipped[10]! ^= 4;
        assert.ok(!verifyPrehashed(publicKey, alg, d, flipped, { rsaPadding: 'pss', pssSaltLength: 'auto' }));
      }
      assert.ok(!verifyPrehashed(publicKey, alg, d, v15, { rsaPadding: 'pss', pssSaltLength: 'auto' }), 'v1.5 signature is not PSS');
    }
    const d = createHash('sha256').update('x').digest();
    const k = Math.ceil(bits / 8);
    for (const [label, sig] of [
      ['all 0xff (≥ modulus)', Buffer.alloc(k, 0xff)],
      ['zero', Buffer.alloc(k)],
      ['short', randomBytes(k - 1)],
      ['long', randomBytes(k + 1)],
      ['random', randomBytes(k)],
      ['empty', Buffer.alloc(0)],
    ] as const) {
      assert.ok(!verifyPrehashed(publicKey, 'sha256', d, sig), `${bits} v1.5 ${label}`);
      assert.ok(!verifyPrehashed(publicKey, 'sha256', d, sig, { rsaPadding: 'pss', pssSaltLength: 'auto' }), `${bits} pss ${label}`);
    }
  }
});

function DIGEST(alg: DigestAlgorithm): number {
  return { sha256: 32, sha384: 48, sha512: 64 }[alg];
}

test('bad inputs: Ed25519, private keys, wrong digest length, off-curve SPKI', () => {
  const ed = generateKeyPairSync('ed25519');
  const d = createHash('sha256').update('x').digest();
  assert.throws(() => verifyPrehashed(ed.publicKey, 'sha256', d, Buffer.alloc(64)), (e: unknown) => e instanceof SigilError && e.code === 'KEY_UNSUPPORTED' && /Ed25519/.test(e.message));
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.throws(() => verifyPrehashed(ec.privateKey, 'sha256', d, Buffer.alloc(64)), (e: unknown) => e instanceof SigilError && e.code === 'KEY_UNSUPPORTED');
  assert.throws(() => verifyPrehashed(ec.publicKey, 'sha256', d.subarray(1), Buffer.alloc(64)), (e: unknown) => e instanceof SigilError && e.code === 'ENCODING_INVALID');
  assert.throws(() => verifyPrehashed(ec.publicKey, 'sha384', d, Buffer.alloc(64)), (e: unknown) => e instanceof SigilError && e.code === 'ENCODING_INVALID');
  const spki = ec.publicKey.export({ type: 'spki', format: 'der' });
  const off = Buffer.from(spki);
  off[off.length - 1]! ^= 1; // y changed: point off the curve
  assert.throws(() => verifyPrehashedSpki(off, 'sha256', d, Buffer.alloc(70)), (e: unknown) => e instanceof SigilError && e.code === 'KEY_MALFORMED');
  assert.equal(parsePoint(P256, off.subarray(off.length - 65)), undefined);
  assert.throws(() => verifyPrehashedSpki(randomBytes(50), 'sha256', d, Buffer.alloc(70)), (e: unknown) => e instanceof SigilError && e.code === 'KEY_MALFORMED');
  // RSA through the SPKI entry point falls back to KeyObject import.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sig = sign('sha256', Buffer.from('x'), rsa.privateKey);
  assert.ok(verifyPrehashedSpki(rsa.publicKey.export({ type: 'spki', format: 'der' }), 'sha256', d, sig));
  assert.equal(parsePoint(P521, Buffer.alloc(133)), undefined);
  assert.equal(parsePoint(P384, Buffer.alloc(3)), undefined);
});

test('engine: native addon used when built; SIGIL_NO_NATIVE=1 selects the BigInt fallback with the same answers', () => {
  const built = existsSync(join(REPO_ROOT, 'native/prehash/build/Release/sigil_prehash.node'));
  if (built) assert.equal(prehashEngine(), 'native');
  const script = `
    import { generateKeyPairSync, sign, createHash } from 'node:crypto';
    import { verifyPrehashed, prehashEngine } from './src/crypto/prehash.ts';
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sig = sign('sha256', Buffer.from('m'), privateKey);
    const d = createHash('sha256').update('m').digest();
    const bad = Buffer.from(d); bad[0] ^= 1;
    console.log(JSON.stringify([prehashEngine(), verifyPrehashed(publicKey, 'sha256', d, sig), verifyPrehashed(publicKey, 'sha256', bad, sig)]));`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, SIGIL_NO_NATIVE: '1' },
    encoding: 'utf8',
  });
  assert.equal(res.status, 0, res.stderr);
  assert.deepEqual(JSON.parse(res.stdout.trim()), ['bigint', true, false]);
});

test('EC public keys read straight from SPKI: curve named as a KeyObject names it, bad points refused, other keys left to createPublicKey', () => {
  for (const [name, nodeName] of Object.entries(CURVE_NAMES)) {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: name });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const k = ecPublicKeyFromSpki(spki);
    assert.ok(k, name);
    assert.equal(k.asymmetricKeyType, publicKey.asymmetricKeyType);
    assert.equal(k.asymmetricKeyDetails.namedCurve, nodeName);
    assert.equal(publicKey.asymmetricKeyDetails?.namedCurve, nodeName);
    const off = Buffer.from(spki);
    off[off.length - 1]! ^= 1;
    assert.throws(
      () => ecPublicKeyFromSpki(off),
      (e: unknown) => e instanceof SigilError && e.code === 'KEY_MALFORMED' && /not on the curve/.test(e.message),
      `${name}: a point off the curve`,
    );
  }
  const uncompressed = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const bad = Buffer.from(uncompressed);
  bad[26] = 0x02; // the point's form byte: not an uncompressed point
  assert.equal(ecPublicKeyFromSpki(bad), undefined, 'only uncompressed points are read here');
  assert.equal(ecPublicKeyFromSpki(uncompressed.subarray(0, 60)), undefined, 'truncated');
  assert.equal(ecPublicKeyFromSpki(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' })), undefined, 'RSA');
  assert.equal(ecPublicKeyFromSpki(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' })), undefined, 'Ed25519');
});
