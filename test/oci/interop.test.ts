/**
 * Interop with independent Sigstore clients:
 *   - a DSSE bundle built by sigstore-js (@sigstore/sign) for an image digest is attached by the
 *     `sigstore attach` CLI (@sigstore/cli 0.8, which needs basic auth: the htpasswd registry)
 *     into the referrers tag schema; sigil finds it and verifies it;
 *   - a tampered attachment (the tag-schema index pointing at another image's referrer) is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DSSEBundleBuilder } from '@sigstore/sign';
import { bundleToJSON } from '@sigstore/bundle';
import { SigilError } from '../../src/core/errors.js';
import { RegistryClient, referrersTag } from '../../src/oci/client.js';
import { parseReference } from '../../src/oci/reference.js';
import { requireVerified, verifyImageAttestations, verifyImageSignatures } from '../../src/oci/verify-image.js';
import { discoverAttachments } from '../../src/oci/attachments.js';
import { OCI_INDEX } from '../../src/oci/media-types.js';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushTinyImage } from '../helpers/images.js';

let reg: TestRegistry;
let img: { ref: string; digest: string };
let other: { ref: string; digest: string };
let dir: string;
let client: RegistryClient;
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const trust = { root: TrustedRoot.publicGood() };
const PREDICATE = 'https://slsa.dev/provenance/v1';

function sigstoreCli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(REPO_ROOT, 'node_modules', '@sigstore', 'cli', 'bin', 'run'), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`sigstore ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** A v0.3 DSSE bundle from sigstore-js, signed with a plain key (no Fulcio, no log), for `digest`. */
async function sigstoreJsBundle(name: string, digest: string): Promise<Record<string, unknown>> {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name, digest: { sha256: digest.slice('sha256:'.length) } }],
    predicateType: PREDICATE,
    predicate: { buildDefinition: { buildType: 'https://example.com/test' }, runDetails: { builder: { id: 'https://example.com/builder' } } },
  };
  const builder = new DSSEBundleBuilder({
    signer: {
      sign: async (data: Buffer) => ({
        signature: sign('sha256', data, key.privateKey),
        key: { $case: 'publicKey', publicKey: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), hint: 'interop-key' },
      }),
    },
    witnesses: [],
  });
  const bundle = await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: 'application/vnd.in-toto+json' });
  return bundleToJSON(bundle) as unknown as Record<string, unknown>;
}

before(async () => {
  reg = await startRegistry({ htpasswd: { username: 'testuser', password: 'testpass' } });
  dir = mkdtempSync(join(tmpdir(), 'sigil-interop-'));
  client = new RegistryClient({ dockerConfigPath: reg.dockerConfigPath!, env: { HOME: '/nonexistent' } });
  // skopeo needs the credentials too.
  const push = async (repo: string, content: string): Promise<{ ref: string; digest: string }> => {
    process.env.REGISTRY_AUTH_FILE = reg.dockerConfigPath!;
    try {
      return await pushTinyImage(reg.host, repo, 'v1', { content });
    } finally {
      delete process.env.REGISTRY_AUTH_FILE;
    }
  };
  img = await push('interop/app', 'interop app');
  other = await push('interop/app2', 'interop other');
});

after(async () => {
  client?.close();
  await reg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('sigstore attach (@sigstore/cli 0.8) stores a sigstore-js bundle in the tag schema; sigil finds and verifies it', async () => {
  const bundle = await sigstoreJsBundle(`${reg.host}/interop/app`, img.digest);
  const file = join(dir, 'bundle.json');
  writeFileSync(file, JSON.stringify(bundle));
  const out = await sigstoreCli(['attach', '-u', 'testuser', '-p', 'testpass', '--attestation', file, `${reg.host}/interop/app@${img.digest}`]);
  assert.match(out.stderr, /Artifact attached to image: sha256:[0-9a-f]{64}/);
  const attached = /sha256:[0-9a-f]{64}/.exec(out.stderr)![0];

  const found = await discoverAttachments(client, { registry: reg.host, repository: 'interop/app' }, img.digest);
  assert.equal(found.referrersSource, 'tag-schema');
  assert.equal(found.referrers.length, 1);
  assert.equal(found.referrers[0]!.descriptor.digest, attached);
  assert.equal(found.referrers[0]!.kind, 'bundle', 'sigstore attach does not annotate the predicate type');

  const v = await verifyImageAttestations(client, parseReference(img.ref), { policy: { key: key.publicKey, tlogThreshold: 0 }, trust, predicateType: PREDICATE });
  assert.equal(v.verified.length, 1, JSON.stringify(v.rejected.map((r) => r.error.message)));
  assert.equal(v.verified[0]!.scheme, 'referrer');
  assert.equal(v.verified[0]!.source, attached);
  assert.equal(v.verified[0]!.result.statement?.predicateType, PREDICATE);
  requireVerified(v, 'attestations');

  // It is an attestation, not an image signature; another key does not verify it.
  const sigs = await verifyImageSignatures(client, parseReference(img.ref), { policy: { key: key.publicKey, tlogThreshold: 0 }, trust });
  assert.throws(() => requireVerified(sigs, 'signatures'), (e: SigilError) => e.code === 'SIGNATURE_MISSING');
  const wrongKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const bad = await verifyImageAttestations(client, parseReference(img.ref), { policy: { key: wrongKey, tlogThreshold: 0 }, trust, predicateType: PREDICATE });
  assert.throws(() => requireVerified(bad, 'attestations'), (e: SigilError) => e.kind === 'verification' && e.code !== 'SIGNATURE_MISSING');
});

test('a referrers tag index edited to list another image\'s attestation is refused (subject mismatch)', async () => {
  const repo = { registry: reg.host, repository: 'interop/app' };
  // Put image app's referrer (same repository) into a forged index under a third digest's tag.
  const idx = await client.getManifest({ ...repo, tag: referrersTag(img.digest) });
  const forgedFor = other.digest;
  await client.putManifest(repo, referrersTag(forgedFor), idx.bytes, OCI_INDEX);
  const v = await verifyImageAttestations(client, { ...repo, digest: forgedFor }, { policy: { key: key.publicKey, tlogThreshold: 0 }, trust, predicateType: PREDICATE });
  assert.equal(v.verified.length, 0);
  assert.throws(() => requireVerified(v, 'attestations'), (e: SigilError) => e.code === 'SUBJECT_MISMATCH' && e.kind === 'verification');
});
