import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, scryptSync, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nacl from 'tweetnacl';
import { SigilError } from '../../src/core/errors.js';
import {
  describeKey,
  exportPrivateKeyPem,
  exportPublicKeyPem,
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  isEncryptedPrivateKey,
  KEY_ALGORITHMS,
  keyDetails,
  keyHashAlgorithm,
  publicKeyDer,
  publicKeyHint,
} from '../../src/crypto/keys.js';
import { COSIGN_SCRYPT, decryptCosignKey, encryptCosignKey, parseCosignKey } from '../../src/crypto/cosign-key.js';
import { LocalSigner, PublicKeyVerifier } from '../../src/crypto/local-signer.js';
import { corpusPath } from '../helpers/paths.js';

const FAST = { scrypt: { N: 1024, r: 8, p: 1 } };
const code = (c: string) => (e: unknown) => e instanceof SigilError && e.code === c;

test('generate every algorithm; details, hash and signing round trip through LocalSigner/PublicKeyVerifier', async () => {
  const expected: Record<string, [string, string | null]> = {
    'ecdsa-p256': ['PKIX_ECDSA_P256_SHA_256', 'sha256'],
    'ecdsa-p384': ['PKIX_ECDSA_P384_SHA_384', 'sha384'],
    'ecdsa-p521': ['PKIX_ECDSA_P521_SHA_512', 'sha512'],
    ed25519: ['PKIX_ED25519', null],
    'rsa-2048': ['PKIX_RSA_PKCS1V15_2048_SHA256', 'sha256'],
    'rsa-3072': ['PKIX_RSA_PKCS1V15_3072_SHA256', 'sha256'],
  };
  for (const alg of KEY_ALGORITHMS.filter((a) => a !== 'rsa-4096')) {
    const { privateKey, publicKey } = generateKeyPair(alg);
    assert.equal(keyDetails(publicKey), expected[alg]![0], alg);
    assert.equal(keyHashAlgorithm(privateKey), expected[alg]![1], alg);
    const signer = new LocalSigner(privateKey);
    const msg = randomBytes(100);
    const sig = await signer.sign(msg);
    // Independent check with node:crypto and the same scheme the KeyDetails name promises.
    assert.ok(verify(expected[alg]![1], msg, publicKey, sig), alg);
    const v = new PublicKeyVerifier(importPublicKey(exportPublicKeyPem(publicKey)));
    assert.ok(v.verify(msg, sig), alg);
    assert.ok(!v.verify(Buffer.concat([msg, Buffer.from([0])]), sig), alg);
    assert.ok(!v.verify(msg, Buffer.from('garbage')), `${alg}: garbage signature is false, not a throw`);
    assert.match(describeKey(publicKey), /ECDSA P-|Ed25519|RSA-/);
  }
});

test('import public keys: PEM SPKI, DER, JWK, PKCS#1 RSA; real corpus keys', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  assert.deepEqual(publicKeyDer(importPublicKey(der)), der);
  assert.deepEqual(publicKeyDer(importPublicKey(exportPublicKeyPem(publicKey))), der);
  assert.deepEqual(publicKeyDer(importPublicKey(Buffer.from(exportPublicKeyPem(publicKey)))), der);
  assert.deepEqual(publicKeyDer(importPublicKey(JSON.stringify(publicKey.export({ format: 'jwk' })))), der);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  assert.equal(keyDetails(importPublicKey(rsa.export({ type: 'pkcs1', format: 'pem' }) as string)), 'PKIX_RSA_PKCS1V15_2048_SHA256');

  const conf = importPublicKey(readFileSync(corpusPath('sigstore-conformance/bundle-verify/managed-key-happy-path/key.pub'), 'utf8'));
  assert.equal(keyDetails(conf), 'PKIX_ECDSA_P256_SHA_256');
  // The hint cosign and the conformance bundle put in verificationMaterial.publicKey.hint.
  const bundle = JSON.parse(readFileSync(corpusPath('sigstore-conformance/bundle-verify/managed-key-happy-path/bundle.sigstore.json'), 'utf8'));
  const hint = bundle.verificationMaterial?.publicKey?.hint;
  if (hint !== undefined) assert.equal(publicKeyHint(conf), hint);
  assert.equal(keyDetails(importPublicKey(readFileSync(corpusPath('slsa-verifier/gcb-keys/global.key')))), 'PKIX_ECDSA_P256_SHA_256');
});

