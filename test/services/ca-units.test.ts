/** Parsers and mappings of the CA on their own: configuration, SCT replies, CSRs, identity mapping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { parseCaConfig, caConfigToJson } from '../../src/services/ca/config.js';
import { principalFor } from '../../src/services/ca/principal.js';
import { publicKeyFromCsr, verifyChallengeSignature } from '../../src/services/ca/proof-of-possession.js';
import { parseSigningCertRequest } from '../../src/services/ca/request.js';
import { parseClientPublicKey } from '../../src/services/pki/algorithms.js';
import { encodeName } from '../../src/services/pki/certificate-builder.js';
import { bitString, explicit, oid, seq, smallInteger } from '../../src/services/pki/der.js';
import { encodeSct, encodeSctList, parseDigitallySigned, sctFromJson, sctToJson, type Sct } from '../../src/services/pki/sct.js';

const code = (c: string) => (e: Error & { code?: string }) => e.code === c;

test('CA configuration: defaults, round trip, and every malformed field named', () => {
  const c = parseCaConfig({ issuers: [{ url: 'https://token.actions.githubusercontent.com', type: 'github-workflow', allowedSubjects: ['repo:a/b:.*'] }, { url: 'http://127.0.0.1:9/oidc' }] });
  assert.equal(c.audience, 'sigstore');
  assert.equal(c.certificateValiditySeconds, 600);
  assert.equal(c.issuers[1]!.type, 'email');
  assert.ok(c.issuers[0]!.allowedSubjects[0]!.test('repo:a/b:ref:refs/heads/main'));
  assert.ok(!c.issuers[0]!.allowedSubjects[0]!.test('xrepo:a/b:ref'), 'patterns are anchored');
  assert.deepEqual(parseCaConfig(caConfigToJson(c)).issuers.map((i) => i.url), c.issuers.map((i) => i.url));
  const bad = (doc: unknown, re: RegExp) => assert.throws(() => parseCaConfig(doc), (e: Error & { code?: string }) => e.code === 'POLICY_MALFORMED' && re.test(e.message));
  bad([], /JSON object/);
  bad({ issuers: [] }, /non-empty array/);
  bad({ issuers: [{ url: 'http://evil.example/oidc' }] }, /https/);
  bad({ issuers: [{ url: 'not a url' }] }, /not a URL/);
  bad({ issuers: [{ url: 'https://a.example' }, { url: 'https://a.example' }] }, /listed twice/);
  bad({ issuers: [{ url: 'https://a.example', type: 'kerberos' }] }, /type must be/);
  bad({ issuers: [{ url: 'https://a.example', allowedEmails: ['(['] }] }, /not a valid regular expression/);
  bad({ issuers: [{ url: 'https://a.example', allowedEmails: 'x' }] }, /array of regular expressions/);
  bad({ issuers: [{ url: 'https://a.example' }], certificateValiditySeconds: 5 }, /between 60/);
  bad({ issuers: [{ url: 'https://a.example' }], audience: '' }, /audience/);
});

test('identity mapping: URI identities with a subject domain, email claims that are not addresses', () => {
  const cfg = parseCaConfig({ issuers: [{ url: 'https://k8s.example', type: 'uri', subjectDomain: 'cluster.example' }, { url: 'https://mail.example' }] });
  const p = principalFor({ issuer: cfg.issuers[0]!, claims: { iss: 'https://k8s.example', sub: 'https://cluster.example/ns/default/sa/builder' } });
  assert.deepEqual(p.san, { type: 'uri', value: 'https://cluster.example/ns/default/sa/builder' });
  assert.equal(p.challenge, 'https://cluster.example/ns/default/sa/builder');
  assert.throws(() => principalFor({ issuer: cfg.issuers[0]!, claims: { iss: 'https://k8s.example', sub: 'https://other.example/x' } }), code('IDENTITY_MISMATCH'));
  assert.throws(() => principalFor({ issuer: cfg.issuers[0]!, claims: { iss: 'https://k8s.example', sub: 'builder' } }), code('IDENTITY_MISMATCH'));
  assert.throws(() => principalFor({ issuer: cfg.issuers[1]!, claims: { sub: 'x', email: 'not-an-address', email_verified: true } }), code('IDENTITY_MISMATCH'));
  assert.throws(() => principalFor({ issuer: cfg.issuers[1]!, claims: { sub: 'x' } }), code('IDENTITY_MISMATCH'));
});

test('client public keys: canonical P-256 fast path equals the general path; other keys and garbage', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const fast = parseClientPublicKey(pem);
  assert.equal(fast.p256, true);
  assert.ok(fast.spki.equals(publicKey.export({ type: 'spki', format: 'der' })));
  assert.ok(fast.key.export({ type: 'spki', format: 'der' }).equals(fast.spki));
  const b64 = parseClientPublicKey(publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
  assert.ok(b64.spki.equals(fast.spki));
  verifyChallengeSignature(fast, 'hello', sign('sha256', Buffer.from('hello'), privateKey));
  assert.throws(() => verifyChallengeSignature(fast, 'hello', Buffer.from('3006020101020101', 'hex')), code('SIGNATURE_INVALID'));
  // A point off the curve in the canonical layout is refused, not certified.
  const offCurve = Buffer.from(fast.spki);
  offCurve[offCurve.length - 1]! ^= 1;
  assert.throws(() => verifyChallengeSignature(parseClientPublicKey(offCurve), 'hello', sign('sha256', Buffer.from('hello'), privateKey)), (e: Error & { code?: string }) => e.code === 'KEY_MALFORMED' || e.code === 'SIGNATURE_INVALID');
  const ed = generateKeyPairSync('ed25519');
  const edKey = parseClientPublicKey(ed.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  assert.equal(edKey.details, 'PKIX_ED25519');
  verifyChallengeSignature(edKey, 'sub', sign(null, Buffer.from('sub'), ed.privateKey));
  assert.throws(() => parseClientPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), code('KEY_MALFORMED'));
  assert.throws(() => parseClientPublicKey(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), code('KEY_MALFORMED'));
  assert.throws(() => parseClientPublicKey(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string), code('KEY_UNSUPPORTED'));
});

test('CSR parsing: valid Ed25519 CSR; truncated, wrong version, unknown algorithm, mismatched algorithm', () => {
  const ed = generateKeyPairSync('ed25519');
  const info = seq(smallInteger(0), encodeName({ commonName: 'x' }), ed.publicKey.export({ type: 'spki', format: 'der' }), explicit(0, Buffer.alloc(0)));
  const csr = (i: Buffer, alg: string, s: Buffer) => seq(i, seq(oid(alg)), bitString(s));
  const good = csr(info, '1.3.101.112', sign(null, info, ed.privateKey));
  assert.equal(publicKeyFromCsr(good).details, 'PKIX_ED25519');
  assert.throws(() => publicKeyFromCsr(good.subarray(0, good.length - 3)), code('CERTIFICATE_MALFORMED'));
  const v1 = seq(smallInteger(1), encodeName({ commonName: 'x' }), ed.publicKey.export({ type: 'spki', format: 'der' }), explicit(0, Buffer.alloc(0)));
  assert.throws(() => publicKeyFromCsr(csr(v1, '1.3.101.112', sign(null, v1, ed.privateKey))), code('CERTIFICATE_MALFORMED'));
  assert.throws(() => publicKeyFromCsr(csr(info, '1.2.3.4', sign(null, info, ed.privateKey))), code('KEY_UNSUPPORTED'));
  assert.throws(() => publicKeyFromCsr(csr(info, '1.2.840.10045.4.3.2', sign(null, info, ed.privateKey))), code('SIGNATURE_INVALID'));
  assert.throws(() => publicKeyFromCsr(Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')), code('CERTIFICATE_MALFORMED'));
});

test('signingCert request parsing accepts snake_case and a bearer token, refuses wrong types', () => {
  const r = parseSigningCertRequest(Buffer.from(JSON.stringify({ public_key_request: { public_key: { content: 'x' }, proof_of_possession: 'AAAA' } })), 'a.b.c');
  assert.equal(r.token, 'a.b.c');
  assert.equal(r.key.kind, 'publicKey');
  const bad = (body: unknown) => assert.throws(() => parseSigningCertRequest(Buffer.from(JSON.stringify(body)), 't'), (e: Error & { code?: string }) => e.code === 'USAGE' || e.code === 'UNAUTHORIZED');
  bad([]);
  bad({ credentials: 'x' });
  bad({ credentials: { oidcIdentityToken: 5 } });
  bad({ publicKeyRequest: { publicKey: 'pem', proofOfPossession: 'AA==' } });
  bad({ publicKeyRequest: { publicKey: { content: 7 }, proofOfPossession: 'AA==' } });
  bad({ publicKeyRequest: { publicKey: { content: 'x' } } });
  bad({ certificateSigningRequest: 12 });
});

test('SCTs: TLS serialisation round trip through the JSON reply; malformed replies are SCT_INVALID', () => {
  const sct: Sct = { logId: Buffer.alloc(32, 7), timestamp: 1_700_000_000_123, extensions: Buffer.alloc(0), hashAlgorithm: 4, signatureAlgorithm: 3, signature: Buffer.alloc(70, 1) };
  const back = sctFromJson(JSON.parse(JSON.stringify(sctToJson(sct))));
  assert.deepEqual(encodeSct(back), encodeSct(sct));
  const list = encodeSctList([encodeSct(sct)]);
  assert.equal(list.readUInt16BE(0), list.length - 2);
  assert.equal(list.readUInt16BE(2), encodeSct(sct).length);
  const j = sctToJson(sct) as unknown as Record<string, unknown>;
  for (const broken of [null, [], { ...j, sct_version: 1 }, { ...j, id: 'AAAA' }, { ...j, timestamp: -1 }, { ...j, timestamp: '1' }, { ...j, signature: 'BAM=' }, { ...j, signature: '***' }]) {
    assert.throws(() => sctFromJson(broken), (e: Error & { code?: string }) => e.code === 'SCT_INVALID' || e.code === 'ENCODING_INVALID');
  }
  assert.throws(() => parseDigitallySigned(Buffer.from([4, 3, 0, 5, 1])), code('SCT_INVALID'));
  assert.throws(() => encodeSctList([]), code('SCT_INVALID'));
});
