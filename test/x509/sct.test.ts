import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate, Extensions } from '@peculiar/asn1-x509';
import { Certificate } from '../../src/x509/certificate.js';
import { parseEmbeddedScts, verifyEmbeddedScts, type CtLogKey } from '../../src/x509/sct.js';
import { verifyCertificateChain } from '../../src/x509/chain.js';
import { SigilError } from '../../src/core/errors.js';
import { encodeTlv, TAG } from '../../src/core/der.js';
import { conformanceBundle, conformanceRoot, loadRoot, PUBLIC_GOOD } from './fixtures.js';
import { buildCert, fulcioLikeChain, tbsFor, ecKey, T0, type CertSpec } from './pki.js';

const SCT_OID = '1.3.6.1.4.1.11129.2.4.2';
const isCode = (code: string, re?: RegExp) => (e: unknown) => e instanceof SigilError && e.code === code && (!re || re.test(e.message));
const publicGood = loadRoot(PUBLIC_GOOD);

function leafAndIssuer(name: string): { leaf: Certificate; issuer: Certificate } {
  const b = conformanceBundle(name);
  const leaf = Certificate.fromDer(b.certs[0]!);
  const path = verifyCertificateChain(leaf, [], conformanceRoot(name).cas, b.integratedTimes.length ? b.integratedTimes : [leaf.notBefore]);
  return { leaf, issuer: path[1]! };
}

test('happy-path-v0.3: the embedded SCT from ctfe.sigstore.dev/2022 verifies', () => {
  const { leaf, issuer } = leafAndIssuer('happy-path-v0.3');
  const scts = parseEmbeddedScts(leaf);
  assert.equal(scts.length, 1);
  assert.equal(scts[0]!.logId.toString('base64'), '3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4=');
  assert.equal(scts[0]!.extensions.length, 0);
  assert.equal(verifyEmbeddedScts(leaf, issuer, publicGood.ctlogs), 1);
});

test('bundle-with-sct-with-extensions: an SCT with non-empty CtExtensions (Static CT leaf index) verifies', () => {
  const { leaf, issuer } = leafAndIssuer('bundle-with-sct-with-extensions');
  const [sct] = parseEmbeddedScts(leaf);
  assert.ok(sct!.extensions.length > 0, 'the case carries SCT extensions');
  assert.equal(verifyEmbeddedScts(leaf, issuer, conformanceRoot('bundle-with-sct-with-extensions').ctlogs), 1);
});

test('invalid-ct-key_fail: the trusted root’s CT logs do not include the one that signed → SCT_INVALID', () => {
  const { leaf, issuer } = leafAndIssuer('invalid-ct-key_fail');
  assert.throws(() => verifyEmbeddedScts(leaf, issuer, conformanceRoot('invalid-ct-key_fail').ctlogs), isCode('SCT_INVALID', /not in the trusted root/));
});

test('a CT log key with the right logId but another key fails on the signature', () => {
  const { leaf, issuer } = leafAndIssuer('happy-path-v0.3');
  const real = publicGood.ctlogs[1]!;
  const impostor: CtLogKey = { ...real, publicKey: ecKey().publicKey };
  assert.throws(() => verifyEmbeddedScts(leaf, issuer, [impostor]), isCode('SCT_INVALID', /does not verify/));
});

test('CT log key validity window must cover the SCT timestamp', () => {
  const { leaf, issuer } = leafAndIssuer('happy-path-v0.3');
  const real = publicGood.ctlogs[1]!;
  const ts = parseEmbeddedScts(leaf)[0]!.timestamp;
  assert.throws(() => verifyEmbeddedScts(leaf, issuer, [{ ...real, validFor: { start: new Date(ts.getTime() + 1) } }]), isCode('SCT_INVALID', /outside the log key/));
  assert.throws(() => verifyEmbeddedScts(leaf, issuer, [{ ...real, validFor: { start: new Date(0), end: new Date(ts.getTime() - 1) } }]), isCode('SCT_INVALID'));
  assert.equal(verifyEmbeddedScts(leaf, issuer, [{ ...real, validFor: { start: new Date(0), end: ts } }]), 1, 'end is inclusive');
});

test('the issuer key hash binds the SCT: checking against another issuer fails', () => {
  const { leaf } = leafAndIssuer('happy-path-v0.3');
  const root = publicGood.cas[1]!.certChain[1]!;
  assert.throws(() => verifyEmbeddedScts(leaf, root, publicGood.ctlogs), isCode('SCT_INVALID', /does not verify/));
});