test('public key import rejects garbage, truncation, off-curve points, private keys and unsupported types', () => {
  const good = exportPublicKeyPem(generateKeyPair().publicKey);
  // conformance's managed-key-wrong-key_fail: base64 edited so the point is not on P-256.
  assert.throws(() => importPublicKey(readFileSync(corpusPath('sigstore-conformance/bundle-verify/managed-key-wrong-key_fail/key.pub'), 'utf8')), code('KEY_MALFORMED'));
  assert.throws(() => importPublicKey(good.slice(0, good.length - 40)), code('KEY_MALFORMED'), 'truncated PEM (no END line)');
  assert.throws(() => importPublicKey(good.replace(/\n[A-Za-z0-9+/]{10}/, '\n')), code('KEY_MALFORMED'), 'PEM body missing bytes');
  assert.throws(() => importPublicKey('hello world'), code('KEY_MALFORMED'));
  assert.throws(() => importPublicKey(''), code('KEY_MALFORMED'));
  assert.throws(() => importPublicKey(Buffer.from([0x30, 0x03, 0x02, 0x01])), code('KEY_MALFORMED'), 'truncated DER');
  assert.throws(() => importPublicKey(randomBytes(91)), code('KEY_MALFORMED'));
  assert.throws(() => importPublicKey('{"kty":"EC","crv":"P-256","x":"AAAA"}'), code('KEY_MALFORMED'));
  assert.throws(() => importPublicKey('{not json'), code('KEY_MALFORMED'));
  assert.throws(() => importPublicKey(exportPrivateKeyPem(generateKeyPair().privateKey)), code('KEY_MALFORMED'), 'private key where a public one is expected');
  assert.throws(() => importPublicKey('-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n'), (e: unknown) => e instanceof SigilError);

  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
  assert.throws(() => importPublicKey(k1), (e: unknown) => e instanceof SigilError && e.code === 'KEY_UNSUPPORTED' && /secp256k1/.test(e.message));
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
  assert.throws(() => importPublicKey(rsa1024), (e: unknown) => e instanceof SigilError && e.code === 'KEY_UNSUPPORTED' && /1024/.test(e.message));
  const x25519 = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
  assert.throws(() => importPublicKey(x25519), code('KEY_UNSUPPORTED'));
  const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 224 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
  assert.throws(() => importPublicKey(dsa), code('KEY_UNSUPPORTED'));
});

test('import private keys: PKCS#8, SEC1, PKCS#1, DER, encrypted PKCS#8', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  const want = publicKeyDer(ec);
  assert.deepEqual(publicKeyDer(importPrivateKey(ec.export({ type: 'pkcs8', format: 'pem' }))), want);
  // openssl ecparam -genkey writes "EC PARAMETERS" before "EC PRIVATE KEY"
  const sec1 = '-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n' + (ec.export({ type: 'sec1', format: 'pem' }) as string);
  assert.deepEqual(publicKeyDer(importPrivateKey(sec1)), want);
  assert.deepEqual(publicKeyDer(importPrivateKey(ec.export({ type: 'sec1', format: 'der' }))), want);
  assert.deepEqual(publicKeyDer(importPrivateKey(ec.export({ type: 'pkcs8', format: 'der' }))), want);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  assert.equal(keyDetails(importPrivateKey(rsa.export({ type: 'pkcs1', format: 'pem' }))), 'PKIX_RSA_PKCS1V15_2048_SHA256');
  const enc = ec.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
  assert.ok(isEncryptedPrivateKey(enc));
  assert.deepEqual(publicKeyDer(importPrivateKey(enc, 'pw')), want);
  assert.throws(() => importPrivateKey(enc, 'nope'), code('KEY_PASSWORD_INVALID'));
  assert.throws(() => importPrivateKey(enc), code('KEY_PASSWORD_INVALID'));
  const legacy = rsa.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'pw' }) as string;
  assert.ok(isEncryptedPrivateKey(legacy));
  assert.equal(keyDetails(importPrivateKey(legacy, 'pw')), 'PKIX_RSA_PKCS1V15_2048_SHA256');
  assert.throws(() => importPrivateKey(legacy, 'bad'), code('KEY_PASSWORD_INVALID'));

  assert.throws(() => importPrivateKey('junk'), code('KEY_MALFORMED'));
  assert.throws(() => importPrivateKey(randomBytes(64)), code('KEY_MALFORMED'));
  assert.throws(() => importPrivateKey(exportPublicKeyPem(ec)), code('KEY_MALFORMED'));
  const pem = exportPrivateKeyPem(ec);
  assert.throws(() => importPrivateKey(pem.slice(0, 120)), code('KEY_MALFORMED'), 'truncated');
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  assert.throws(() => importPrivateKey(k1), code('KEY_UNSUPPORTED'));
  assert.throws(() => new LocalSigner(generateKeyPair().publicKey), code('KEY_MALFORMED'));
});

