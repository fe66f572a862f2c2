import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { X509Certificate as SigstoreX509 } from '@sigstore/core';
import { Certificate } from '../../src/x509/certificate.js';
import { verifyEmbeddedScts } from '../../src/x509/sct.js';
import { verifyCertificateChain } from '../../src/x509/chain.js';
import { leafHash } from '../../src/merkle/hash.js';
import { verifyInclusion } from '../../src/merkle/proof.js';
import { merkleTreeLeaf } from '../../src/services/pki/sct.js';
import { clientKey, postJson, signingCertBody, startTestStack } from '../helpers/keyless.js';

type TestStack = Awaited<ReturnType<typeof startTestStack>>;

function leafOf(json: Record<string, unknown>): { pems: string[]; leaf: Certificate } {
  const wrapper = (json.signedCertificateEmbeddedSct ?? json.signedCertificateDetachedSct) as { chain: { certificates: string[] } };
  const pems = wrapper.chain.certificates;
  return { pems, leaf: Certificate.fromPem(pems[0]!) };
}

describe('CA (Fulcio v2 API) against a running sigil stack', () => {
  let stack: TestStack;
  let signingCert: string;

  before(async () => {
    stack = await startTestStack();
    signingCert = `${stack.urls.ca}/api/v2/signingCert`;
  });
  after(async () => stack.stop());

  test('email identity: certificate with SAN, issuer extension, 10-minute validity, chain to the trusted root, embedded SCT', async () => {
    const token = await stack.oidc.mint();
    const key = clientKey();
    const sizeBefore = stack.ctLog.size;
    const { status, json } = await postJson(signingCert, signingCertBody(token, key, 'dev@sigil.local'));
    assert.equal(status, 200, JSON.stringify(json));
    const { pems, leaf } = leafOf(json);
    assert.equal(pems.length, 3, 'leaf, intermediate, root');
    assert.deepEqual(leaf.subjectAlternativeNames(), [{ type: 'email', value: 'dev@sigil.local' }]);
    assert.equal(leaf.fulcio().issuer, stack.urls.oidc);
    assert.equal(leaf.notAfter.getTime() - leaf.notBefore.getTime(), 600_000);
    assert.ok(leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(key.publicKey.export({ type: 'spki', format: 'der' })));
    assert.equal(leaf.isCA, false);

    const trusted = JSON.parse(readFileSync(stack.trustedRootPath, 'utf8'));
    const caChain = trusted.certificateAuthorities[0].certChain.certificates.map((c: { rawBytes: string }) => Certificate.fromDer(Buffer.from(c.rawBytes, 'base64')));
    const path = verifyCertificateChain(leaf, [], [{ certChain: caChain, validFor: { start: new Date(0) } }], [new Date()]);
    assert.equal(path.length, 3);

    const ct = trusted.ctlogs[0];
    const ctKey = createPublicKey({ key: Buffer.from(ct.publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' });
    const verified = verifyEmbeddedScts(leaf, caChain[0], [{ logId: Buffer.from(ct.logId.keyId, 'base64'), publicKey: ctKey, validFor: { start: new Date(0) } }], 1);
    assert.equal(verified, 1);
    assert.equal(stack.ctLog.size, sizeBefore + 1, 'the precertificate is in the CT log');

    // sigstore-js reconstructs the precertificate TBS the same way: cross-check with its SCT verifier.
    const { verifySCTs } = await import('@sigstore/verify/dist/key/sct.js');
    const ids = verifySCTs(SigstoreX509.parse(pems[0]!), SigstoreX509.parse(pems[1]!), [
      { logID: Buffer.from(ct.logId.keyId, 'base64'), publicKey: ctKey, validFor: { start: new Date(0), end: new Date(8.64e15) }, baseURL: ct.baseUrl },
    ]);
    assert.equal(ids.length, 1);
  });

  test('the CT log entry for an issued certificate has a valid inclusion proof over RFC 6962 leaf data', async () => {
    const token = await stack.oidc.mint();
    const { json } = await postJson(signingCert, signingCertBody(token, clientKey(), 'dev@sigil.local'));
    const { leaf, pems } = leafOf(json);
    const issuer = Certificate.fromPem(pems[1]!);
    const sct = (await import('../../src/x509/sct.js')).parseEmbeddedScts(leaf)[0]!;
    const tbs = leaf.tbsWithoutExtension('1.3.6.1.4.1.11129.2.4.2')!;
    const leafData = merkleTreeLeaf(sct.timestampMs, { type: 'precert', issuerKeyHash: createHash('sha256').update(issuer.publicKey.export({ type: 'spki', format: 'der' })).digest(), tbs });
    const h = leafHash(leafData);
    const sth = (await (await fetch(`${stack.urls.ctlog}/ct/v1/get-sth`)).json()) as { tree_size: number; sha256_root_hash: string };
    const proofRes = await fetch(`${stack.urls.ctlog}/ct/v1/get-proof-by-hash?hash=${encodeURIComponent(h.toString('base64'))}&tree_size=${sth.tree_size}`);
    assert.equal(proofRes.status, 200);
    const proof = (await proofRes.json()) as { leaf_index: number; audit_path: string[] };
    verifyInclusion(proof.leaf_index, sth.tree_size, h, proof.audit_path.map((p) => Buffer.from(p, 'base64')), Buffer.from(sth.sha256_root_hash, 'base64'));
  });

  test('a PKCS#10 CSR is accepted as proof of possession', async () => {
    const { publicKey, privateKey } = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const csrPem = await buildCsr(publicKey, privateKey);
    const token = await stack.oidc.mint();
    const { status, json } = await postJson(signingCert, { credentials: { oidcIdentityToken: token }, certificateSigningRequest: Buffer.from(csrPem).toString('base64') });
    assert.equal(status, 200, JSON.stringify(json));
    const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', publicKey));
    assert.ok(leafOf(json).leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(spki));
  });

  test('a CA submitting precertificates over HTTP (add-pre-chain) embeds an SCT it checked against the log key', async () => {
    const { CertificateAuthority } = await import('../../src/services/ca/authority.js');
    const { HttpCtSubmitter } = await import('../../src/services/ca/ct-submitter.js');
    const remote = new CertificateAuthority({ issuer: stack.ca.issuer, config: stack.ca.config, ct: new HttpCtSubmitter(stack.urls.ctlog), ctLogKey: stack.ctLog.publicKey });
    const key = clientKey();
    const { sign: signPop } = await import('node:crypto');
    const before = stack.ctLog.size;
    const issued = await remote.issue({ token: await stack.oidc.mint(), key: { kind: 'publicKey', content: key.pem, proofOfPossession: signPop('sha256', Buffer.from('dev@sigil.local'), key.privateKey) } });
    assert.equal(stack.ctLog.size, before + 1);
    assert.equal(issued.sct?.logId.equals(stack.ctLog.logId), true);
    // A log key that is not the log's: the SCT is refused and no certificate comes out.
    const wrongKey = clientKey().publicKey;
    const strict = new CertificateAuthority({ issuer: stack.ca.issuer, config: stack.ca.config, ct: new HttpCtSubmitter(stack.urls.ctlog), ctLogKey: wrongKey });
    await assert.rejects(strict.issue({ token: await stack.oidc.mint(), key: { kind: 'publicKey', content: key.pem, proofOfPossession: signPop('sha256', Buffer.from('dev@sigil.local'), key.privateKey) } }), { code: 'SCT_INVALID' });
    await assert.rejects(new HttpCtSubmitter('http://127.0.0.1:1').addPreChain([Buffer.from('x')]), { code: 'NETWORK' });
  });

  test('GET trustBundle and configuration describe the CA and its issuers', async () => {
    const tb = (await (await fetch(`${stack.urls.ca}/api/v2/trustBundle`)).json()) as { chains: { certificates: string[] }[] };
    assert.equal(tb.chains[0]!.certificates.length, 2);
    const cfg = (await (await fetch(`${stack.urls.ca}/api/v2/configuration`)).json()) as { issuers: { issuerUrl: string; audience: string; challengeClaim: string }[] };
    assert.deepEqual(cfg.issuers[0], { issuerUrl: stack.urls.oidc, audience: 'sigstore', challengeClaim: 'email', issuerType: 'email' });
  });
});

/** A minimal PKCS#10 request signed with WebCrypto (RFC 2986), built from DER pieces. */
async function buildCsr(publicKey: webcrypto.CryptoKey, privateKey: webcrypto.CryptoKey): Promise<string> {
  const { seq, explicit, smallInteger, oid, bitString } = await import('../../src/services/pki/der.js');
  const { encodeName } = await import('../../src/services/pki/certificate-builder.js');
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', publicKey));
  const info = seq(smallInteger(0), encodeName({ commonName: 'csr test' }), spki, explicit(0, Buffer.alloc(0)));
  const p1363 = Buffer.from(await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, info));
  const der = p1363ToDer(p1363);
  const csr = seq(info, seq(oid('1.2.840.10045.4.3.2')), bitString(der));
  return `-----BEGIN CERTIFICATE REQUEST-----\n${csr.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
}

function p1363ToDer(sig: Buffer): Buffer {
  const int = (b: Buffer) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    let v = b.subarray(i);
    if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([2, v.length]), v]);
  };
  const body = Buffer.concat([int(sig.subarray(0, 32)), int(sig.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
