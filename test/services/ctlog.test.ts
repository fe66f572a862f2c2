import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import { leafHash } from '../../src/merkle/hash.js';
import { verifyConsistency, verifyInclusion } from '../../src/merkle/proof.js';
import { CtLog } from '../../src/services/ctlog/log.js';
import { ctLogHandler } from '../../src/services/ctlog/server.js';
import { listen, type RunningServer } from '../../src/services/http.js';
import { CT_POISON_EXTENSION, OID, encodeTbs, signCertificate, EMPTY_NAME, keyUsageExtension, randomSerial } from '../../src/services/pki/certificate-builder.js';
import { IssuingAuthority, createLeafCertificate, createRootCertificate, createSubordinateCertificate } from '../../src/services/pki/issuer.js';
import { parseDigitallySigned, sctFromJson, treeHeadSignedData, verifySct } from '../../src/services/pki/sct.js';
import { verify as cryptoVerify, createHash } from 'node:crypto';

const signer = () => new LocalSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const spkiOf = (s: LocalSigner) => s.publicKey.export({ type: 'spki', format: 'der' });

describe('CT log (RFC 6962)', () => {
  let dir: string;
  let log: CtLog;
  let server: RunningServer;
  let inter: IssuingAuthority;
  let rootDer: Buffer;
  let logSigner: LocalSigner;
  let otherRoot: IssuingAuthority;

  const nb = new Date(Date.now() - 60_000);
  const na = new Date(Date.now() + 86_400_000);

  async function precert(issuer: IssuingAuthority, poison = CT_POISON_EXTENSION): Promise<Buffer> {
    const leafKey = signer();
    const tbs = encodeTbs(
      { serialNumber: randomSerial(), issuer: issuer.subject, subject: EMPTY_NAME, notBefore: nb, notAfter: na, subjectPublicKeyInfo: spkiOf(leafKey), extensions: [keyUsageExtension(['digitalSignature']), poison] },
      issuer.signatureAlgorithm,
    );
    return signCertificate(tbs, issuer.signer);
  }

  async function add(path: string, chain: Buffer[]): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${server.url}/ct/v1/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chain: chain.map((c) => c.toString('base64')) }) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sigil-ctlog-'));
    const rootSigner = signer();
    rootDer = await createRootCertificate(rootSigner, { name: { commonName: 'root' }, notBefore: nb, notAfter: na });
    const root = new IssuingAuthority(rootSigner, [rootDer]);
    const interSigner = signer();
    inter = new IssuingAuthority(interSigner, [await createSubordinateCertificate(root, spkiOf(interSigner), { name: { commonName: 'inter' }, notBefore: nb, notAfter: na }), rootDer]);
    const otherSigner = signer();
    otherRoot = new IssuingAuthority(otherSigner, [await createRootCertificate(otherSigner, { name: { commonName: 'other' }, notBefore: nb, notAfter: na })]);
    logSigner = signer();
    log = new CtLog({ path: join(dir, 'ct.sqlite'), signer: logSigner, roots: [rootDer] });
    server = await listen(ctLogHandler(log), 0);
  });
  after(async () => {
    await server.close();
    log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('add-pre-chain returns an SCT over the poison-free TBS; entries, proofs and STHs verify', async () => {
    const pre = await precert(inter);
    const { status, json } = await add('add-pre-chain', [pre, ...inter.chain]);
    assert.equal(status, 200, JSON.stringify(json));
    const sct = sctFromJson(json);
    const entry = log.validator.precertEntry([pre, ...inter.chain]);
    verifySct(sct, entry, logSigner.publicKey);
    assert.equal(entry.type === 'precert' && Buffer.from(entry.issuerKeyHash).equals(createHash('sha256').update(spkiOf(inter.signer as LocalSigner)).digest()), true);

    for (let i = 0; i < 4; i++) assert.equal((await add('add-pre-chain', [await precert(inter), ...inter.chain])).status, 200);
    const sth = (await (await fetch(`${server.url}/ct/v1/get-sth`)).json()) as { tree_size: number; timestamp: number; sha256_root_hash: string; tree_head_signature: string };
    assert.equal(sth.tree_size, 5);
    const root = Buffer.from(sth.sha256_root_hash, 'base64');
    const ds = parseDigitallySigned(Buffer.from(sth.tree_head_signature, 'base64'));
    assert.ok(cryptoVerify('sha256', treeHeadSignedData(sth.timestamp, sth.tree_size, root), logSigner.publicKey, ds.signature));

    const entries = (await (await fetch(`${server.url}/ct/v1/get-entries?start=0&end=10`)).json()) as { entries: { leaf_input: string }[] };
    assert.equal(entries.entries.length, 5);
    const h = leafHash(Buffer.from(entries.entries[2]!.leaf_input, 'base64'));
    const proof = (await (await fetch(`${server.url}/ct/v1/get-proof-by-hash?hash=${encodeURIComponent(h.toString('base64'))}&tree_size=5`)).json()) as { leaf_index: number; audit_path: string[] };
    assert.equal(proof.leaf_index, 2);
    verifyInclusion(2, 5, h, proof.audit_path.map((p) => Buffer.from(p, 'base64')), root);

    await add('add-pre-chain', [await precert(inter), ...inter.chain]);
    const sth2 = (await (await fetch(`${server.url}/ct/v1/get-sth`)).json()) as { tree_size: number; sha256_root_hash: string };
    const cons = (await (await fetch(`${server.url}/ct/v1/get-sth-consistency?first=5&second=6`)).json()) as { consistency: string[] };
    verifyConsistency(5, 6, cons.consistency.map((c) => Buffer.from(c, 'base64')), root, Buffer.from(sth2.sha256_root_hash, 'base64'));
  });

  test('add-chain takes an ordinary certificate and refuses a precertificate', async () => {
    const leafSigner = signer();
    const cert = await createLeafCertificate(inter, spkiOf(leafSigner), { name: { commonName: 'tsa-like' }, notBefore: nb, notAfter: na, extKeyUsage: [OID.timeStamping] });
    assert.equal((await add('add-chain', [cert, ...inter.chain])).status, 200);
    const r = await add('add-chain', [await precert(inter), ...inter.chain]);
    assert.equal(r.status, 400);
    assert.match(String(r.json.message), /use add-pre-chain/);
  });

  test('refuses chains that are not anchored, not signed by their issuer, or not precertificates', async () => {
    const size = log.size;
    const foreign = await add('add-pre-chain', [await precert(otherRoot), ...otherRoot.chain]);
    assert.equal(foreign.status, 400);
    assert.match(String(foreign.json.message), /does not end at a root this log accepts/);
    const wrongIssuer = await add('add-pre-chain', [await precert(otherRoot), ...inter.chain]);
    assert.match(String(wrongIssuer.json.message), /not signed by the next certificate/);
    const noPoison = await add('add-pre-chain', [await precert(inter, keyUsageExtension(['digitalSignature'])), ...inter.chain]);
    assert.match(String(noPoison.json.message), /not a precertificate/);
    const alone = await add('add-pre-chain', [await precert(inter)]);
    assert.match(String(alone.json.message), /must include the issuer/);
    const garbage = await add('add-pre-chain', [Buffer.from('not a certificate'), ...inter.chain]);
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json.code, 'CERTIFICATE_MALFORMED');
    assert.equal(log.size, size, 'nothing was logged');
  });

  test('malformed HTTP requests are 4xx with a message', async () => {
    const post = (body: string) => fetch(`${server.url}/ct/v1/add-pre-chain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal((await post('{')).status, 400);
    assert.equal((await post('{"chain":[]}')).status, 400);
    assert.equal((await post('{"chain":[1]}')).status, 400);
    assert.equal((await post('{"chain":["***"]}')).status, 400);
    assert.equal((await fetch(`${server.url}/ct/v1/get-entries?start=x&end=1`)).status, 400);
    assert.equal((await fetch(`${server.url}/ct/v1/get-entries?start=9999&end=10000`)).status, 404);
    assert.equal((await fetch(`${server.url}/ct/v1/get-proof-by-hash?hash=AAAA&tree_size=1`)).status, 400);
    assert.equal((await fetch(`${server.url}/ct/v1/get-sth-consistency?first=3&second=999`)).status, 400);
    assert.equal((await fetch(`${server.url}/ct/v1/get-sth`, { method: 'POST' })).status, 405);
  });

  test('the tree survives a restart: same size and root from the database', async () => {
    const before = await log.signedTreeHead();
    const reopened = new CtLog({ path: join(dir, 'ct.sqlite'), signer: logSigner, roots: [rootDer] });
    try {
      assert.equal(reopened.size, before.tree_size);
      assert.equal((await reopened.signedTreeHead()).sha256_root_hash, before.sha256_root_hash);
    } finally {
      reopened.close();
    }
  });
});
