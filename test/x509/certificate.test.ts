import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { Certificate, KEY_USAGE } from '../../src/x509/certificate.js';
import { FULCIO_EXTENSIONS, parseFulcioExtensions } from '../../src/x509/fulcio.js';
import { SigilError } from '../../src/core/errors.js';
import { encodeOid, encodeTlv, TAG } from '../../src/core/der.js';
import { encodePem } from '../../src/core/pem.js';
import { corpusPath } from '../helpers/paths.js';
import { conformanceBundle, loadBundle, loadRoot, PUBLIC_GOOD } from './fixtures.js';
import { buildCert, ecKey, fulcioLikeChain, T0, DAY } from './pki.js';

const isCode = (code: string) => (e: unknown) => e instanceof SigilError && e.code === code;

/** Every certificate in the corpus: bundle leaves and chains, trusted-root CAs and TSAs. */
function corpusCertificates(): { where: string; der: Buffer }[] {
  const out: { where: string; der: Buffer }[] = [];
  const dir = corpusPath('sigstore-conformance/bundle-verify');
  for (const name of readdirSync(dir)) {
    if (!existsSync(`${dir}/${name}/bundle.sigstore.json`) || name === 'bundle-malformed-json_fail') continue;
    conformanceBundle(name).certs.forEach((der, i) => out.push({ where: `${name} #${i}`, der }));
    if (existsSync(`${dir}/${name}/trusted_root.json`)) {
      const raw = JSON.parse(readFileSync(`${dir}/${name}/trusted_root.json`, 'utf8')) as {
        certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
        timestampAuthorities?: { certChain: { certificates: { rawBytes: string }[] } }[];
      };
      for (const ca of [...raw.certificateAuthorities, ...(raw.timestampAuthorities ?? [])]) {
        ca.certChain.certificates.forEach((c, i) => out.push({ where: `${name} root #${i}`, der: Buffer.from(c.rawBytes, 'base64') }));
      }
    }
  }
  for (const f of readdirSync(corpusPath('sigstore-js/tests/bundles'))) {
    loadBundle(`sigstore-js/tests/bundles/${f}`).certs.forEach((der, i) => out.push({ where: `${f} #${i}`, der }));
  }
  return out;
}

test('every corpus certificate parses and agrees with OpenSSL on validity, serial, CA flag, key and SANs', () => {
  const certs = corpusCertificates();
  assert.ok(certs.length > 100, `found ${certs.length} certificates`);
  for (const { where, der } of certs) {
    const c = Certificate.fromDer(der);
    const o = new X509Certificate(der);
    assert.equal(c.notBefore.getTime(), new Date(o.validFrom).getTime(), where);
    assert.equal(c.notAfter.getTime(), new Date(o.validTo).getTime(), where);
    assert.equal(c.serialHex.toUpperCase().replace(/^0+/, ''), o.serialNumber.replace(/^0+/, ''), where);
    assert.equal(c.isCA, o.ca, where);
    assert.ok(c.publicKey.equals(o.publicKey), where);
    assert.equal(c.isSelfIssued, o.subject === o.issuer, where);
    const uris = c.subjectAlternativeNames().filter((s) => s.type === 'uri').map((s) => `URI:${s.value}`);
    const emails = c.subjectAlternativeNames().filter((s) => s.type === 'email').map((s) => `email:${s.value}`);
    for (const s of [...uris, ...emails]) assert.ok(o.subjectAltName?.includes(s), `${where}: ${s} not in ${o.subjectAltName}`);
    if (c.isSelfIssued) assert.ok(c.verifySignedBy(c), `${where}: root self-signature`);
  }
});

