import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { parseTimestampToken, verifyTimestampToken } from '../../src/x509/rfc3161.js';
import { Certificate } from '../../src/x509/certificate.js';
import type { CertificateAuthority } from '../../src/x509/chain.js';
import { SigilError } from '../../src/core/errors.js';
import { Der, encodeTlv, TAG } from '../../src/core/der.js';
import { encodePem } from '../../src/core/pem.js';
import { conformanceBundle, conformanceRoot, loadRoot, PUBLIC_GOOD } from './fixtures.js';
import { buildCert, ecKey, DAY, type BuiltCert, type KeyPair } from './pki.js';

const isCode = (code: string, re?: RegExp) => (e: unknown) => e instanceof SigilError && e.code === code && (!re || re.test(e.message));

function corpusCase(name: string): { token: Buffer; signature: Buffer; tsas: CertificateAuthority[] } {
  const b = conformanceBundle(name);
  return { token: b.timestamps[0]!, signature: b.signature!, tsas: conformanceRoot(name).tsas };
}

test('corpus: valid RFC 3161 timestamps verify and return genTime (embedded cert, no cert, expired-now chain, public-good TSA)', () => {
  const cases: [string, string][] = [
    ['rekor2-happy-path', '2025-06-12T12:02:20.000Z'],
    ['rekor2-timestamp-with-embedded-cert', '2025-08-06T18:51:36.000Z'],
    ['rekor2-timestamp-without-embedded-cert', '2025-08-06T19:03:51.000Z'],
    // TSA chain valid only for minutes, long expired now: what counts is genTime
    ['rekor2-timestamp-with-expired-cert-chain', '2025-08-07T15:32:26.000Z'],
    ['trust-root-tsa-validity-end-inclusive', '2025-06-12T12:02:20.000Z'],
    ['intoto-with-custom-trust-root', '2023-02-01T00:00:00.000Z'],
    ['bundle-with-sct-with-extensions', '2026-01-15T22:49:26.000Z'],
    ['managed-key-happy-path', '2025-12-18T17:04:39.000Z'],
  ];
  for (const [name, want] of cases) {
    const c = corpusCase(name);
    assert.equal(verifyTimestampToken(c.token, c.signature, c.tsas).toISOString(), want, name);
  }
  const withCert = parseTimestampToken(corpusCase('rekor2-timestamp-with-embedded-cert').token);
  assert.equal(withCert.certificates.length, 1);
  assert.equal(parseTimestampToken(corpusCase('rekor2-timestamp-without-embedded-cert').token).certificates.length, 0);
  assert.equal(withCert.signer.essCertIds?.[0]?.hash, 'sha256');
});

test('rekor2-timestamp-outside-trust-root-tsa-validity_fail: genTime after the TSA’s validFor end → TIMESTAMP_INVALID', () => {
  const c = corpusCase('rekor2-timestamp-outside-trust-root-tsa-validity_fail');
  assert.throws(() => verifyTimestampToken(c.token, c.signature, c.tsas), isCode('TIMESTAMP_INVALID', /outside its validity/));
});

test('trust-root-tsa-validity-end-inclusive: the same root with its end 1 ms earlier rejects', () => {
  const c = corpusCase('trust-root-tsa-validity-end-inclusive');
  const tsa = c.tsas[0]!;
  const earlier = [{ ...tsa, validFor: { start: tsa.validFor.start, end: new Date(tsa.validFor.end!.getTime() - 1) } }];
  assert.throws(() => verifyTimestampToken(c.token, c.signature, earlier), isCode('TIMESTAMP_INVALID', /outside its validity/));
});