test('cosign key: round trip with real cosign parameters, both labels, empty password, wrong password', () => {
  const { privateKey, publicKey } = generateKeyPair();
  const pem = encryptCosignKey(privateKey, 'correct horse');
  assert.match(pem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
  const parsed = parseCosignKey(pem);
  assert.deepEqual(parsed.scrypt, COSIGN_SCRYPT);
  assert.equal(parsed.salt.length, 32);
  assert.equal(parsed.nonce.length, 24);
  assert.ok(isEncryptedPrivateKey(pem));
  assert.deepEqual(publicKeyDer(importPrivateKey(pem, 'correct horse')), publicKeyDer(publicKey));
  assert.throws(
    () => importPrivateKey(pem, 'wrong'),
    (e: unknown) => e instanceof SigilError && e.code === 'KEY_PASSWORD_INVALID' && /wrong password/.test(e.message) && !!e.hint,
  );
  assert.throws(() => importPrivateKey(pem), code('KEY_PASSWORD_INVALID'), 'no password given');

  const empty = encryptCosignKey(privateKey, '', { label: 'ENCRYPTED COSIGN PRIVATE KEY', ...FAST });
  assert.match(empty, /ENCRYPTED COSIGN PRIVATE KEY/);
  assert.deepEqual(publicKeyDer(importPrivateKey(empty, '')), publicKeyDer(publicKey));
  assert.throws(() => importPrivateKey(empty, 'x'), code('KEY_PASSWORD_INVALID'));

  const ed = generateKeyPair('ed25519').privateKey;
  assert.equal(keyDetails(importPrivateKey(encryptCosignKey(ed, 'p', FAST), 'p')), 'PKIX_ED25519');
});

test('cosign key written by the independent recipe of peers/README §3 decrypts (same bytes cosign reads)', () => {
  // Re-implements the reference recipe inline (not via sigil's writer) so a shared mistake cannot hide.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = scryptSync(Buffer.from('test-pass'), salt, 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  const ct = nacl.secretbox(new Uint8Array(pkcs8), new Uint8Array(nonce), new Uint8Array(key));
  const json = JSON.stringify({
    kdf: { name: 'scrypt', params: { N: 32768, r: 8, p: 1 }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ct).toString('base64'),
  });
  const b64 = Buffer.from(json).toString('base64').match(/.{1,64}/g)!.join('\n');
  const pem = `-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n${b64}\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n`;
  const k = decryptCosignKey(pem, 'test-pass');
  assert.deepEqual(publicKeyDer(k), publicKeyDer(publicKey));
  // And sigil's writer decrypts with the recipe's reader.
  const ours = encryptCosignKey(privateKey, 'pw', FAST);
  const j = JSON.parse(Buffer.from(ours.split('\n').slice(1, -2).join(''), 'base64').toString());
  const k2 = scryptSync('pw', Buffer.from(j.kdf.salt, 'base64'), 32, { N: j.kdf.params.N, r: j.kdf.params.r, p: j.kdf.params.p, maxmem: 64 << 20 });
  const pt = nacl.secretbox.open(Buffer.from(j.ciphertext, 'base64'), Buffer.from(j.cipher.nonce, 'base64'), k2);
  assert.ok(pt);
  const back = createPrivateKey({ key: Buffer.from(pt), format: 'der', type: 'pkcs8' });
  const msg = Buffer.from('x');
  assert.ok(verify('sha256', msg, publicKey, sign('sha256', msg, back)));
});

test('cosign key: malformed containers fail with a named cause, hostile scrypt parameters are refused', () => {
  const { privateKey } = generateKeyPair();
  const pem = encryptCosignKey(privateKey, 'pw', FAST);
  const doc = JSON.parse(parseCosignKeyBody(pem));
  const wrap = (o: unknown, label = 'ENCRYPTED SIGSTORE PRIVATE KEY') =>
    `-----BEGIN ${label}-----\n${Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64')}\n-----END ${label}-----\n`;
  const cases: [string, string, string][] = [
    ['truncated PEM', pem.slice(0, 100), 'KEY_MALFORMED'],
    ['body not JSON', wrap('not json'), 'KEY_MALFORMED'],
    ['JSON array', wrap([]), 'KEY_MALFORMED'],
    ['no kdf', wrap({ ...doc, kdf: undefined }), 'KEY_MALFORMED'],
    ['other kdf', wrap({ ...doc, kdf: { ...doc.kdf, name: 'pbkdf2' } }), 'KEY_UNSUPPORTED'],
    ['other cipher', wrap({ ...doc, cipher: { ...doc.cipher, name: 'aes-gcm' } }), 'KEY_UNSUPPORTED'],
    ['N not power of two', wrap({ ...doc, kdf: { ...doc.kdf, params: { N: 1000, r: 8, p: 1 } } }), 'KEY_MALFORMED'],
    ['N huge (memory bomb)', wrap({ ...doc, kdf: { ...doc.kdf, params: { N: 2 ** 30, r: 8, p: 1 } } }), 'KEY_UNSUPPORTED'],
    ['p huge', wrap({ ...doc, kdf: { ...doc.kdf, params: { N: 1024, r: 8, p: 1000 } } }), 'KEY_UNSUPPORTED'],
    ['r string', wrap({ ...doc, kdf: { ...doc.kdf, params: { N: 1024, r: '8', p: 1 } } }), 'KEY_MALFORMED'],
    ['bad base64 salt', wrap({ ...doc, kdf: { ...doc.kdf, salt: '***' } }), 'KEY_MALFORMED'],
    ['short nonce', wrap({ ...doc, cipher: { ...doc.cipher, nonce: 'AAAA' } }), 'KEY_MALFORMED'],
    ['empty ciphertext', wrap({ ...doc, ciphertext: '' }), 'KEY_MALFORMED'],
    ['flipped ciphertext = wrong password', wrap({ ...doc, ciphertext: flipB64(doc.ciphertext) }), 'KEY_PASSWORD_INVALID'],
  ];
  for (const [name, text, want] of cases) {
    assert.throws(() => importPrivateKey(text, 'pw'), (e: unknown) => e instanceof SigilError && e.code === want && e.message.length > 10, name);
  }
  // Encrypting something that is not a key: plaintext decrypts but is no PKCS#8.
  const key = scryptSync('pw', Buffer.from(doc.kdf.salt, 'base64'), 32, { N: 1024, r: 8, p: 1 });
  const ct = nacl.secretbox(new Uint8Array(Buffer.from('hello')), new Uint8Array(Buffer.from(doc.cipher.nonce, 'base64')), new Uint8Array(key));
  assert.throws(() => importPrivateKey(wrap({ ...doc, ciphertext: Buffer.from(ct).toString('base64') }), 'pw'), code('KEY_MALFORMED'));
});

function parseCosignKeyBody(pem: string): string {
  return Buffer.from(pem.split('\n').slice(1, -2).join(''), 'base64').toString('utf8');
}

function flipB64(s: string): string {
  const b = Buffer.from(s, 'base64');
  b[5]! ^= 1;
  return b.toString('base64');
}

test('public key hint is base64 SHA-256 of the SPKI DER', () => {
  const { publicKey, privateKey } = generateKeyPair();
  const want = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  assert.equal(publicKeyHint(publicKey), want);
  assert.equal(publicKeyHint(privateKey), want);
});