test('happy-path-v0.3 Fulcio leaf: fields, key usage, SAN and every Fulcio extension by name', () => {
  const leaf = Certificate.fromDer(conformanceBundle('happy-path-v0.3').certs[0]!);
  assert.equal(leaf.version, 3);
  assert.equal(leaf.serialHex, '68bfedb264131e4db59add54ba4fb0edabc3073e');
  assert.equal(leaf.notBefore.toISOString(), '2024-03-19T17:26:26.000Z');
  assert.equal(leaf.notAfter.toISOString(), '2024-03-19T17:36:26.000Z');
  assert.equal(leaf.signatureAlgorithm.name, 'ecdsa-with-SHA384');
  assert.equal(leaf.isCA, false);
  assert.equal(leaf.keyUsage, KEY_USAGE.digitalSignature);
  assert.deepEqual(leaf.extKeyUsage, ['1.3.6.1.5.5.7.3.3']);
  assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const wf = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
  assert.deepEqual(leaf.subjectAlternativeNames(), [{ type: 'uri', value: wf }]);
  const f = leaf.fulcio();
  assert.equal(f.issuer, 'https://token.actions.githubusercontent.com');
  assert.equal(f.issuerV1, 'https://token.actions.githubusercontent.com');
  assert.equal(f.issuerV2, 'https://token.actions.githubusercontent.com');
  assert.equal(f.githubWorkflowTrigger, 'workflow_dispatch');
  assert.equal(f.githubWorkflowSha, 'c7b3dfb335f051e1c86bda4c716fac97df62ad81');
  assert.equal(f.githubWorkflowName, 'Extremely dangerous OIDC beacon');
  assert.equal(f.githubWorkflowRepository, 'sigstore-conformance/extremely-dangerous-public-oidc-beacon');
  assert.equal(f.githubWorkflowRef, 'refs/heads/main');
  assert.equal(f.buildSignerUri, wf);
  assert.equal(f.buildSignerDigest, 'c7b3dfb335f051e1c86bda4c716fac97df62ad81');
  assert.equal(f.runnerEnvironment, 'github-hosted');
  assert.equal(f.sourceRepositoryUri, 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon');
  assert.equal(f.sourceRepositoryDigest, 'c7b3dfb335f051e1c86bda4c716fac97df62ad81');
  assert.equal(f.sourceRepositoryRef, 'refs/heads/main');
  assert.equal(f.sourceRepositoryIdentifier, '632596897');
  assert.equal(f.sourceRepositoryOwnerUri, 'https://github.com/sigstore-conformance');
  assert.equal(f.sourceRepositoryOwnerIdentifier, '131804563');
  assert.equal(f.buildConfigUri, wf);
  assert.equal(f.buildConfigDigest, 'c7b3dfb335f051e1c86bda4c716fac97df62ad81');
  assert.equal(f.buildTrigger, 'workflow_dispatch');
  assert.equal(f.runInvocationUri, 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/actions/runs/8347481628/attempts/1');
  assert.equal(f.sourceRepositoryVisibilityAtSigning, 'public');
  assert.equal(f.deploymentEnvironment, undefined);
  // Mutating a returned object must not change the certificate's view.
  f.issuer = 'https://evil.example';
  assert.equal(leaf.fulcio().issuer, 'https://token.actions.githubusercontent.com');
});

test('sigstore-js bundleV03-dsse leaf: email SAN and Fulcio issuer from a 2023 OAuth certificate', () => {
  const leaf = Certificate.fromDer(loadBundle('sigstore-js/tests/bundles/bundleV03-dsse.sigstore').certs[0]!);
  assert.deepEqual(leaf.subjectAlternativeNames(), [{ type: 'email', value: 'brian@dehamer.com' }]);
  assert.equal(leaf.fulcio().issuer, 'https://github.com/login/oauth');
  assert.equal(leaf.fulcio().buildSignerUri, undefined);
  assert.equal(leaf.subjectKeyId?.toString('hex'), '8cb9055e77a4d80f4f76740aa88dd7349288e374');
  assert.equal(leaf.authorityKeyId?.toString('hex'), 'dfd3e9cf56241196f9a8d8e92855a2c62e18643f');
});

test('Fulcio OID table covers 1.3.6.1.4.1.57264.1.1–.23 except .7 (a SAN otherName, not an extension)', () => {
  const arcs = Object.values(FULCIO_EXTENSIONS).map(([oid]) => Number(oid.split('.').pop()));
  assert.deepEqual(arcs.sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
});

test('Fulcio extensions: raw .1–.6 versus DER UTF8String .8+, disagreeing issuers and bad encodings are refused', () => {
  const utf8 = (s: string) => encodeTlv(TAG.UTF8_STRING, Buffer.from(s));
  const ext = (oid: string, value: Buffer) => ({ oid, critical: false, value, tlv: { tag: 0x30, start: 0, valueStart: 0, end: 0 } });
  const ok = parseFulcioExtensions([ext('1.3.6.1.4.1.57264.1.1', Buffer.from('https://a')), ext('1.3.6.1.4.1.57264.1.8', utf8('https://a'))]);
  assert.equal(ok.issuer, 'https://a');
  assert.equal(parseFulcioExtensions([ext('1.3.6.1.4.1.57264.1.8', utf8('https://v2'))]).issuer, 'https://v2');
  assert.equal(parseFulcioExtensions([ext('1.3.6.1.4.1.57264.1.1', Buffer.from('https://v1'))]).issuer, 'https://v1');
  assert.throws(
    () => parseFulcioExtensions([ext('1.3.6.1.4.1.57264.1.1', Buffer.from('https://a')), ext('1.3.6.1.4.1.57264.1.8', utf8('https://b'))]),
    isCode('CERTIFICATE_MALFORMED'),
  );
  // .9 written raw (without the UTF8String wrapper) is malformed
  assert.throws(() => parseFulcioExtensions([ext('1.3.6.1.4.1.57264.1.9', Buffer.from('https://x'))]), isCode('CERTIFICATE_MALFORMED'));
  // .12 as a PrintableString instead of UTF8String
  assert.throws(() => parseFulcioExtensions([ext('1.3.6.1.4.1.57264.1.12', encodeTlv(TAG.PRINTABLE_STRING, Buffer.from('x')))]), /tag/);
  assert.throws(() => parseFulcioExtensions([ext('1.3.6.1.4.1.57264.1.1', Buffer.from([0xc3, 0x28]))]), /UTF-8/);
});

test('SAN otherName (Fulcio username, 1.3.6.1.4.1.57264.1.7), DNS and several names in one certificate', () => {
  const c = Certificate.fromDer(
    buildCert({
      subject: 'u',
      key: ecKey(),
      notBefore: T0,
      notAfter: new Date(T0.getTime() + DAY),
      sans: [{ otherName: { oid: '1.3.6.1.4.1.57264.1.7', utf8: 'alice!example.com' } }, { dns: 'example.com' }, { email: 'a@example.com' }, { uri: 'spiffe://x/y' }],
    }).der,
  );
  assert.deepEqual(c.subjectAlternativeNames(), [
    { type: 'otherName', oid: '1.3.6.1.4.1.57264.1.7', value: 'alice!example.com' },
    { type: 'dns', value: 'example.com' },
    { type: 'email', value: 'a@example.com' },
    { type: 'uri', value: 'spiffe://x/y' },
  ]);
});

test('fromPem / fromPemAll read PEM chains; a PEM without a certificate is CERTIFICATE_MALFORMED', () => {
  const root = loadRoot(PUBLIC_GOOD);
  const chain = root.cas[1]!.certChain;
  const pem = chain.map((c) => encodePem('CERTIFICATE', c.der)).join('');
  const all = Certificate.fromPemAll(pem);
  assert.equal(all.length, 2);
  assert.equal(all[0], chain[0], 'the DER cache returns the same object');
  assert.equal(Certificate.fromPem(pem).der.equals(chain[0]!.der), true);
  assert.throws(() => Certificate.fromPem(encodePem('PUBLIC KEY', Buffer.from([1]))), isCode('CERTIFICATE_MALFORMED'));
});

test('x509 getter exposes OpenSSL’s view; the cache returns one object per DER', () => {
  const der = conformanceBundle('happy-path-v0.2').certs[0]!;
  const a = Certificate.fromDer(der);
  const b = Certificate.fromDer(Buffer.from(der));
  assert.equal(a, b);
  assert.equal(a.x509.issuer, 'O=sigstore.dev\nCN=sigstore-intermediate');
});

test('malformed DER: every truncation of a real certificate and trailing bytes are CERTIFICATE_MALFORMED', () => {
  const der = conformanceBundle('happy-path-v0.3').certs[0]!;
  for (let n = 0; n < der.length; n++) {
    assert.throws(() => Certificate.fromDer(der.subarray(0, n)), isCode('CERTIFICATE_MALFORMED'), `prefix ${n}`);
  }
  assert.throws(() => Certificate.fromDer(Buffer.concat([der, Buffer.from([0])])), /trailing/);
  assert.throws(() => Certificate.fromDer(Buffer.from('not a certificate')), isCode('CERTIFICATE_MALFORMED'));
  assert.throws(() => Certificate.fromDer(Buffer.alloc(0)), isCode('CERTIFICATE_MALFORMED'));
});

test('malformed DER: single-byte corruptions either parse or fail with CERTIFICATE_MALFORMED, never a crash', () => {
  const der = conformanceBundle('happy-path-v0.3').certs[0]!;
  let failed = 0;
  for (let i = 0; i < der.length; i++) {
    for (const x of [0x01, 0x80, 0xff]) {
      const bad = Buffer.from(der);
      bad[i]! ^= x;
      try {
        const c = Certificate.fromDer(bad);
        c.subjectAlternativeNames();
        c.fulcio();
      } catch (e) {
        assert.ok(e instanceof SigilError && e.code === 'CERTIFICATE_MALFORMED', `byte ${i} ^ ${x}: ${String(e)}`);
        failed++;
      }
    }
  }
  assert.ok(failed > der.length / 2, `${failed} corruptions rejected`);
});

test('structural rules: inner/outer algorithm mismatch, duplicate extension, SHA-1 signature, ECDSA with parameters', () => {
  const der = conformanceBundle('happy-path-v0.3').certs[0]!;
  // outer signatureAlgorithm ecdsa-with-SHA384 (…04 03 03) → SHA256 (…04 03 02), TBS keeps SHA384
  const outerAlg = Buffer.from('300a06082a8648ce3d040303', 'hex');
  const pos = der.lastIndexOf(outerAlg);
  const relabeled = Buffer.from(der);
  relabeled[pos + outerAlg.length - 1] = 0x02;
  assert.throws(() => Certificate.fromDer(relabeled), /differs from signatureAlgorithm/);

  const key = ecKey();
  const base = { subject: 'x', key, notBefore: T0, notAfter: new Date(T0.getTime() + DAY) };
  const dup = { oid: '1.3.6.1.4.1.57264.1.8', value: encodeTlv(TAG.UTF8_STRING, Buffer.from('https://a')) };
  assert.throws(() => Certificate.fromDer(buildCert({ ...base, extra: [dup, dup] }, { opensslCheck: false }).der), /appears twice/);

  // sha1WithRSAEncryption: refused as unsupported (SHA-1 is not collision resistant)
  const sha1Alg = encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.OID, encodeOid('1.2.840.113549.1.1.5')), Buffer.from([5, 0]));
  assert.throws(() => Certificate.fromDer(buildCert({ ...base, sigAlg: sha1Alg }, { opensslCheck: false }).der), /not supported/);
  // ECDSA with NULL parameters (RFC 5758 §3.2: must be absent)
  const ecNull = encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.OID, encodeOid('1.2.840.10045.4.3.2')), Buffer.from([5, 0]));
  assert.throws(() => Certificate.fromDer(buildCert({ ...base, sigAlg: ecNull }, { opensslCheck: false }).der), /unexpected parameters/);
});