test('rekor2-timestamp-outside-tsa-cert-validity_fail: genTime outside the TSA certificate → TIMESTAMP_INVALID', () => {
  const c = corpusCase('rekor2-timestamp-outside-tsa-cert-validity_fail');
  assert.throws(() => verifyTimestampToken(c.token, c.signature, c.tsas), isCode('TIMESTAMP_INVALID', /signing certificate's validity/));
});

test('rekor2-timestamp-payload-mismatch_fail: the imprint covers another signature → TIMESTAMP_INVALID', () => {
  const c = corpusCase('rekor2-timestamp-payload-mismatch_fail');
  assert.throws(() => verifyTimestampToken(c.token, c.signature, c.tsas), isCode('TIMESTAMP_INVALID', /message imprint/));
});

test('untrusted TSA (FreeTSA), with and without embedded certificates → TIMESTAMP_INVALID', () => {
  const w = corpusCase('rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail');
  assert.throws(() => verifyTimestampToken(w.token, w.signature, w.tsas), isCode('TIMESTAMP_INVALID', /no trusted certificate authority issued/));
  const wo = corpusCase('rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail');
  assert.throws(() => verifyTimestampToken(wo.token, wo.signature, wo.tsas), isCode('TIMESTAMP_INVALID', /no certificate matches/));
  const ok = corpusCase('rekor2-happy-path');
  assert.throws(() => verifyTimestampToken(ok.token, ok.signature, []), isCode('TIMESTAMP_INVALID', /no timestamp authority/));
  assert.throws(() => verifyTimestampToken(ok.token, ok.signature, loadRoot(PUBLIC_GOOD).tsas), isCode('TIMESTAMP_INVALID'));
});

test('tampered tokens: signature, TSTInfo (genTime) and signed message-digest bytes', () => {
  const c = corpusCase('rekor2-timestamp-without-embedded-cert');
  const t = parseTimestampToken(c.token);
  const flip = (needle: Buffer, offset: number) => {
    const at = c.token.indexOf(needle);
    assert.ok(at >= 0);
    const bad = Buffer.from(c.token);
    bad[at + offset]! ^= 0x01;
    return bad;
  };
  assert.throws(() => verifyTimestampToken(flip(t.signer.signature, 20), c.signature, c.tsas), isCode('TIMESTAMP_INVALID', /does not verify/));
  // genTime "20250806190351Z" → "20250806190350Z": TSTInfo no longer matches the signed message-digest
  assert.throws(() => verifyTimestampToken(flip(Buffer.from('20250806190351Z'), 13), c.signature, c.tsas), isCode('TIMESTAMP_INVALID', /message-digest/));
  assert.throws(() => verifyTimestampToken(flip(t.signer.messageDigest, 3), c.signature, c.tsas), isCode('TIMESTAMP_INVALID', /message-digest/));
  assert.throws(() => verifyTimestampToken(c.token, Buffer.concat([c.signature, Buffer.from([0])]), c.tsas), isCode('TIMESTAMP_INVALID', /imprint/));
});

test('malformed tokens: every truncation, garbage and a refused status are rejected with stable codes', () => {
  const c = corpusCase('rekor2-happy-path');
  for (let n = 0; n < c.token.length; n += 7) {
    assert.throws(() => verifyTimestampToken(c.token.subarray(0, n), c.signature, c.tsas), isCode('TIMESTAMP_MALFORMED'), `prefix ${n}`);
  }
  assert.throws(() => parseTimestampToken(Buffer.from('garbage')), isCode('TIMESTAMP_MALFORMED'));
  const rejection = encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.INTEGER, Buffer.from([2]))));
  assert.throws(() => parseTimestampToken(rejection), isCode('TIMESTAMP_INVALID', /status 2/));
  const grantedEmpty = encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.INTEGER, Buffer.from([0]))));
  assert.throws(() => parseTimestampToken(grantedEmpty), isCode('TIMESTAMP_MALFORMED', /no timeStampToken/));
  for (let i = 0; i < c.token.length; i++) {
    const bad = Buffer.from(c.token);
    bad[i]! ^= 0x80;
    try {
      verifyTimestampToken(bad, c.signature, c.tsas);
    } catch (e) {
      assert.ok(e instanceof SigilError && ['TIMESTAMP_MALFORMED', 'TIMESTAMP_INVALID'].includes(e.code), `byte ${i}: ${String(e)}`);
    }
  }
});

test('a bare TimeStampToken (ContentInfo, no TimeStampResp wrapper) verifies the same', () => {
  const c = corpusCase('rekor2-timestamp-with-embedded-cert');
  const d = new Der(c.token);
  const token = d.bytes(d.children(d.root())[1]!);
  assert.equal(verifyTimestampToken(token, c.signature, c.tsas).toISOString(), '2025-08-06T18:51:36.000Z');
});

