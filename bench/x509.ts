/**
 * X.509 layer micro-benchmark: what one Sigstore bundle costs in certificate work.
 *
 * `npm run bench -- x509 [seconds-per-case]` (default 2).
 *
 * Cold cases use 1,000 distinct leaves shaped like Fulcio's (P-256 leaf key, signed
 * ecdsa-with-SHA384 by a P-384 intermediate under a P-384 root), so neither sigil's DER cache nor
 * its signature cache can hit. Baseline: raw node:crypto on the same certificates in the same
 * process — `new X509Certificate(der)`, `.verify(intermediateKeyObject)` (key decoded once) and
 * `.publicKey`, which is the least any verifier must do per bundle. sigil's chain check adds the
 * constraint, name, key-id and time checks on top and validates the authority's own links from
 * its cache. Warm cases repeat one real public-good bundle (happy-path-v0.3), as a long-running
 * verifier sees the same certificate again.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { Certificate } from '../src/x509/certificate.js';
import { verifyCertificateChain, type CertificateAuthority } from '../src/x509/chain.js';
import { verifyEmbeddedScts, type CtLogKey } from '../src/x509/sct.js';
import { verifyTimestampToken } from '../src/x509/rfc3161.js';
import { buildCert, ecKey, DAY, T0 } from '../test/x509/pki.js';
import { conformanceBundle, conformanceRoot, loadRoot, PUBLIC_GOOD } from '../test/x509/fixtures.js';

let counter = 0;

function measure(name: string, seconds: number, fn: (i: number) => void): number {
  // One index across warm-ups, runs and cases, so cold cases keep cycling through distinct certificates.
  let i = counter;
  const warm = i + 200;
  while (i < warm) fn(i++);
  const deadline = performance.now() + seconds * 1000;
  const first = i;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let k = 0; k < 50; k++) fn(i++);
  }
  const rate = (i - first) / ((performance.now() - start) / 1000);
  counter = i;
  console.log(`${name.padEnd(78)} ${Math.round(rate).toLocaleString('en-US').padStart(9)} /s  ${(1e6 / rate).toFixed(1).padStart(7)} µs`);
  return rate;
}

function ratio(name: string, value: number, baseline: number): void {
  console.log(`  ${name}: ${(value / baseline).toFixed(2)}x`);
}

export default function run(args: string[]): void {
  const seconds = Number(args[0] ?? 2);

  // A Fulcio-shaped PKI with 1,000 distinct leaves.
  const rootKey = ecKey('P-384');
  const interKey = ecKey('P-384');
  const root = buildCert({ subject: 'bench root', key: rootKey, notBefore: new Date(T0.getTime() - 365 * DAY), notAfter: new Date(T0.getTime() + 3650 * DAY), ca: { pathLen: 1 }, keyUsage: [5, 6], hash: 'sha384' });
  const inter = buildCert({
    subject: 'bench intermediate',
    key: interKey,
    issuer: { cert: root, key: rootKey },
    notBefore: new Date(T0.getTime() - 30 * DAY),
    notAfter: new Date(T0.getTime() + 365 * DAY),
    ca: { pathLen: 0 },
    keyUsage: [5, 6],
    eku: ['1.3.6.1.5.5.7.3.3'],
    hash: 'sha384',
  });
  const leaves: Buffer[] = [];
  for (let i = 0; i < 1000; i++) {
    leaves.push(
      buildCert({
        subject: '',
        key: ecKey('P-256'),
        issuer: { cert: inter, key: interKey },
        notBefore: T0,
        notAfter: new Date(T0.getTime() + 600_000),
        serial: 1000 + i,
        keyUsage: [0],
        eku: ['1.3.6.1.5.5.7.3.3'],
        sans: [{ uri: `https://github.com/example/repo-${i}/.github/workflows/release.yml@refs/heads/main` }],
        extra: [{ oid: '1.3.6.1.4.1.57264.1.8', value: Buffer.from([0x0c, 0x2b, ...Buffer.from('https://token.actions.githubusercontent.com')]) }],
        hash: 'sha384',
      }).der,
    );
  }
  const ca: CertificateAuthority = { certChain: [Certificate.fromDer(inter.der), Certificate.fromDer(root.der)], validFor: { start: new Date(0) } };
  const interKeyObject: KeyObject = new X509Certificate(inter.der).publicKey;
  const at = [new Date(T0.getTime() + 60_000)];
  const pick = (i: number) => leaves[i % leaves.length]!;

  console.log(`x509 bench: ${seconds} s per case; cold = 1,000 distinct Fulcio-shaped leaves (P-256 key, ecdsa-with-SHA384 by a P-384 CA)\n`);
  const parseRaw = measure('baseline parse: new X509Certificate(der).publicKey', seconds, (i) => void new X509Certificate(pick(i)).publicKey);
  const parseSigil = measure('sigil parse: Certificate DER walk (fromDer, cache missing) + .publicKey', seconds, (i) => void fromDerUncached(pick(i)).publicKey);
  const walkOnly = measure('sigil parse: DER walk only, no key decode', seconds, (i) => void fromDerUncached(pick(i)));
  ratio('sigil parse+key vs baseline', parseSigil, parseRaw);
  ratio('DER walk alone vs baseline parse', walkOnly, parseRaw);
  const rawChain = measure('baseline chain: X509Certificate(der) + .verify(intermediate key) + .publicKey', seconds, (i) => {
    const c = new X509Certificate(pick(i));
    if (!c.verify(interKeyObject)) throw new Error('verify failed');
    void c.publicKey;
  });
  const sigilChain = measure('sigil chain: fromDer + verifyCertificateChain(at signing time) + .publicKey', seconds, (i) => {
    const c = fromDerUncached(pick(i));
    verifyCertificateChain(c, [], [ca], at);
    void c.publicKey;
  });
  ratio('sigil chain vs baseline', sigilChain, rawChain);

  // Real public-good material, warm: the same bundle verified again.
  const pg = loadRoot(PUBLIC_GOOD);
  const hp = conformanceBundle('happy-path-v0.3');
  const leafDer = hp.certs[0]!;
  const times = hp.integratedTimes;
  console.log('\nreal public-good bundle (happy-path-v0.3), repeated:');
  const warmChain = measure('sigil chain, warm (parse and leaf signature cached by DER)', seconds, () => {
    verifyCertificateChain(Certificate.fromDer(leafDer), [], pg.cas, times);
  });
  const leaf = Certificate.fromDer(leafDer);
  const issuer = pg.cas[1]!.certChain[0]!;
  const ctlogs: CtLogKey[] = pg.ctlogs;
  const sct = measure('verifyEmbeddedScts (TBS rebuild + one P-256 verify, not cached)', seconds, () => void verifyEmbeddedScts(leaf, issuer, ctlogs));
  const fulcio = measure('fulcio() + subjectAlternativeNames()', seconds, () => {
    leaf.fulcio();
    leaf.subjectAlternativeNames();
  });
  const rawLeafVerify = new X509Certificate(leafDer);
  const interPg = new X509Certificate(issuer.der).publicKey;
  const rawWarm = measure('baseline: X509Certificate.verify(intermediate key) on the same leaf', seconds, () => void rawLeafVerify.verify(interPg));
  ratio('warm sigil chain vs one raw verify', warmChain, rawWarm);

  const r2 = conformanceBundle('rekor2-happy-path');
  const r2tsas = conformanceRoot('rekor2-happy-path').tsas;
  const tsa = measure('verifyTimestampToken (rekor2-happy-path: parse, imprint, P-384 TSA signature)', seconds, () => void verifyTimestampToken(r2.timestamps[0]!, r2.signature!, r2tsas));

  console.log('\nper-bundle budget at 700 bundles/s = 1,429 µs; x509 share, cold leaf + SCT (+ TSA for Rekor v2):');
  const coldUs = 1e6 / sigilChain + 1e6 / sct + 1e6 / fulcio;
  console.log(`  chain + SCT + identity: ${coldUs.toFixed(0)} µs; with RFC 3161: ${(coldUs + 1e6 / tsa).toFixed(0)} µs`);
}

/** Parses without the DER cache, so every iteration pays the full parse and signature check. */
function fromDerUncached(der: Buffer): Certificate {
  return Certificate.fromDer(der, { cache: false });
}