test('public keys: P-256/P-384 imported through JWK equal OpenSSL’s SPKI import; an off-curve point is CERTIFICATE_MALFORMED', () => {
  const leaf = Certificate.fromDer(conformanceBundle('happy-path-v0.3').certs[0]!);
  const p384 = loadRoot(PUBLIC_GOOD).cas[1]!.certChain[0]!;
  for (const c of [leaf, p384]) assert.ok(c.publicKey.equals(new X509Certificate(c.der).publicKey));
  assert.equal(p384.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
  const bad = Buffer.from(leaf.der);
  const at = bad.indexOf(leaf.spki) + leaf.spki.length - 1;
  bad[at]! ^= 0x01;
  const off = Certificate.fromDer(bad, { cache: false });
  assert.throws(() => off.publicKey, isCode('CERTIFICATE_MALFORMED'));
});

test('unknown critical extensions are recorded; known ones are not', () => {
  const { leaf } = fulcioLikeChain({ leaf: { extra: [{ oid: '1.2.3.4', critical: true, value: Buffer.from([5, 0]) }] } });
  const c = Certificate.fromDer(leaf.der);
  assert.deepEqual(c.unhandledCriticalExtensions, ['1.2.3.4']);
  const { intermediate } = fulcioLikeChain();
  assert.deepEqual(Certificate.fromDer(intermediate.der).unhandledCriticalExtensions, []);
  assert.equal(Certificate.fromDer(intermediate.der).basicConstraints?.pathLenConstraint, 0);
  assert.equal(Certificate.fromDer(intermediate.der).hasKeyUsage(KEY_USAGE.keyCertSign), true);
});