// Tokens issued by OpenSSL's TSA (`openssl ts -reply`), a real independent implementation.

const work = mkdtempSync(join(tmpdir(), 'sigil-tsa-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Tsa {
  root: BuiltCert;
  leaf: BuiltCert;
  rootKey: KeyPair;
  leafKey: KeyPair;
  leafSpec: Parameters<typeof buildCert>[0];
}

function makeTsa(leafKey: KeyPair, validity: { notBefore?: Date; notAfter?: Date } = {}): Tsa {
  const now = Date.now();
  const rootKey = ecKey('P-384');
  const root = buildCert({ subject: 'test tsa root', key: rootKey, notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY), ca: { pathLen: 0 }, keyUsage: [5, 6] });
  const leafSpec = {
    subject: 'test tsa',
    key: leafKey,
    issuer: { cert: root, key: rootKey },
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 30 * DAY),
    serial: 4242,
    keyUsage: [0],
    eku: ['1.3.6.1.5.5.7.3.8'],
    ekuCritical: true,
    ...validity,
  };
  return { root, leaf: buildCert(leafSpec), rootKey, leafKey, leafSpec };
}

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: work, encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

let seq = 0;
/** Asks OpenSSL's TSA for a timestamp over `data`; returns the response (or token) DER. */
function opensslTimestamp(tsa: Tsa, data: Buffer, opts: { embedCert: boolean; essAlg: 'sha1' | 'sha256'; tokenOut?: boolean }): Buffer {
  const n = ++seq;
  const f = (s: string) => join(work, `${n}-${s}`);
  writeFileSync(f('data'), data);
  writeFileSync(f('tsa.pem'), encodePem('CERTIFICATE', tsa.leaf.der));
  writeFileSync(f('tsa.key'), tsa.leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(f('serial'), '01\n');
  writeFileSync(
    f('ts.cnf'),
    [
      '[ tsa ]',
      'default_tsa = tsa_config1',
      '[ tsa_config1 ]',
      `serial = ${f('serial')}`,
      'crypto_device = builtin',
      'signer_digest = sha256',
      'default_policy = 1.3.6.1.4.1.57264.2',
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1',
      'clock_precision_digits = 3',
      `ess_cert_id_alg = ${opts.essAlg}`,
      '',
    ].join('\n'),
  );
  openssl(['ts', '-query', '-data', f('data'), '-sha256', ...(opts.embedCert ? ['-cert'] : []), '-out', f('req.tsq')]);
  openssl(['ts', '-reply', '-config', f('ts.cnf'), '-queryfile', f('req.tsq'), '-signer', f('tsa.pem'), '-inkey', f('tsa.key'), ...(opts.tokenOut ? ['-token_out'] : []), '-out', f('resp.tsr')]);
  return readFileSync(f('resp.tsr'));
}

function authority(chain: BuiltCert[]): CertificateAuthority[] {
  return [{ certChain: chain.map((c) => Certificate.fromDer(c.der)), validFor: { start: new Date(Date.now() - 2 * DAY) } }];
}

test('OpenSSL TSA, ECDSA P-384, ESS v2, fractional genTime, certificate embedded: verifies against [tsa, root] and against [root] alone', () => {
  const tsa = makeTsa(ecKey('P-384'));
  const data = Buffer.from('signature bytes');
  const before = Date.now();
  const resp = opensslTimestamp(tsa, data, { embedCert: true, essAlg: 'sha256' });
  const parsed = parseTimestampToken(resp);
  assert.equal(parsed.certificates.length, 1);
  assert.equal(parsed.signer.essCertIds?.[0]?.hash, 'sha256');
  const genTime = verifyTimestampToken(resp, data, authority([tsa.leaf, tsa.root]));
  assert.ok(genTime.getTime() >= before - 1000 && genTime.getTime() <= Date.now() + 1000);
  // clock_precision_digits = 3: the GeneralizedTime carries milliseconds, e.g. 20260101120000.123Z
  const d = new Der(parsed.tstInfo);
  const raw = d.value(d.children(d.root())[4]!).toString('latin1');
  assert.match(raw, /^\d{14}(\.\d{1,3})?Z$/);
  if (raw.includes('.')) assert.equal(genTime.getUTCMilliseconds(), Number(raw.slice(15, -1).padEnd(3, '0')), 'fractional seconds parsed');
  assert.equal(genTime.toISOString().slice(0, 19).replace(/[-:T]/g, ''), raw.slice(0, 14));
  // trusted root lists only the TSA's CA: the embedded certificate is the signer, validated up to it
  assert.equal(verifyTimestampToken(resp, data, authority([tsa.root])).getTime(), genTime.getTime());
  assert.throws(() => verifyTimestampToken(resp, Buffer.from('other bytes'), authority([tsa.root])), isCode('TIMESTAMP_INVALID', /imprint/));
});

test('OpenSSL TSA, RSA key (rsaEncryption signer), ESS v1 (SHA-1 cert id), bare token, no embedded certificate', () => {
  const tsa = makeTsa(generateKeyPairSync('rsa', { modulusLength: 2048 }));
  const data = Buffer.from('another signature');
  const token = opensslTimestamp(tsa, data, { embedCert: false, essAlg: 'sha1', tokenOut: true });
  const parsed = parseTimestampToken(token);
  assert.equal(parsed.certificates.length, 0);
  assert.equal(parsed.signer.essCertIds?.[0]?.hash, 'sha1');
  assert.equal(parsed.signer.scheme.keyType, 'rsa');
  assert.equal(parsed.signer.scheme.name, 'rsaEncryption with sha256');
  verifyTimestampToken(token, data, authority([tsa.leaf, tsa.root]));
  // without the TSA certificate in the trusted root and none embedded, nothing can verify it
  assert.throws(() => verifyTimestampToken(token, data, authority([tsa.root])), isCode('TIMESTAMP_INVALID', /no certificate matches/));
});

test('OpenSSL TSA: ESS signing-certificate names the real signer, so a look-alike certificate (same issuer, serial and key) is refused', () => {
  const tsa = makeTsa(ecKey('P-256'));
  const data = Buffer.from('x');
  const token = opensslTimestamp(tsa, data, { embedCert: false, essAlg: 'sha256' });
  const lookalike = buildCert({ ...tsa.leafSpec, notAfter: new Date(tsa.leafSpec.notAfter.getTime() + DAY) });
  assert.throws(() => verifyTimestampToken(token, data, authority([lookalike, tsa.root])), isCode('TIMESTAMP_INVALID', /ESS signing-certificate hash/));
  verifyTimestampToken(token, data, authority([tsa.leaf, tsa.root]));
});

test('OpenSSL TSA: trusted root TSA validFor and certificate validity are checked at genTime', () => {
  const tsa = makeTsa(ecKey('P-256'));
  const data = Buffer.from('y');
  const resp = opensslTimestamp(tsa, data, { embedCert: false, essAlg: 'sha256' });
  const chain = [Certificate.fromDer(tsa.leaf.der), Certificate.fromDer(tsa.root.der)];
  assert.throws(() => verifyTimestampToken(resp, data, [{ certChain: chain, validFor: { start: new Date(Date.now() + DAY) } }]), isCode('TIMESTAMP_INVALID', /outside its validity/));
  // A TSA whose certificate had already expired when it signed (OpenSSL does not check its own validity).
  const stale = makeTsa(ecKey('P-256'), { notBefore: new Date(Date.now() - 2 * DAY), notAfter: new Date(Date.now() - DAY) });
  const staleResp = opensslTimestamp(stale, data, { embedCert: true, essAlg: 'sha256' });
  assert.throws(() => verifyTimestampToken(staleResp, data, authority([stale.root])), isCode('TIMESTAMP_INVALID', /signing certificate's validity/));
  assert.throws(() => verifyTimestampToken(staleResp, data, authority([stale.leaf, stale.root])), isCode('TIMESTAMP_INVALID', /signing certificate's validity/));
});
