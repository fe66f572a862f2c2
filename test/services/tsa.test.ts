import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as tsp from '@peculiar/asn1-tsp';
import * as cms from '@peculiar/asn1-cms';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { RFC3161Timestamp } from '@sigstore/core';
import { encodePem } from '../../src/core/pem.js';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import { Certificate } from '../../src/x509/certificate.js';
import { verifyTimestampToken } from '../../src/x509/rfc3161.js';
import { listen, type RunningServer } from '../../src/services/http.js';
import { StateDir, loadTsaChain } from '../../src/services/state.js';
import { DEFAULT_TSA_POLICY, TimestampAuthority } from '../../src/services/tsa/authority.js';
import { tsaHandler } from '../../src/services/tsa/server.js';
import { TEST_SCRYPT } from '../helpers/keyless.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';

function request(opts: { digest?: Buffer; alg?: string; nonce?: Buffer; policy?: string; certReq?: boolean; critical?: boolean } = {}): Buffer {
  const req = new tsp.TimeStampReq({
    version: 1,
    messageImprint: new tsp.MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: opts.alg ?? SHA256 }), hashedMessage: new OctetString(opts.digest ?? createHash('sha256').update('data').digest()) }),
    certReq: opts.certReq ?? false,
    ...(opts.nonce ? { nonce: opts.nonce.buffer.slice(opts.nonce.byteOffset, opts.nonce.byteOffset + opts.nonce.length) as ArrayBuffer } : {}),
    ...(opts.policy ? { reqPolicy: opts.policy } : {}),
  });
  return Buffer.from(AsnConvert.serialize(req));
}

/** Status and, for a rejection, the set failInfo bit numbers (RFC 3161 §2.4.2). */
function statusOf(der: Buffer): { status: number; failBits: number[]; token?: tsp.TimeStampToken } {
  const resp = AsnConvert.parse(der, tsp.TimeStampResp);
  const failBits: number[] = [];
  const fi = resp.status.failInfo;
  if (fi) {
    const bytes = new Uint8Array(fi.value);
    bytes.forEach((b, i) => {
      for (let j = 0; j < 8; j++) if (b & (0x80 >> j)) failBits.push(i * 8 + j);
    });
  }
  return { status: resp.status.status, failBits, ...(resp.timeStampToken ? { token: resp.timeStampToken } : {}) };
}

