import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, verify as cryptoVerify } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { bundleFromJSON as sigstoreBundleFromJSON } from '@sigstore/bundle';
import { PublicKeyDetails, TrustedRoot as ProtoTrustedRoot } from '@sigstore/protobuf-specs';
import { SigilError } from '../../src/core/errors.js';
import { pae } from '../../src/core/pae.js';
import { generateKeyPair, publicKeyDer, publicKeyHint, keyHashAlgorithm, type KeyAlgorithm } from '../../src/crypto/keys.js';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import type { Signer } from '../../src/crypto/signer.js';
import { parseBundle } from '../../src/formats/bundle.js';
import { parseStatement } from '../../src/formats/intoto.js';
import { PREDICATE_TYPES, predicateTypeName, predicateTypeUri } from '../../src/formats/predicate-types.js';
import { signBlob } from '../../src/sign/sign-blob.js';
import { attestBlob } from '../../src/sign/attest-blob.js';
import type { TlogKind, TlogRequests, TlogUploader } from '../../src/sign/tlog-uploader.js';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { verify } from '../../src/verify/verify.js';
import { corpusPath } from '../helpers/paths.js';

const ALGS: KeyAlgorithm[] = ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa-2048'];

/** @sigstore/verify 3.x with a key selector: the hint in the bundle picks the key (sigstore-js packages/verify README). */
function sigstoreJsVerify(bundleJson: unknown, signer: Signer, artifact?: Buffer): void {
  const root = ProtoTrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
  const hint = publicKeyHint(signer.publicKey);
  const trust = toTrustMaterial(root, { [hint]: { rawBytes: publicKeyDer(signer.publicKey), keyDetails: PublicKeyDetails[signer.keyDetails], validFor: undefined } });
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(sigstoreBundleFromJSON(bundleJson), artifact), {});
}

const trust = { root: TrustedRoot.publicGood() };

