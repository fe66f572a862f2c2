import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { Certificate } from '../../src/x509/certificate.js';
import { encodeOid, encodeTlv, TAG, contextTag } from '../../src/core/der.js';
import { SigilError } from '../../src/core/errors.js';
import { tbsFor, ecKey, buildCert, T0, DAY, type KeyPair, type BuiltCert } from './pki.js';

const seq = (...p: Buffer[]) => encodeTlv(TAG.SEQUENCE, ...p);
const oid = (o: string) => encodeTlv(TAG.OID, encodeOid(o));
const NULL = Buffer.from([5, 0]);
const hashAlg = (o: string) => seq(oid(o), NULL);
const SHA256 = '2.16.840.1.101.3.4.2.1';
const MGF1 = '1.2.840.113549.1.1.8';

function pss(hash: string, mgfHash: string, salt: number): Buffer {
  return seq(
    oid('1.2.840.113549.1.1.10'),
    seq(
      encodeTlv(contextTag(0, true), hashAlg(hash)),
      encodeTlv(contextTag(1, true), seq(oid(MGF1), hashAlg(mgfHash))),
      encodeTlv(contextTag(2, true), encodeTlv(TAG.INTEGER, Buffer.from([salt]))),
    ),
  );
}

/** A CA of any key type, and a leaf it signs with `sigAlg` using `signFn`. */
function pair(caKey: KeyPair, sigAlg: Buffer, signFn: (tbs: Buffer) => Buffer, opensslCheck = true): { ca: Certificate; leaf: Certificate } {
  const caSpec = { subject: 'alg ca', key: caKey, notBefore: T0, notAfter: new Date(T0.getTime() + DAY), ca: {}, keyUsage: [5], sigAlg };
  const caTbs = tbsFor(caSpec).tbs;
  const caDer = seq(caTbs, sigAlg, encodeTlv(TAG.BIT_STRING, Buffer.from([0]), signFn(caTbs)));
  if (opensslCheck) new X509Certificate(caDer); // OpenSSL accepts the well-formed ones
  const caBuilt: BuiltCert = { der: caDer, tbs: caTbs, subjectName: Buffer.alloc(0), spki: Buffer.alloc(0), ski: tbsFor(caSpec).ski };
  const ca = Certificate.fromDer(caDer);
  // subjectName must be the CA's encoded Name for the leaf's issuer field
  caBuilt.subjectName = ca.subjectDer;
  const leafSpec = { subject: 'alg leaf', key: ecKey(), issuer: { cert: caBuilt, key: caKey }, notBefore: T0, notAfter: new Date(T0.getTime() + DAY), keyUsage: [0], sigAlg };
  const leafTbs = tbsFor(leafSpec).tbs;
  const leafDer = seq(leafTbs, sigAlg, encodeTlv(TAG.BIT_STRING, Buffer.from([0]), signFn(leafTbs)));
  return { ca, leaf: Certificate.fromDer(leafDer) };
}

test('signature algorithms: RSA PKCS#1 v1.5, RSASSA-PSS, Ed25519, ECDSA P-521/SHA-512 all verify and agree with OpenSSL', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ed = generateKeyPairSync('ed25519');
  const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
  const cases: [string, KeyPair, Buffer, (tbs: Buffer) => Buffer][] = [
    ['sha256WithRSAEncryption', rsa, seq(oid('1.2.840.113549.1.1.11'), NULL), (t) => sign('sha256', t, rsa.privateKey)],
    ['sha512WithRSAEncryption', rsa, seq(oid('1.2.840.113549.1.1.13'), NULL), (t) => sign('sha512', t, rsa.privateKey)],
    ['RSASSA-PSS-sha256', rsa, pss(SHA256, SHA256, 32), (t) => sign('sha256', t, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })],
    ['Ed25519', ed, seq(oid('1.3.101.112')), (t) => sign(null, t, ed.privateKey)],
    ['ecdsa-with-SHA512', p521, seq(oid('1.2.840.10045.4.3.4')), (t) => sign('sha512', t, p521.privateKey)],
  ];
  for (const [name, key, alg, signFn] of cases) {
    const { ca, leaf } = pair(key, alg, signFn);
    assert.equal(leaf.signatureAlgorithm.name, name);
    assert.ok(leaf.verifySignedBy(ca), `${name}: leaf verifies`);
    assert.ok(ca.verifySignedBy(ca), `${name}: self-signature verifies`);
    assert.equal(new X509Certificate(leaf.der).verify(ca.publicKey), true, `${name}: OpenSSL agrees`);
    assert.ok(ca.publicKey.equals(new X509Certificate(ca.der).publicKey), `${name}: same key as OpenSSL's`);
    // a key of another type or another key never verifies (and never throws)
    assert.equal(leaf.verifySignedBy(Certificate.fromDer(buildCert({ subject: 'o', key: ecKey(), notBefore: T0, notAfter: new Date(T0.getTime() + DAY) }).der)), false, name);
  }
});

test('RSASSA-PSS parameters: SHA-1 defaults, MGF1 hash differing from the message hash, and unknown fields are refused', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signFn = (t: Buffer) => sign('sha256', t, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  const isMalformed = (re: RegExp) => (e: unknown) => e instanceof SigilError && e.code === 'CERTIFICATE_MALFORMED' && re.test(e.message);
  assert.throws(() => pair(rsa, seq(oid('1.2.840.113549.1.1.10'), seq()), signFn, false), isMalformed(/default SHA-1/));
  assert.throws(() => pair(rsa, pss(SHA256, '2.16.840.1.101.3.4.2.2', 32), signFn, false), isMalformed(/MGF1 hash/));
  const unknownField = seq(oid('1.2.840.113549.1.1.10'), seq(encodeTlv(contextTag(0, true), hashAlg(SHA256)), encodeTlv(contextTag(5, true), NULL)));
  assert.throws(() => pair(rsa, unknownField, signFn, false), isMalformed(/unknown field/));
  const badTrailer = seq(
    oid('1.2.840.113549.1.1.10'),
    seq(encodeTlv(contextTag(0, true), hashAlg(SHA256)), encodeTlv(contextTag(1, true), seq(oid(MGF1), hashAlg(SHA256))), encodeTlv(contextTag(3, true), encodeTlv(TAG.INTEGER, Buffer.from([2])))),
  );
  assert.throws(() => pair(rsa, badTrailer, signFn, false), isMalformed(/trailer/));
  // an AlgorithmIdentifier with a third field
  const extra = seq(oid('1.2.840.113549.1.1.11'), NULL, NULL);
  assert.throws(() => pair(rsa, extra, (t) => sign('sha256', t, rsa.privateKey), false), isMalformed(/extra fields/));
});
