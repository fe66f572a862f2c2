/**
 * One issuing thread of `npm run bench -- keyless`: a CertificateAuthority with its own CT log
 * (SQLite file) over the shared CA keys, issuing for pre-built requests as fast as it can, or the
 * raw node:crypto operations one certificate needs (the ceiling).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createPrivateKey, createPublicKey, sign, verify, randomBytes } from 'node:crypto';
import { CertificateAuthority } from '../src/services/ca/authority.js';
import { parseCaConfig } from '../src/services/ca/config.js';
import { CtLog } from '../src/services/ctlog/log.js';
import { StateDir, loadCaIssuer } from '../src/services/state.js';
import type { SigningCertRequest } from '../src/services/ca/request.js';

export interface WorkerInput {
  stateDir: string;
  ctPath: string;
  issuerUrl: string;
  requests: { token: string; pem: string; pop: string }[];
  seconds: number;
  concurrency: number;
  /** For the raw ceiling: a JWT and the keys involved. */
  raw?: { jwtInput: string; jwtSig: string; oidcPub: string; popData: string; popSig: string; clientPub: string; caKey: string; ctKey: string };
}

const input = workerData as WorkerInput;

/**
 * Both loops run in the same thread in alternating 200 ms slices, so the sigil figure and the raw
 * ceiling see the same machine load (other processes share these 2 cores); each rate is its
 * count over the time of its own slices.
 */
async function setupIssue(): Promise<{ run: (until: number) => Promise<number>; close: () => void }> {
  const state = new StateDir(input.stateDir, { SIGIL_STATE_PASSWORD: 'bench' }, { N: 1024, r: 8, p: 1 });
  const issuer = await loadCaIssuer(state);
  const ctSigner = state.signer('ctlog');
  const ct = new CtLog({ path: input.ctPath, signer: ctSigner, roots: [issuer.chain[issuer.chain.length - 1]!] });
  const config = parseCaConfig({ issuers: [{ url: input.issuerUrl, type: 'email' }], rateLimit: { perSecond: 1e6, burst: 1e6 } });
  const ca = new CertificateAuthority({ issuer, config, ct, ctLogKey: ctSigner.publicKey });
  const reqs: SigningCertRequest[] = input.requests.map((r) => ({ token: r.token, key: { kind: 'publicKey', content: r.pem, proofOfPossession: Buffer.from(r.pop, 'base64') } }));
  for (let i = 0; i < 100; i++) await ca.issue(reqs[i % reqs.length]!); // JWKS discovery, JIT
  let next = 0;
  const run = async (until: number) => {
    let n = 0;
    const lane = async () => {
      while (performance.now() < until) {
        await ca.issue(reqs[next++ % reqs.length]!);
        n++;
      }
    };
    await Promise.all(Array.from({ length: input.concurrency }, lane));
    return n;
  };
  return { run, close: () => ct.close() };
}

function setupRaw(): (until: number) => number {
  const r = input.raw!;
  const oidcPub = createPublicKey(r.oidcPub);
  const clientPub = createPublicKey(r.clientPub);
  const caKey = createPrivateKey(r.caKey);
  const ctKey = createPrivateKey(r.ctKey);
  const jwtSig = Buffer.from(r.jwtSig, 'base64');
  const popSig = Buffer.from(r.popSig, 'base64');
  const tbs = randomBytes(650); // a Fulcio-shaped TBS with an email SAN is ~600-700 bytes
  const sctInput = randomBytes(700);
  const one = () => {
    if (!verify('sha256', Buffer.from(r.jwtInput), { key: oidcPub, dsaEncoding: 'ieee-p1363' }, jwtSig)) throw new Error('jwt');
    if (!verify('sha256', Buffer.from(r.popData), clientPub, popSig)) throw new Error('pop');
    sign('sha256', tbs, caKey); // precertificate
    sign('sha256', sctInput, ctKey); // SCT
    sign('sha256', tbs, caKey); // final certificate
  };
  for (let i = 0; i < 200; i++) one();
  return (until) => {
    let n = 0;
    while (performance.now() < until) {
      for (let i = 0; i < 10; i++) one();
      n += 10;
    }
    return n;
  };
}

const issue = await setupIssue();
const raw = setupRaw();
parentPort!.postMessage({ type: 'ready' });
await new Promise<void>((r) => parentPort!.once('message', () => r()));
const totals = { issue: 0, issueMs: 0, raw: 0, rawMs: 0 };
const end = performance.now() + input.seconds * 1000;
while (performance.now() < end) {
  let t = performance.now();
  totals.raw += raw(t + 200);
  totals.rawMs += performance.now() - t;
  t = performance.now();
  totals.issue += await issue.run(t + 200);
  totals.issueMs += performance.now() - t;
}
issue.close();
parentPort!.postMessage({ type: 'done', ...totals });
