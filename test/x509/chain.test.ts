import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Certificate } from '../../src/x509/certificate.js';
import { verifyCertificateChain, windowContains, type CertificateAuthority } from '../../src/x509/chain.js';
import { SigilError } from '../../src/core/errors.js';
import { conformanceBundle, conformanceRoot, loadBundle, loadRoot, PUBLIC_GOOD } from './fixtures.js';
import { buildCert, ecKey, fulcioLikeChain, DAY, T0 } from './pki.js';

const isCode = (code: string, re?: RegExp) => (e: unknown) => e instanceof SigilError && e.code === code && (!re || re.test(e.message));
const publicGood = loadRoot(PUBLIC_GOOD);

function bundleCase(name: string): { leaf: Certificate; rest: Certificate[]; at: Date[] } {
  const b = conformanceBundle(name);
  const [leaf, ...rest] = b.certs.map((d) => Certificate.fromDer(d));
  return { leaf: leaf!, rest, at: b.integratedTimes };
}

test('happy-path-v0.3: Fulcio leaf chains to the 2022 public-good CA at the Rekor integrated time', () => {
  const { leaf, at } = bundleCase('happy-path-v0.3');
  const path = verifyCertificateChain(leaf, [], publicGood.cas, at);
  assert.equal(path.length, 3);
  assert.equal(path[0], leaf);
  assert.equal(path[1], publicGood.cas[1]!.certChain[0]);
  assert.equal(path[2], publicGood.cas[1]!.certChain[1]);
});

test('v0.1/v0.2 x509CertificateChain: leaf-only chains verify (happy-path-v0.1, happy-path-v0.2)', () => {
  for (const name of ['happy-path-v0.1', 'happy-path-v0.2']) {
    const { leaf, rest, at } = bundleCase(name);
    assert.equal(rest.length, 0);
    assert.equal(verifyCertificateChain(leaf, rest, publicGood.cas, at).length, 3, name);
  }
});

test('rule: a bundle chain containing a self-signed root is rejected (conformance bundle-with-root-cert_fail wins over sigstore-js bundleV01-full-cert-chain)', () => {
  // sigstore-conformance requires rejecting a bundle whose chain carries the root: trust anchors
  // must come from the trusted root, never from the bundle. sigstore-js's own CI accepts
  // bundleV01-full-cert-chain (leaf + intermediate + root); sigil follows conformance, so both fail.
  const c = bundleCase('bundle-with-root-cert_fail');
  assert.equal(c.rest.length, 2);
  assert.throws(() => verifyCertificateChain(c.leaf, c.rest, publicGood.cas, c.at), isCode('CERTIFICATE_CHAIN_INVALID', /self-signed root/));
  const js = loadBundle('sigstore-js/tests/bundles/bundleV01-full-cert-chain.sigstore');
  const [leaf, ...rest] = js.certs.map((d) => Certificate.fromDer(d));
  assert.throws(() => verifyCertificateChain(leaf!, rest, publicGood.cas, js.integratedTimes), isCode('CERTIFICATE_CHAIN_INVALID', /self-signed root/));
  // The same chain without its root is leaf + intermediate and verifies.
  const path = verifyCertificateChain(leaf!, rest.slice(0, 1), publicGood.cas, js.integratedTimes);
  assert.equal(path[1], publicGood.cas[1]!.certChain[0]);
});