describe('TSA (RFC 3161 over HTTP)', () => {
  let dir: string;
  let server: RunningServer;
  let tsa: TimestampAuthority;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sigil-tsa-'));
    const { signer, chain } = await loadTsaChain(new StateDir(join(dir, 'state'), {}, TEST_SCRYPT));
    tsa = new TimestampAuthority({ signer, chain, acceptedPolicies: ['1.2.3.4.5'] });
    server = await listen(tsaHandler(tsa), 0);
    url = `${server.url}/api/v1/timestamp`;
    writeFileSync(join(dir, 'tsa.pem'), encodePem('CERTIFICATE', chain[0]!));
    writeFileSync(join(dir, 'root.pem'), encodePem('CERTIFICATE', chain[1]!));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function post(body: Buffer, type = 'application/timestamp-query'): Promise<{ status: number; type: string; body: Buffer }> {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(body) });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
  }

  test('openssl ts: query with nonce and certificate request, reply verifies with the TSA chain (ESS signing-certificate-v2 checked by OpenSSL)', async () => {
    const data = join(dir, 'artifact.txt');
    writeFileSync(data, 'release artifact\n');
    const tsq = join(dir, 'req.tsq');
    execFileSync('openssl', ['ts', '-query', '-data', data, '-sha256', '-cert', '-out', tsq], { stdio: 'pipe' });
    const reply = await post(readFileSync(tsq));
    assert.equal(reply.status, 200);
    assert.equal(reply.type, 'application/timestamp-reply');
    const tsr = join(dir, 'resp.tsr');
    writeFileSync(tsr, reply.body);
    const out = execFileSync('openssl', ['ts', '-verify', '-data', data, '-in', tsr, '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'tsa.pem')], { stdio: 'pipe' }).toString();
    assert.match(out, /Verification: OK/);
    const text = execFileSync('openssl', ['ts', '-reply', '-in', tsr, '-text'], { stdio: 'pipe' }).toString();
    assert.match(text, new RegExp(`Policy OID: ${DEFAULT_TSA_POLICY.replace(/\./g, '\\.')}`));
    assert.match(text, /Nonce: 0x/);
    // openssl compares the nonce itself during -verify with -queryfile:
    const out2 = execFileSync('openssl', ['ts', '-verify', '-queryfile', tsq, '-in', tsr, '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'tsa.pem')], { stdio: 'pipe' }).toString();
    assert.match(out2, /Verification: OK/);
  });

  test('sigil (x509/rfc3161) and sigstore-js (@sigstore/core) verify the reply to a sigstore JSON request', async () => {
    const signature = randomBytes(71);
    const res = await post(Buffer.from(JSON.stringify({ artifactHash: createHash('sha256').update(signature).digest('base64'), hashAlgorithm: 'sha256' })), 'application/json');
    assert.equal(res.status, 200);
    const chain = tsa.chain.map((c) => Certificate.fromDer(c));
    const genTime = verifyTimestampToken(res.body, signature, [{ certChain: chain, validFor: { start: new Date(0) } }]);
    assert.ok(Math.abs(genTime.getTime() - Date.now()) < 5000);
    const ts = RFC3161Timestamp.parse(Buffer.from(res.body) as Buffer<ArrayBuffer>);
    ts.verify(Buffer.from(signature), chain[0]!.publicKey);
    assert.equal(ts.signingTime.getTime(), genTime.getTime());
    assert.throws(() => verifyTimestampToken(res.body, Buffer.from('other'), [{ certChain: chain, validFor: { start: new Date(0) } }]), { code: 'TIMESTAMP_INVALID' });
  });

  test('nonce is copied, a served policy is honoured, certificates only when asked', async () => {
    const nonce = Buffer.from('0123456789abcdef', 'hex');
    const granted = statusOf((await post(request({ nonce, policy: '1.2.3.4.5' }))).body);
    assert.equal(granted.status, 0);
    const sd = AsnConvert.parse(granted.token!.content, cms.SignedData);
    const info = AsnConvert.parse(sd.encapContentInfo.eContent!.single!.buffer, tsp.TSTInfo);
    assert.equal(info.policy, '1.2.3.4.5');
    assert.deepEqual(Buffer.from(info.nonce!), nonce);
    assert.equal(sd.certificates, undefined, 'certReq false: no certificates');
    const withCerts = statusOf((await post(request({ certReq: true }))).body);
    assert.equal(AsnConvert.parse(withCerts.token!.content, cms.SignedData).certificates?.length, 2);
  });

  test('rejections carry RFC 3161 failInfo bits: unacceptedPolicy, badAlg, badDataFormat', async () => {
    assert.deepEqual(statusOf((await post(request({ policy: '1.9.9.9' }))).body), { status: 2, failBits: [15] });
    assert.deepEqual(statusOf((await post(request({ alg: '1.3.14.3.2.26', digest: Buffer.alloc(20) }))).body), { status: 2, failBits: [0] });
    assert.deepEqual(statusOf((await post(request({ digest: Buffer.alloc(31) }))).body), { status: 2, failBits: [5] });
    assert.deepEqual(statusOf((await post(Buffer.from('not DER at all'))).body), { status: 2, failBits: [5] });
    const truncated = request().subarray(0, 20);
    assert.deepEqual(statusOf((await post(truncated)).body), { status: 2, failBits: [5] });
  });

  test('JSON errors, unsupported content types, oversized bodies and the certificate chain endpoint', async () => {
    const bad = await post(Buffer.from(JSON.stringify({ artifactHash: Buffer.alloc(5).toString('base64'), hashAlgorithm: 'sha256' })), 'application/json');
    assert.equal(bad.status, 400);
    assert.match(bad.body.toString(), /badDataFormat/);
    assert.equal((await post(Buffer.from('x'), 'text/plain')).status, 415);
    assert.equal((await post(Buffer.alloc(20_000), 'application/timestamp-query')).status, 413);
    const chain = await (await fetch(`${url}/certchain`)).text();
    assert.equal(Certificate.fromPemAll(chain).length, 2);
  });

  test('a TSA key that does not match its certificate, or a non-ECDSA key, is refused at start', () => {
    const other = new LocalSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    assert.throws(() => new TimestampAuthority({ signer: other, chain: tsa.chain }), { code: 'KEY_MISMATCH' });
    const ed = new LocalSigner(generateKeyPairSync('ed25519').privateKey);
    assert.throws(() => new TimestampAuthority({ signer: ed, chain: tsa.chain }), { code: 'KEY_UNSUPPORTED' });
  });
});
