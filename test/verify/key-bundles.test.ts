/**
 * Key-signed bundles made by sigil's own signer for every key type, verified by file, by bytes,
 * by digest, and through the streaming path for files above the in-memory limit; the tlog policy
 * (cosign's --insecure-ignore-tlog) and a wrong key.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigilError } from '../../src/core/errors.js';
import { generateKeyPair, type KeyAlgorithm } from '../../src/crypto/keys.js';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import { signBlob } from '../../src/sign/sign-blob.js';
import { attestBlob } from '../../src/sign/attest-blob.js';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { verify, verifySync } from '../../src/verify/verify.js';
import { IN_MEMORY_LIMIT } from '../../src/verify/artifact.js';
import type { VerifyPolicy } from '../../src/verify/types.js';

const dir = mkdtempSync(join(tmpdir(), 'sigil-key-bundles-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const trust = { root: TrustedRoot.publicGood() };

function rejectsWith(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof SigilError && e.code === code);
}

for (const alg of ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa-2048'] as KeyAlgorithm[]) {
  test(`${alg}: sign-blob bundle verifies by path, bytes and digest; wrong key and missing tlog are rejected`, async () => {
    const kp = generateKeyPair(alg);
    const signer = new LocalSigner(kp.privateKey);
    const data = Buffer.from(`release artifact for ${alg}\n`);
    const path = join(dir, `${alg}.bin`);
    writeFileSync(path, data);
    const { json, digestAlgorithm } = await signBlob(data, { signer });
    const text = JSON.stringify(json);
    const policy: VerifyPolicy = { key: signer.publicKey, tlogThreshold: 0 };
    // No transparency log entry: rejected unless the caller accepts that (cosign --insecure-ignore-tlog).
    rejectsWith(() => verifySync(text, { path }, { key: signer.publicKey }, trust), 'TLOG_ENTRY_MISSING');
    assert.equal(verifySync(text, { path }, policy, trust).signer.kind, 'key');
    assert.equal((await verify(text, { bytes: data }, policy, trust)).artifactDigest.alg, digestAlgorithm);
    const digest = { digest: { alg: digestAlgorithm, value: createHash(digestAlgorithm).update(data).digest() } };
    if (alg === 'ed25519') rejectsWith(() => verifySync(text, digest, policy, trust), 'KEY_UNSUPPORTED');
    else assert.ok(verifySync(text, digest, policy, trust));
    rejectsWith(() => verifySync(text, { bytes: Buffer.from('other') }, policy, trust), 'DIGEST_MISMATCH');
    const other = generateKeyPair(alg);
    rejectsWith(() => verifySync(text, { path }, { key: other.publicKey, tlogThreshold: 0 }, trust), 'SIGNATURE_INVALID');
  });
}

test('attest-blob bundle: subject checked against the artifact, predicate type enforced', async () => {
  const kp = generateKeyPair('ecdsa-p256');
  const signer = new LocalSigner(kp.privateKey);
  const data = Buffer.from('attested\n');
  const sha = createHash('sha256').update(data).digest('hex');
  const { json } = await attestBlob([{ name: 'a.bin', digest: { sha256: sha } }], { signer, predicateType: 'https://slsa.dev/provenance/v1', predicate: { buildDefinition: {} } });
  const text = JSON.stringify(json);
  const policy: VerifyPolicy = { key: signer.publicKey, tlogThreshold: 0, predicateType: 'https://slsa.dev/provenance/v1' };
  const r = verifySync(text, { bytes: data }, policy, trust);
  assert.equal(r.statement?.subjectName, 'a.bin');
  rejectsWith(() => verifySync(text, { bytes: Buffer.from('not it') }, policy, trust), 'SUBJECT_MISMATCH');
  rejectsWith(() => verifySync(text, { bytes: data }, { ...policy, predicateType: 'https://spdx.dev/Document' }, trust), 'POLICY_VIOLATION');
});

test('a file above the in-memory limit is hashed in chunks and verified over its digest', async () => {
  const kp = generateKeyPair('ecdsa-p256');
  const signer = new LocalSigner(kp.privateKey);
  const path = join(dir, 'big.bin');
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  const fd = openSync(path, 'w');
  const n = IN_MEMORY_LIMIT / chunk.length + 1;
  for (let i = 0; i < n; i++) writeSync(fd, chunk);
  closeSync(fd);
  const h = createHash('sha256');
  for (let i = 0; i < n; i++) h.update(chunk);
  const digest = h.digest();
  const { json } = await signBlob(Buffer.concat(Array.from({ length: n }, () => chunk)), { signer });
  const text = JSON.stringify(json);
  const policy: VerifyPolicy = { key: signer.publicKey, tlogThreshold: 0 };
  const r = await verify(text, { path }, policy, trust);
  assert.equal(r.artifactDigest.hex, digest.toString('hex'));
  assert.ok(verifySync(text, { path }, policy, trust));
  rejectsWith(() => verifySync(text, { path }, { key: generateKeyPair('ecdsa-p256').publicKey, tlogThreshold: 0 }, trust), 'SIGNATURE_INVALID');
});
