import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Der, TAG, decodeOid, encodeLength, encodeOid, encodeTlv, parseGeneralizedTime, parseUtcTime } from '../../src/core/der.js';
import { SigilError } from '../../src/core/errors.js';

const isCode = (code: string) => (e: unknown) => e instanceof SigilError && e.code === code;
const der = (hex: string) => new Der(Buffer.from(hex, 'hex'), 'CERTIFICATE_MALFORMED', 'test');

test('DER lengths: short and long forms are read; indefinite, non-minimal and overlong lengths are refused', () => {
  const big = encodeTlv(TAG.OCTET_STRING, Buffer.alloc(300, 1));
  const d = new Der(big);
  const t = d.root();
  assert.equal(t.end - t.valueStart, 300);
  assert.equal(t.valueStart, 4);
  assert.deepEqual(encodeLength(127), Buffer.from([127]));
  assert.deepEqual(encodeLength(128), Buffer.from([0x81, 128]));
  assert.deepEqual(encodeLength(65536), Buffer.from([0x83, 1, 0, 0]));
  assert.throws(() => der('3080').root(), isCode('CERTIFICATE_MALFORMED')); // indefinite
  assert.throws(() => der('04810101').root(), /long form/); // 1 in long form
  assert.throws(() => der('0482000101').root(), /leading zero/);
  assert.throws(() => der('0485010000000000').root(), /too large/);
  assert.throws(() => der('0403aabb').root(), /runs past/); // truncated value
  assert.throws(() => der('04').root(), /end of data/);
  assert.throws(() => der('').root(), /end of data/);
  assert.throws(() => der('0400ff').root(), /trailing/);
  assert.throws(() => der('1f0100').root(), /high tag/);
  // a child claiming more than its parent holds
  const nested = der('30030405aa');
  assert.throws(() => nested.children(nested.root()), /runs past/);
  const p = der('3006040100040100');
  assert.throws(() => p.children(p.children(p.root())[0]!), /primitive/);
});

test('DER scalars: BOOLEAN, INTEGER minimality, BIT STRING padding, strings', () => {
  assert.equal(der('0101ff').boolean(der('0101ff').root()), true);
  assert.throws(() => { const d = der('010101'); d.boolean(d.root()); }, /not a DER BOOLEAN/);
  const i = der('020200ff');
  assert.deepEqual(i.integerBytes(i.root()), Buffer.from([0, 0xff]));
  assert.throws(() => { const d = der('0202007f'); d.integerBytes(d.root()); }, /minimally/);
  assert.throws(() => { const d = der('0202ff80'); d.integerBytes(d.root()); }, /minimally/);
  assert.throws(() => { const d = der('0200'); d.integerBytes(d.root()); }, /empty/);
  assert.throws(() => { const d = der('0201ff'); d.smallInt(d.root()); }, /negative/);
  const b = der('03020780');
  assert.deepEqual(b.bitString(b.root()), { unused: 7, bytes: Buffer.from([0x80]) });
  assert.throws(() => { const d = der('03020781'); d.bitString(d.root()); }, /padding/);
  assert.throws(() => { const d = der('030108'); d.bitString(d.root()); }, /unused/);
  const u = new Der(encodeTlv(TAG.UTF8_STRING, Buffer.from('héllo ✓')));
  assert.equal(u.string(u.root()), 'héllo ✓');
  assert.throws(() => { const d = der('0c02c328'); d.string(d.root()); }, /UTF-8/);
  assert.throws(() => { const d = der('1301 2a'.replace(' ', '')); d.string(d.root()); }, /PrintableString/);
  assert.throws(() => { const d = der('1601ff'); d.string(d.root()); }, /non-ASCII/);
  const bmp = der('1e0400680069');
  assert.equal(bmp.string(bmp.root()), 'hi');
  assert.throws(() => { const d = der('0201 01'.replace(' ', '')); d.string(d.root()); }, /not a string type/);
});

test('OIDs round-trip, and non-minimal or truncated arcs are refused', () => {
  for (const o of ['1.2.840.10045.4.3.3', '1.3.6.1.4.1.57264.1.22', '2.5.29.17', '2.999.1', '0.9.2342.19200300.100.1.1']) {
    const enc = encodeOid(o);
    assert.equal(decodeOid(enc, (m) => assert.fail(m)), o);
  }
  const fail = (m: string): never => {
    throw new Error(m);
  };
  assert.throws(() => decodeOid(Buffer.from([0x2b, 0x80, 0x01]), fail), /leading 0x80/);
  assert.throws(() => decodeOid(Buffer.from([0x2b, 0x86]), fail), /truncated/);
  assert.throws(() => decodeOid(Buffer.alloc(0), fail), /empty/);
  assert.throws(() => encodeOid('3.1'), isCode('ENCODING_INVALID'));
});

test('times: UTCTime century rule, GeneralizedTime with fractional seconds, impossible dates refused', () => {
  assert.equal(parseUtcTime('490101000000Z')?.toISOString(), '2049-01-01T00:00:00.000Z');
  assert.equal(parseUtcTime('500101000000Z')?.toISOString(), '1950-01-01T00:00:00.000Z');
  assert.equal(parseGeneralizedTime('20250806185136Z')?.toISOString(), '2025-08-06T18:51:36.000Z');
  assert.equal(parseGeneralizedTime('20250806185136.5Z')?.toISOString(), '2025-08-06T18:51:36.500Z');
  assert.equal(parseGeneralizedTime('20250806185136.123456Z')?.toISOString(), '2025-08-06T18:51:36.123Z');
  for (const bad of ['20250231000000Z', '20251301000000Z', '20250101246000Z', '20250101000000', '20250101000000+0100', '2025010100000Z', '20250101000000.Z']) {
    assert.equal(parseGeneralizedTime(bad), undefined, bad);
  }
  assert.equal(parseUtcTime('2402300000Z'), undefined);
  const d = new Der(encodeTlv(TAG.GENERALIZED_TIME, Buffer.from('20240229235959.999Z')));
  assert.equal(d.time(d.root()).toISOString(), '2024-02-29T23:59:59.999Z');
  const bad = new Der(encodeTlv(TAG.UTC_TIME, Buffer.from('240230000000Z')), 'TIMESTAMP_MALFORMED', 'token');
  assert.throws(() => bad.time(bad.root(), 'genTime'), isCode('TIMESTAMP_MALFORMED'));
});