test('bundle intermediates add no trust: one that is not the authority’s certificate at that position is rejected', () => {
  const { leaf, at } = bundleCase('happy-path-v0.3');
  // a real CA certificate, but not public-good Fulcio's intermediate
  const tsaIntermediate = publicGood.tsas[0]!.certChain[0]!;
  assert.throws(() => verifyCertificateChain(leaf, [tsaIntermediate], publicGood.cas, at), isCode('CERTIFICATE_CHAIN_INVALID', /bundle intermediate #1/));
});

test('bundle-from-wrong-instance_fail: a staging Fulcio leaf does not chain to the public-good root', () => {
  const { leaf, at } = bundleCase('bundle-from-wrong-instance_fail');
  assert.throws(() => verifyCertificateChain(leaf, [], publicGood.cas, at), isCode('CERTIFICATE_CHAIN_INVALID', /issuer name/));
});

test('intoto-with-custom-trust-root and bundle-with-sct-with-extensions verify against their own trusted roots', () => {
  for (const name of ['intoto-with-custom-trust-root', 'bundle-with-sct-with-extensions']) {
    const { leaf, rest, at } = bundleCase(name);
    const root = conformanceRoot(name);
    const times = at.length ? at : [leaf.notBefore];
    assert.ok(verifyCertificateChain(leaf, rest, root.cas, times).length >= 2, name);
  }
});

test('expired certificate: integrated-time-in-future_fail and intoto-set-outside-signing-cert-validity_fail are CERTIFICATE_EXPIRED', () => {
  for (const name of ['integrated-time-in-future_fail', 'intoto-set-outside-signing-cert-validity_fail', 'intoto-expired-certificate_fail']) {
    const { leaf, rest, at } = bundleCase(name);
    assert.throws(() => verifyCertificateChain(leaf, rest, conformanceRoot(name).cas, at), isCode('CERTIFICATE_EXPIRED'), name);
  }
});

test('validity bounds are inclusive at notBefore and notAfter, and every time in `at` must pass', () => {
  const { leaf } = bundleCase('happy-path-v0.3');
  const nb = leaf.notBefore;
  const na = leaf.notAfter;
  assert.equal(verifyCertificateChain(leaf, [], publicGood.cas, [nb, na]).length, 3);
  assert.throws(() => verifyCertificateChain(leaf, [], publicGood.cas, [new Date(nb.getTime() - 1)]), isCode('CERTIFICATE_EXPIRED'));
  assert.throws(() => verifyCertificateChain(leaf, [], publicGood.cas, [nb, new Date(na.getTime() + 1)]), isCode('CERTIFICATE_EXPIRED'));
  assert.throws(() => verifyCertificateChain(leaf, [], publicGood.cas, []), isCode('CERTIFICATE_CHAIN_INVALID', /no signing time/));
  assert.throws(() => verifyCertificateChain(leaf, [], [], [nb]), isCode('CERTIFICATE_CHAIN_INVALID'));
});

test('authority validFor: a time outside the CA’s trusted-root window fails even when the certificates are valid', () => {
  const { leaf, at } = bundleCase('happy-path-v0.3');
  const ca = publicGood.cas[1]!;
  const ended: CertificateAuthority = { certChain: ca.certChain, validFor: { start: ca.validFor.start, end: new Date(at[0]!.getTime() - 1000) } };
  assert.throws(() => verifyCertificateChain(leaf, [], [ended], at), isCode('CERTIFICATE_CHAIN_INVALID', /authority's validity/));
  const endsExactly: CertificateAuthority = { certChain: ca.certChain, validFor: { start: ca.validFor.start, end: at[0]! } };
  assert.equal(verifyCertificateChain(leaf, [], [endsExactly], at).length, 3, 'validFor end is inclusive');
  assert.ok(windowContains({ start: new Date(0) }, new Date(8.64e15)));
});

test('tampered leaf: a flipped signature byte or a changed SAN byte breaks the chain', () => {
  const { leaf, at } = bundleCase('happy-path-v0.3');
  const sigFlip = Buffer.from(leaf.der);
  sigFlip[sigFlip.length - 5]! ^= 0x01;
  assert.throws(() => verifyCertificateChain(Certificate.fromDer(sigFlip), [], publicGood.cas, at), isCode('CERTIFICATE_CHAIN_INVALID', /signature/));
  const sanFlip = Buffer.from(leaf.der);
  const i = sanFlip.indexOf('extremely-dangerous');
  sanFlip[i] = 'E'.charCodeAt(0);
  const tampered = Certificate.fromDer(sanFlip);
  assert.match(tampered.subjectAlternativeNames()[0]!.value, /Extremely-dangerous/);
  assert.throws(() => verifyCertificateChain(tampered, [], publicGood.cas, at), isCode('CERTIFICATE_CHAIN_INVALID', /signature/));
});

test('swapped certificates: a CA certificate as the signing certificate, and a TSA leaf under Fulcio, are rejected', () => {
  const inter = publicGood.cas[1]!.certChain[0]!;
  assert.throws(() => verifyCertificateChain(inter, [], publicGood.cas, [new Date('2024-01-01T00:00:00Z')]), isCode('CERTIFICATE_CHAIN_INVALID', /CA certificate/));
  const tsaLeaf = publicGood.tsas[0]!.certChain[0]!;
  assert.throws(() => verifyCertificateChain(tsaLeaf, [], publicGood.cas, [new Date('2025-08-01T00:00:00Z')]), isCode('CERTIFICATE_CHAIN_INVALID'));
});

// Generated PKI: cases the corpus does not contain.

function authority(root: { der: Buffer }, intermediate: { der: Buffer }, validFor = { start: new Date(0) }): CertificateAuthority {
  return { certChain: [Certificate.fromDer(intermediate.der), Certificate.fromDer(root.der)], validFor };
}

test('generated chain: root → intermediate → leaf verifies; EKU, keyUsage, CA flag and critical extensions are enforced on the leaf', () => {
  const ok = fulcioLikeChain();
  assert.equal(verifyCertificateChain(Certificate.fromDer(ok.leaf.der), [], [authority(ok.root, ok.intermediate)], [T0]).length, 3);

  const serverAuth = fulcioLikeChain({ leaf: { eku: ['1.3.6.1.5.5.7.3.1'] } });
  assert.throws(() => verifyCertificateChain(Certificate.fromDer(serverAuth.leaf.der), [], [authority(serverAuth.root, serverAuth.intermediate)], [T0]), /extendedKeyUsage/);

  const noEku = fulcioLikeChain({ leaf: { eku: undefined } });
  const noEkuLeaf = Certificate.fromDer(noEku.leaf.der);
  assert.equal(verifyCertificateChain(noEkuLeaf, [], [authority(noEku.root, noEku.intermediate)], [T0]).length, 3, 'EKU absent: allowed by default');
  assert.throws(
    () => verifyCertificateChain(noEkuLeaf, [], [authority(noEku.root, noEku.intermediate)], [T0], { extKeyUsage: '1.3.6.1.5.5.7.3.8', requireExtKeyUsage: true }),
    /extendedKeyUsage/,
  );

  const keyEnc = fulcioLikeChain({ leaf: { keyUsage: [2] } });
  assert.throws(() => verifyCertificateChain(Certificate.fromDer(keyEnc.leaf.der), [], [authority(keyEnc.root, keyEnc.intermediate)], [T0]), /digitalSignature/);

  const caLeaf = fulcioLikeChain({ leaf: { ca: {} } });
  assert.throws(() => verifyCertificateChain(Certificate.fromDer(caLeaf.leaf.der), [], [authority(caLeaf.root, caLeaf.intermediate)], [T0]), /CA certificate/);

  const poison = fulcioLikeChain({ leaf: { extra: [{ oid: '1.3.6.1.4.1.11129.2.4.3', critical: true, value: Buffer.from([5, 0]) }] } });
  assert.throws(() => verifyCertificateChain(Certificate.fromDer(poison.leaf.der), [], [authority(poison.root, poison.intermediate)], [T0]), /critical extensions 1\.3\.6\.1\.4\.1\.11129\.2\.4\.3/);
});

test('generated chain: issuer constraints — not a CA, no keyCertSign, path length exceeded, unknown critical extension', () => {
  const notCa = fulcioLikeChain({ intermediate: { ca: false } });
  assert.throws(() => verifyCertificateChain(Certificate.fromDer(notCa.leaf.der), [], [authority(notCa.root, notCa.intermediate)], [T0]), /not a CA/);

  const noCertSign = fulcioLikeChain({ intermediate: { keyUsage: [0] } });
  assert.throws(() => verifyCertificateChain(Certificate.fromDer(noCertSign.leaf.der), [], [authority(noCertSign.root, noCertSign.intermediate)], [T0]), /keyCertSign/);

  const rootPath0 = fulcioLikeChain({ root: { ca: { pathLen: 0 } } });
  assert.throws(() => verifyCertificateChain(Certificate.fromDer(rootPath0.leaf.der), [], [authority(rootPath0.root, rootPath0.intermediate)], [T0]), /allows 0 intermediate/);

  const crit = fulcioLikeChain({ intermediate: { extra: [{ oid: '2.5.29.30', critical: true, value: Buffer.from([0x30, 0]) }] } });
  assert.throws(() => verifyCertificateChain(Certificate.fromDer(crit.leaf.der), [], [authority(crit.root, crit.intermediate)], [T0]), /unsupported critical/);
});

test('generated chain: wrong CA (same names, different keys) fails on the signature, and an expired intermediate is CERTIFICATE_EXPIRED', () => {
  const a = fulcioLikeChain();
  const b = fulcioLikeChain();
  // b's intermediate has the same subject name as a's but another key; key identifiers differ too
  assert.throws(() => verifyCertificateChain(Certificate.fromDer(a.leaf.der), [], [authority(b.root, b.intermediate)], [T0]), isCode('CERTIFICATE_CHAIN_INVALID'));

  const expiredInter = fulcioLikeChain({ intermediate: { notAfter: new Date(T0.getTime() + 60_000) } });
  const leaf = Certificate.fromDer(expiredInter.leaf.der);
  const ca = authority(expiredInter.root, expiredInter.intermediate);
  assert.equal(verifyCertificateChain(leaf, [], [ca], [T0]).length, 3);
  assert.throws(() => verifyCertificateChain(leaf, [], [ca], [new Date(T0.getTime() + 120_000)]), isCode('CERTIFICATE_EXPIRED', /certificate #2/));
});

test('generated chain: the first authority that fails does not hide a later one that verifies', () => {
  const a = fulcioLikeChain();
  const b = fulcioLikeChain();
  const path = verifyCertificateChain(Certificate.fromDer(a.leaf.der), [], [authority(b.root, b.intermediate), authority(a.root, a.intermediate)], [T0]);
  assert.ok(path[1]!.der.equals(a.intermediate.der));
});

test('generated chain: a self-signed leaf is rejected, and a leaf issued directly by the root of a two-certificate authority verifies', () => {
  const key = ecKey();
  const self = Certificate.fromDer(buildCert({ subject: 'self', key, notBefore: T0, notAfter: new Date(T0.getTime() + DAY), keyUsage: [0] }).der);
  const c = fulcioLikeChain();
  assert.throws(() => verifyCertificateChain(self, [], [authority(c.root, c.intermediate)], [T0]), /self-signed/);
  const direct = buildCert({ ...c.leafSpec, issuer: { cert: c.root, key: c.keys.root } });
  assert.equal(verifyCertificateChain(Certificate.fromDer(direct.der), [], [authority(c.root, c.intermediate)], [T0]).length, 2);
});