test('tampered SCT: changing the timestamp or the signature inside the certificate fails', () => {
  const { leaf, issuer } = leafAndIssuer('happy-path-v0.3');
  const sct = parseEmbeddedScts(leaf)[0]!;
  const at = leaf.der.indexOf(sct.logId) + 32; // the 8-byte timestamp follows the log id
  const ts = Buffer.from(leaf.der);
  ts[at + 7]! ^= 0x01;
  assert.throws(() => verifyEmbeddedScts(Certificate.fromDer(ts), issuer, publicGood.ctlogs), isCode('SCT_INVALID', /does not verify/));
  const sigAt = leaf.der.indexOf(sct.signature);
  const sig = Buffer.from(leaf.der);
  sig[sigAt + 10]! ^= 0x01;
  assert.throws(() => verifyEmbeddedScts(Certificate.fromDer(sig), issuer, publicGood.ctlogs), isCode('SCT_INVALID'));
});

test('precertificate TBS rebuild equals @peculiar/asn1-x509 removing the SCT extension and re-encoding', () => {
  for (const name of ['happy-path-v0.3', 'bundle-with-sct-with-extensions', 'happy-path-v0.1']) {
    const leaf = Certificate.fromDer(conformanceBundle(name).certs[0]!);
    const asn = AsnConvert.parse(leaf.der, AsnCertificate);
    const tbs = asn.tbsCertificate;
    tbs.extensions = new Extensions(tbs.extensions!.filter((e) => e.extnID !== SCT_OID));
    assert.deepEqual(leaf.tbsWithoutExtension(SCT_OID), Buffer.from(AsnConvert.serialize(tbs)), name);
  }
  assert.equal(Certificate.fromDer(publicGood.cas[1]!.certChain[0]!.der).tbsWithoutExtension(SCT_OID), undefined);
});

// Generated certificates with SCTs from logs the test owns.

function tlsSct(log: { key: KeyObject; id: Buffer }, timestampMs: number, extensions: Buffer, precertTbs: Buffer, issuerSpki: Buffer, alg: { hash: number; sig: number }): Buffer {
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(timestampMs));
  const signed = Buffer.concat([
    Buffer.from([0, 0]),
    ts,
    u16(1),
    createHash('sha256').update(issuerSpki).digest(),
    Buffer.from([precertTbs.length >> 16, (precertTbs.length >> 8) & 0xff, precertTbs.length & 0xff]),
    precertTbs,
    u16(extensions.length),
    extensions,
  ]);
  const sig = sign('sha256', signed, log.key);
  return Buffer.concat([Buffer.from([0]), log.id, ts, u16(extensions.length), extensions, Buffer.from([alg.hash, alg.sig]), u16(sig.length), sig]);
}

function sctListExtension(scts: Buffer[]): { oid: string; value: Buffer } {
  const items = scts.map((s) => Buffer.concat([Buffer.from([s.length >> 8, s.length & 0xff]), s]));
  const body = Buffer.concat(items);
  const list = Buffer.concat([Buffer.from([body.length >> 8, body.length & 0xff]), body]);
  return { oid: SCT_OID, value: encodeTlv(TAG.OCTET_STRING, list) };
}

function logKey(kind: 'ec' | 'rsa'): { key: KeyObject; pub: KeyObject; id: Buffer } {
  const kp = kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { key: kp.privateKey, pub: kp.publicKey, id: createHash('sha256').update(kp.publicKey.export({ type: 'spki', format: 'der' })).digest() };
}

function leafWithScts(makeScts: (precertTbs: Buffer, issuerSpki: Buffer) => Buffer[]): { leaf: Certificate; issuer: Certificate } {
  const c = fulcioLikeChain();
  const spec: CertSpec = { ...c.leafSpec };
  const precert = tbsFor(spec).tbs; // built directly without the extension, not by removing it
  const built = buildCert({ ...spec, last: [sctListExtension(makeScts(precert, c.intermediate.spki))] });
  return { leaf: Certificate.fromDer(built.der), issuer: Certificate.fromDer(c.intermediate.der) };
}

test('generated: ECDSA and RSA log SCTs verify, thresholds count distinct logs, unknown logs are skipped', () => {
  const ec = logKey('ec');
  const rsa = logKey('rsa');
  const stranger = logKey('ec');
  const t = T0.getTime() - 1000;
  const { leaf, issuer } = leafWithScts((tbs, spki) => [
    tlsSct({ key: ec.key, id: ec.id }, t, Buffer.alloc(0), tbs, spki, { hash: 4, sig: 3 }),
    tlsSct({ key: rsa.key, id: rsa.id }, t, Buffer.from('leaf-index'), tbs, spki, { hash: 4, sig: 1 }),
    tlsSct({ key: ec.key, id: ec.id }, t + 1, Buffer.alloc(0), tbs, spki, { hash: 4, sig: 3 }),
    tlsSct({ key: stranger.key, id: stranger.id }, t, Buffer.alloc(0), tbs, spki, { hash: 4, sig: 3 }),
  ]);
  const logs: CtLogKey[] = [
    { logId: ec.id, publicKey: ec.pub, validFor: { start: new Date(0) } },
    { logId: rsa.id, publicKey: rsa.pub, validFor: { start: new Date(0) } },
  ];
  assert.equal(parseEmbeddedScts(leaf).length, 4);
  assert.equal(verifyEmbeddedScts(leaf, issuer, logs, 2), 2, 'two SCTs from the same log count once');
  assert.throws(() => verifyEmbeddedScts(leaf, issuer, logs, 3), isCode('SCT_INVALID', /2 of 3/));
  assert.equal(verifyEmbeddedScts(leaf, issuer, logs.slice(0, 1)), 1);
});

