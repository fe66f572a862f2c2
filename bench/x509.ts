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

/** Runs `fn` for `ms` milliseconds (in batches of 20); returns [calls, elapsed ms]. */
function slice(fn: (i: number) => void, ms: number): [number, number] {
  // One index across warm-ups, runs and cases, so cold cases keep cycling through distinct certificates.
  let i = counter;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let k = 0; k < 20; k++) fn(i++);
    now = performance.now();
  }
  const calls = i - counter;
  counter = i;
  return [calls, now - start];
}

function line(name: string, rate: number): void {
  console.log(`${name.padEnd(80)} ${Math.round(rate).toLocaleString('en-US').padStart(9)} /s  ${(1e6 / rate).toFixed(1).padStart(7)} µs`);
}

function measure(name: string, seconds: number, fn: (i: number) => void): number {
  slice(fn, 100);
  const [n, ms] = slice(fn, seconds * 1000);
  const rate = n / (ms / 1000);
  line(name, rate);
  return rate;
}

/**
 * Baseline and candidate alternate in 100 ms slices for `seconds` each, so both see the same
 * machine load: this host is shared, and back-to-back runs drift by ±40 % while the interleaved
 * ratio stays within a few percent.
 */
function compare(seconds: number, base: [string, (i: number) => void], cand: [string, (i: number) => void]): void {
  slice(base[1], 100);
  slice(cand[1], 100);
  const tot = { b: [0, 0], c: [0, 0] };
  for (let t = 0; t < seconds * 10; t++) {
    const [bn, bms] = slice(base[1], 100);
    const [cn, cms] = slice(cand[1], 100);
    tot.b[0]! += bn;
    tot.b[1]! += bms;
    tot.c[0]! += cn;
    tot.c[1]! += cms;
  }
  const br = tot.b[0]! / (tot.b[1]! / 1000);
  const cr = tot.c[0]! / (tot.c[1]! / 1000);
  line(base[0], br);
  line(cand[0], cr);
  console.log(`  ratio: ${(cr / br).toFixed(2)}x`);
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
  compare(
    seconds,
    ['baseline parse: new X509Certificate(der).publicKey', (i) => void new X509Certificate(pick(i)).publicKey],
    ['sigil parse: Certificate.fromDer(der, { cache: false }).publicKey', (i) => void fromDerUncached(pick(i)).publicKey],
  );
  measure('sigil parse: DER walk only, no key decode', seconds, (i) => void fromDerUncached(pick(i)));
  compare(
    seconds,
    [
      'baseline chain: X509Certificate(der) + .verify(intermediate key) + .publicKey',
      (i) => {
        const c = new X509Certificate(pick(i));
        if (!c.verify(interKeyObject)) throw new Error('verify failed');
        void c.publicKey;
      },
    ],
    [
      'sigil chain: fromDer + verifyCertificateChain(at signing time) + .publicKey',
      (i) => {
        const c = fromDerUncached(pick(i));
        verifyCertificateChain(c, [], [ca], at);
        void c.publicKey;
      },
    ],
  );

  // Real public-good material.
  const pg = loadRoot(PUBLIC_GOOD);
  const hp = conformanceBundle('happy-path-v0.3');
  const leafDer = hp.certs[0]!;
  const times = hp.integratedTimes;
  console.log('\nreal public-good bundle (happy-path-v0.3):');
  // The real leaf is larger than the generated ones (2.1 KB, 22 extensions): parse cost on distinct
  // copies (serial bytes changed, so only parsing is meaningful, not the signature).
  const realCopies = Array.from({ length: 1000 }, (_, i) => {
    const b = Buffer.from(leafDer);
    b.writeUInt32BE(i, 20);
    return b;
  });
  compare(
    seconds,
    ['baseline parse, real Fulcio leaf: new X509Certificate(der).publicKey', (i) => void new X509Certificate(realCopies[i % 1000]!).publicKey],
    ['sigil parse, real Fulcio leaf: fromDer({ cache: false }) + .publicKey', (i) => void fromDerUncached(realCopies[i % 1000]!).publicKey],
  );
  const issuer = pg.cas[1]!.certChain[0]!;
  const interPg = new X509Certificate(issuer.der).publicKey;
  compare(
    seconds,
    ['baseline: X509Certificate(der) + .verify(intermediate key), real leaf', () => void new X509Certificate(leafDer).verify(interPg)],
    ['sigil chain, real leaf, cold: fromDer({ cache: false }) + verifyCertificateChain', () => void verifyCertificateChain(fromDerUncached(leafDer), [], pg.cas, times)],
  );
  const warm = measure('sigil chain, real leaf, warm (fromDer cached; leaf signature remembered)', seconds, () => {
    verifyCertificateChain(Certificate.fromDer(leafDer), [], pg.cas, times);
  });
  const leaf = Certificate.fromDer(leafDer);
  const ctlogs: CtLogKey[] = pg.ctlogs;
  const sct = measure('verifyEmbeddedScts (TBS rebuild + one P-256 verify, not cached)', seconds, () => void verifyEmbeddedScts(leaf, issuer, ctlogs));
  const fulcio = measure('fulcio() + subjectAlternativeNames()', seconds, () => {
    leaf.fulcio();
    leaf.subjectAlternativeNames();
  });
  const r2 = conformanceBundle('rekor2-happy-path');
  const r2tsas = conformanceRoot('rekor2-happy-path').tsas;
  const tsa = measure('verifyTimestampToken (rekor2-happy-path: parse, imprint, P-384 TSA signature)', seconds, () => void verifyTimestampToken(r2.timestamps[0]!, r2.signature!, r2tsas));
  const chainCold = measure('sigil chain, real leaf, cold (again, for the per-bundle sum)', seconds, () => void verifyCertificateChain(fromDerUncached(leafDer), [], pg.cas, times));

  console.log('\nper-bundle x509 work, real public-good leaf (budget at 700 bundles/s: 1,429 µs for everything):');
  const coldUs = 1e6 / chainCold + 1e6 / sct + 1e6 / fulcio;
  console.log(`  cold chain + SCT + identity: ${coldUs.toFixed(0)} µs; plus RFC 3161 (Rekor v2 bundles): ${(coldUs + 1e6 / tsa).toFixed(0)} µs; warm chain: ${(1e6 / warm).toFixed(1)} µs`);
}

/** Parses without the DER cache, so every iteration pays the full parse and signature check. */
function fromDerUncached(der: Buffer): Certificate {
  return Certificate.fromDer(der, { cache: false });
}