test('sign-blob: every key type yields a v0.3 bundle that sigil, sigstore-js and node:crypto verify', async () => {
  const artifact = Buffer.from('the release bytes\n'.repeat(100));
  for (const alg of ALGS) {
    const { privateKey, publicKey } = generateKeyPair(alg);
    const signer = new LocalSigner(privateKey);
    const r = await signBlob(artifact, { signer });
    assert.equal(r.json.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.deepEqual(r.json.verificationMaterial, { publicKey: { hint: publicKeyHint(publicKey) } }, `${alg}: public-key hint, no tlog entry`);
    const hash = keyHashAlgorithm(publicKey) ?? 'sha256';
    assert.deepEqual(r.digest, createHash(hash).update(artifact).digest());
    assert.ok(cryptoVerify(keyHashAlgorithm(publicKey), artifact, publicKey, r.signature), alg);
    // Round trip through the strict reader and the verifier.
    const parsed = parseBundle(JSON.stringify(r.json));
    assert.equal(parsed.version, '0.3');
    const res = await verify(parsed, { bytes: artifact }, { key: publicKey, tlogThreshold: 0 }, trust);
    assert.equal(res.content, 'message-signature');
    await assert.rejects(verify(parsed, { bytes: Buffer.concat([artifact, Buffer.from('!')]) }, { key: publicKey, tlogThreshold: 0 }, trust), (e: unknown) => e instanceof SigilError && e.kind === 'verification');
    // sigstore-js: accepts ours, rejects ours over another artifact. @sigstore/verify 3.1 passes the
    // messageDigest algorithm to crypto.verify, which node refuses for Ed25519 (pure EdDSA takes no
    // digest name), so it cannot verify any Ed25519 message signature; sigil's verifier above does.
    if (alg !== 'ed25519') {
      sigstoreJsVerify(r.json, signer, artifact);
      assert.throws(() => sigstoreJsVerify(r.json, signer, Buffer.from('other')), /SIGNATURE_ERROR|signature/i, alg);
    }
  }
});

test('attest-blob: DSSE in-toto v1 bundle verified by sigil (subject check), sigstore-js and node:crypto', async () => {
  const artifact = Buffer.from('artifact for attestation');
  const hex = createHash('sha256').update(artifact).digest('hex');
  for (const alg of ALGS) {
    const { privateKey, publicKey } = generateKeyPair(alg);
    const signer = new LocalSigner(privateKey);
    const predicate = { buildDefinition: { buildType: 'https://example/build' }, runDetails: { builder: { id: 'https://example/b' } } };
    const r = await attestBlob([{ name: 'a.bin', digest: { sha256: hex } }], { signer, predicateType: PREDICATE_TYPES.slsaprovenance1!, predicate });
    const env = r.json.dsseEnvelope as { payloadType: string; payload: string; signatures: { sig: string }[] };
    assert.equal(env.payloadType, 'application/vnd.in-toto+json');
    assert.equal(env.signatures.length, 1);
    const st = parseStatement(Buffer.from(env.payload, 'base64'));
    assert.equal(st.type, 'https://in-toto.io/Statement/v1');
    assert.deepEqual(st.subjects, [{ name: 'a.bin', digest: { sha256: hex } }]);
    assert.equal(st.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(st.predicate, predicate);
    const signed = pae('application/vnd.in-toto+json', Buffer.from(env.payload, 'base64'));
    assert.ok(cryptoVerify(keyHashAlgorithm(publicKey), signed, publicKey, Buffer.from(env.signatures[0]!.sig, 'base64')), `${alg}: signature over the PAE`);
    const res = await verify(JSON.stringify(r.json), { bytes: artifact }, { key: publicKey, tlogThreshold: 0, predicateType: 'https://slsa.dev/provenance/v1' }, trust);
    assert.equal(res.statement?.subjectName, 'a.bin');
    await assert.rejects(verify(JSON.stringify(r.json), { bytes: Buffer.from('other') }, { key: publicKey, tlogThreshold: 0 }, trust), (e: unknown) => e instanceof SigilError && e.code === 'SUBJECT_MISMATCH');
    // @sigstore/verify 3.1 verifies DSSE with crypto.verify(undefined, …), i.e. SHA-256 for every EC
    // key; a P-384 attestation (signed with SHA-384 as PKIX_ECDSA_P384_SHA_384 requires) is beyond it.
    if (alg !== 'ecdsa-p384') sigstoreJsVerify(r.json, signer);
  }
});

test('attest-blob: independent check with Python cryptography (PAE and ECDSA computed outside node)', async () => {
  // .ci/run installs python3-cryptography: a missing peer fails the test instead of skipping it.
  const py = spawnSync('/usr/bin/python3', ['-c', 'import cryptography'], { encoding: 'utf8' });
  assert.equal(py.status, 0, `python3-cryptography is needed (apt-get install python3-cryptography): ${py.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'sigil-att-py-'));
  const { privateKey, publicKey } = generateKeyPair('ecdsa-p256');
  const r = await attestBlob([{ name: 'x', digest: { sha256: '00'.repeat(32) } }], { signer: new LocalSigner(privateKey), predicateType: 'https://example.com/p', predicate: { a: 1 } });
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify(r.json));
  writeFileSync(join(dir, 'key.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const script = `
import base64, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
b = json.load(open(sys.argv[1]))
env = b["dsseEnvelope"]
payload = base64.b64decode(env["payload"])
t = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)
key = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
key.verify(base64.b64decode(env["signatures"][0]["sig"]), pae, ec.ECDSA(hashes.SHA256()))
st = json.loads(payload)
assert st["_type"] == "https://in-toto.io/Statement/v1" and st["subject"][0]["name"] == "x"
print("ok")`;
  const res = spawnSync('/usr/bin/python3', ['-c', script, join(dir, 'bundle.json'), join(dir, 'key.pub')], { encoding: 'utf8' });
  assert.equal(res.stdout.trim(), 'ok', res.stderr);
});

test('TlogUploader hook: the log receives the digest/signature/key or the envelope, and its entry lands in the bundle', async () => {
  // A real Rekor entry (structure only) stands in for the log's answer: this checks the plumbing,
  // the log client itself is tested by its owner against the real log.
  const corpusBundle = JSON.parse(readFileSync(corpusPath('sigstore-conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json'), 'utf8'));
  const entry = corpusBundle.verificationMaterial.tlogEntries[0];
  const seen: { kind: TlogKind; req: unknown }[] = [];
  const tlog: TlogUploader = {
    async upload<K extends TlogKind>(kind: K, request: TlogRequests[K]) {
      seen.push({ kind, req: request });
      return entry as Record<string, unknown>;
    },
  };
  const signer = new LocalSigner(generateKeyPair().privateKey);
  const r = await signBlob(Buffer.from('x'), { signer, tlog });
  assert.equal(seen[0]!.kind, 'hashedrekord');
  const req = seen[0]!.req as TlogRequests['hashedrekord'];
  assert.equal(req.digestAlgorithm, 'sha256');
  assert.deepEqual(req.digest, createHash('sha256').update('x').digest());
  assert.deepEqual(req.signature, r.signature);
  assert.ok(req.publicKey.equals(signer.publicKey));
  assert.equal((r.json.verificationMaterial as { tlogEntries: unknown[] }).tlogEntries.length, 1);
  const a = await attestBlob([{ name: 'x', digest: { sha256: '00'.repeat(32) } }], { signer, tlog, predicateType: 'https://e/x', predicate: {} });
  assert.equal(seen[1]!.kind, 'dsse');
  assert.deepEqual((seen[1]!.req as TlogRequests['dsse']).envelope, a.envelope);

  const broken: TlogUploader = { upload: async () => ({ logIndex: '1' }) };
  await assert.rejects(signBlob(Buffer.from('x'), { signer, tlog: broken }), (e: unknown) => e instanceof SigilError && e.code === 'NETWORK' && /invalid entry/.test(e.message));
  const refusing: TlogUploader = {
    upload: async () => {
      throw new SigilError('NETWORK', 'log unreachable');
    },
  };
  await assert.rejects(signBlob(Buffer.from('x'), { signer, tlog: refusing }), (e: unknown) => e instanceof SigilError && e.code === 'NETWORK');
});

test('a signer whose signature does not match its public key is refused before anything is published', async () => {
  const good = new LocalSigner(generateKeyPair().privateKey);
  const other = new LocalSigner(generateKeyPair().privateKey);
  const liar: Signer = { publicKey: good.publicKey, keyDetails: good.keyDetails, sign: (d) => other.sign(d) };
  await assert.rejects(signBlob(Buffer.from('x'), { signer: liar }), (e: unknown) => e instanceof SigilError && e.code === 'INTERNAL');
  await assert.rejects(attestBlob([{ name: 'x', digest: { sha256: '00'.repeat(32) } }], { signer: liar, predicateType: 'https://e/x', predicate: {} }), (e: unknown) => e instanceof SigilError && e.code === 'INTERNAL');
  await assert.rejects(attestBlob([], { signer: good, predicateType: 'https://e/x', predicate: {} }), (e: unknown) => e instanceof SigilError && e.code === 'STATEMENT_MALFORMED');
});

test('predicate types: cosign names map to their URIs, URIs pass through, anything else is a usage error', () => {
  assert.equal(predicateTypeUri('slsaprovenance'), 'https://slsa.dev/provenance/v0.2');
  assert.equal(predicateTypeUri('slsaprovenance1'), 'https://slsa.dev/provenance/v1');
  assert.equal(predicateTypeUri('spdxjson'), 'https://spdx.dev/Document');
  assert.equal(predicateTypeUri('cyclonedx'), 'https://cyclonedx.org/bom');
  assert.equal(predicateTypeUri('vuln'), 'https://cosign.sigstore.dev/attestation/vuln/v1');
  assert.equal(predicateTypeUri('openvex'), 'https://openvex.dev/ns');
  assert.equal(predicateTypeUri('custom'), 'https://cosign.sigstore.dev/attestation/v1');
  assert.equal(predicateTypeUri('https://example.com/my/predicate/v1'), 'https://example.com/my/predicate/v1');
  assert.equal(predicateTypeName('https://slsa.dev/provenance/v1'), 'slsaprovenance1');
  for (const bad of ['slsa', 'not a uri', '', 'toString', '__proto__', 'https://exa mple.com']) {
    assert.throws(() => predicateTypeUri(bad), (e: unknown) => e instanceof SigilError && e.code === 'USAGE', bad);
  }
});