test('generated: an SCT over a TBS that still holds the precertificate poison extension fails', () => {
  const ec = logKey('ec');
  const c = fulcioLikeChain();
  // RFC 6962 §3.2: the signed TBS has neither the poison (1.3.6.1.4.1.11129.2.4.3) nor the SCT list.
  const withPoison = tbsFor({ ...c.leafSpec, last: [{ oid: '1.3.6.1.4.1.11129.2.4.3', critical: true, value: Buffer.from([5, 0]) }] }).tbs;
  const built = buildCert({ ...c.leafSpec, last: [sctListExtension([tlsSct({ key: ec.key, id: ec.id }, T0.getTime(), Buffer.alloc(0), withPoison, c.intermediate.spki, { hash: 4, sig: 3 })])] });
  const leaf = Certificate.fromDer(built.der);
  assert.throws(
    () => verifyEmbeddedScts(leaf, Certificate.fromDer(c.intermediate.der), [{ logId: ec.id, publicKey: ec.pub, validFor: { start: new Date(0) } }]),
    isCode('SCT_INVALID', /does not verify/),
  );
});

test('no SCT extension: SCT_INVALID unless the threshold is 0', () => {
  const c = fulcioLikeChain();
  const leaf = Certificate.fromDer(c.leaf.der);
  assert.throws(() => verifyEmbeddedScts(leaf, Certificate.fromDer(c.intermediate.der), publicGood.ctlogs), isCode('SCT_INVALID', /no embedded SCT/));
  assert.equal(verifyEmbeddedScts(leaf, Certificate.fromDer(c.intermediate.der), publicGood.ctlogs, 0), 0);
});

test('malformed SCT lists are SCT_INVALID: truncations, trailing bytes, wrong version, empty list, unsupported algorithm', () => {
  const ec = logKey('ec');
  let good: Buffer = Buffer.alloc(0);
  leafWithScts((tbs, spki) => {
    good = tlsSct({ key: ec.key, id: ec.id }, T0.getTime(), Buffer.alloc(0), tbs, spki, { hash: 4, sig: 3 });
    return [good];
  });
  const c = fulcioLikeChain();
  const withExt = (value: Buffer) => Certificate.fromDer(buildCert({ ...c.leafSpec, last: [{ oid: SCT_OID, value }] }).der);
  const listOf = (raw: Buffer) => encodeTlv(TAG.OCTET_STRING, Buffer.concat([Buffer.from([raw.length >> 8, raw.length & 0xff]), raw]));
  const item = Buffer.concat([Buffer.from([good.length >> 8, good.length & 0xff]), good]);
  for (let n = 1; n < item.length; n++) {
    assert.throws(() => parseEmbeddedScts(withExt(listOf(item.subarray(0, n)))), isCode('SCT_INVALID'), `truncated at ${n}`);
  }
  assert.throws(() => parseEmbeddedScts(withExt(Buffer.concat([listOf(item)]).subarray(0, 3))), isCode('SCT_INVALID'));
  assert.throws(() => parseEmbeddedScts(withExt(encodeTlv(TAG.OCTET_STRING, Buffer.concat([Buffer.from([0, item.length]), item, Buffer.from([0])])))), /trailing/);
  assert.throws(() => parseEmbeddedScts(withExt(listOf(Buffer.alloc(0)))), /empty/);
  const v2 = Buffer.from(item);
  v2[2] = 1;
  assert.throws(() => parseEmbeddedScts(withExt(listOf(v2))), /version 1/);
  assert.throws(() => parseEmbeddedScts(withExt(Buffer.from([0x05, 0x00]))), isCode('SCT_INVALID'));
  // hash algorithm sha1 (2): parsed, but not accepted for verification
  const sha1 = Buffer.from(item);
  sha1[2 + 1 + 32 + 8 + 2] = 2;
  const leaf = withExt(listOf(sha1));
  assert.throws(
    () => verifyEmbeddedScts(leaf, Certificate.fromDer(c.intermediate.der), [{ logId: ec.id, publicKey: ec.pub, validFor: { start: new Date(0) } }]),
    isCode('SCT_INVALID', /unsupported algorithm/),
  );
});
