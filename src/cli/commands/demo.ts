/**
 * `sigil demo` (what `npm start` runs until `sigil up` exists): the whole key-based flow, end to
 * end, in a temp directory, with the real modules the commands use: generate a key pair (cosign
 * format), sign a file into a Sigstore bundle v0.3, attest it with an in-toto statement, verify
 * both, then tamper with the file and show verification fail. Exit 0 only if every step behaved.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSigilError } from '../../core/errors.js';
import { digestFileSync } from '../../core/digest.js';
import { encryptCosignKey } from '../../crypto/cosign-key.js';
import { exportPublicKeyPem, generateKeyPair, importPrivateKey, importPublicKey, publicKeyHint } from '../../crypto/keys.js';
import { LocalSigner } from '../../crypto/local-signer.js';
import { PREDICATE_TYPES } from '../../formats/predicate-types.js';
import { signBlob } from '../../sign/sign-blob.js';
import { attestBlob } from '../../sign/attest-blob.js';
import { TrustedRoot } from '../../trust/trusted-root.js';
import { verify } from '../../verify/verify.js';
import { EXIT_OK, EXIT_VERIFY_FAILED, type Command } from '../command.js';
import { writeFileAtomic } from '../files.js';

export const demoCommand: Command = {
  path: ['demo'],
  summary: 'end-to-end demo: generate a key, sign a file, verify it, tamper with it, watch verification fail',
  flags: {
    keep: { type: 'boolean', description: 'keep the demo directory instead of deleting it' },
  },
  async run(flags, _pos, io) {
    const out = (s: string) => io.stdout.write(s + '\n');
    const dir = mkdtempSync(join(tmpdir(), 'sigil-demo-'));
    try {
      out(`sigil demo in ${dir}\n`);
      // 1. A release artifact.
      const artifact = join(dir, 'hello-1.0.0.tar');
      writeFileSync(artifact, `hello, world: release 1.0.0 built ${new Date().toISOString()}\n`.repeat(64));
      out(`1. artifact          ${artifact} (${readFileSync(artifact).length} bytes)`);

      // 2. Key pair in cosign's format; the demo password is fixed so nothing is prompted.
      const password = 'sigil-demo';
      const pair = generateKeyPair('ecdsa-p256');
      writeFileAtomic(join(dir, 'cosign.key'), encryptCosignKey(pair.privateKey, password), { mode: 0o600, overwrite: false });
      writeFileAtomic(join(dir, 'cosign.pub'), exportPublicKeyPem(pair.publicKey), { overwrite: false });
      out(`2. key pair          cosign.key (ENCRYPTED SIGSTORE PRIVATE KEY, scrypt + secretbox) and cosign.pub (ECDSA P-256)`);

      // 3. Sign: read the encrypted key back as `sigil sign-blob --key cosign.key` does.
      const signer = new LocalSigner(importPrivateKey(readFileSync(join(dir, 'cosign.key'), 'utf8'), password));
      const signed = await signBlob(readFileSync(artifact), { signer });
      const bundlePath = `${artifact}.sigstore.json`;
      writeFileAtomic(bundlePath, JSON.stringify(signed.json) + '\n');
      out(`3. signed            ${bundlePath} (bundle v0.3, message signature, public-key hint ${publicKeyHint(pair.publicKey)})`);

      // 4. Attest: an in-toto statement with a small SLSA v1 provenance predicate.
      const { sha256 } = digestFileSync(artifact, ['sha256']);
      const predicate = {
        buildDefinition: { buildType: 'https://sigil.dev/demo/build/v1', externalParameters: { source: 'demo' }, resolvedDependencies: [] },
        runDetails: { builder: { id: 'https://sigil.dev/demo/builder' }, metadata: { invocationId: dir } },
      };
      const attested = await attestBlob([{ name: 'hello-1.0.0.tar', digest: { sha256: sha256.toString('hex') } }], {
        signer,
        predicateType: PREDICATE_TYPES.slsaprovenance1!,
        predicate,
      });
      const attPath = `${artifact}.intoto.sigstore.json`;
      writeFileAtomic(attPath, JSON.stringify(attested.json) + '\n');
      out(`4. attested          ${attPath} (DSSE, in-toto Statement v1, predicate ${PREDICATE_TYPES.slsaprovenance1})`);

      // 5. Verify both with the verifier `sigil verify-blob --key cosign.pub --insecure-ignore-tlog` runs.
      // No transparency log runs in this demo, so the policy accepts zero log entries.
      const trust = { root: TrustedRoot.publicGood() };
      const policy = { key: importPublicKey(readFileSync(join(dir, 'cosign.pub'))), tlogThreshold: 0 };
      const r1 = await verify(readFileSync(bundlePath), { path: artifact }, policy, trust);
      out(`5. verified          signature: OK (${r1.content}, ${r1.artifactDigest.alg}:${r1.artifactDigest.hex.slice(0, 16)}…)`);
      const r2 = await verify(readFileSync(attPath), { path: artifact }, policy, trust);
      out(`                     attestation: OK (${r2.statement?.predicateType}, subject ${r2.statement?.subjectName})`);

      // 6. Tamper with the artifact: both must now fail.
      appendFileSync(artifact, 'one more byte\n');
      out(`6. tampered          appended 14 bytes to ${artifact}`);
      let failures = 0;
      for (const [what, path] of [
        ['signature', bundlePath],
        ['attestation', attPath],
      ] as const) {
        try {
          await verify(readFileSync(path), { path: artifact }, policy, trust);
          out(`   ${what}: still verifies — THIS IS A BUG`);
        } catch (e) {
          if (!isSigilError(e)) throw e;
          failures++;
          out(`7. rejected          ${what}: ${e.code}: ${e.message}`);
        }
      }
      if (failures !== 2) return EXIT_VERIFY_FAILED;
      out(`\nDemo complete: signing and verification work, and tampering is detected.${flags.keep ? ` Files kept in ${dir}` : ''}`);
      return EXIT_OK;
    } finally {
      if (!flags.keep) rmSync(dir, { recursive: true, force: true });
    }
  },
};
