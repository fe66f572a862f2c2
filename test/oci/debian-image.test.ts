/**
 * A real Debian bookworm image (debootstrap --variant=minbase, 52 MB gzip layer; cached under
 * ${SIGIL_TEST_CACHE:-~/.cache/sigil-test}, built once even when several test files ask at once)
 * pushed with skopeo, signed, then copied with its signatures to a second registry: the layer is
 * streamed in PATCH chunks across registries and checked against its digest, and the signature
 * still verifies at the destination. Also the cache lock itself, across processes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import { RegistryClient } from '../../src/oci/client.js';
import { parseReference } from '../../src/oci/reference.js';
import { resolveTargets, signTarget } from '../../src/oci/sign-image.js';
import { verifyImageSignatures } from '../../src/oci/verify-image.js';
import { copyImage } from '../../src/oci/copy.js';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushDebianImage } from '../helpers/images.js';

let a: TestRegistry;
let b: TestRegistry;
let client: RegistryClient;

before(async () => {
  [a, b] = await Promise.all([startRegistry(), startRegistry()]);
  client = new RegistryClient({ env: { HOME: '/nonexistent' }, chunkSize: 8 << 20 });
});

after(async () => {
  client?.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

test('Debian bookworm image: sign, copy across registries (streamed in chunks), verify at the destination', { timeout: 15 * 60_000 }, async () => {
  const deb = await pushDebianImage(a.host, 'debian/base', 'bookworm');
  const kp = generateKeyPair('ecdsa-p256');
  const [t] = await resolveTargets(client, parseReference(deb.ref));
  assert.equal(t!.descriptor.digest, deb.digest);
  await signTarget(client, t!, { producer: { signer: new LocalSigner(kp.privateKey) } });
  const m = await client.getManifest(parseReference(deb.ref));
  assert.equal(m.manifest.kind, 'manifest');
  const layer = m.manifest.kind === 'manifest' ? m.manifest.layers[0]! : undefined;
  assert.ok(layer && layer.size > 20 << 20, `a real rootfs layer (${layer?.size} bytes)`);

  const r = await copyImage(client, parseReference(deb.ref), parseReference(`${b.host}/mirror/debian:bookworm`));
  assert.equal(r.digest, deb.digest);
  assert.equal(r.blobs.mounted, 0, 'another registry: nothing to mount from');
  assert.ok(r.blobs.uploaded >= 2);
  assert.equal(r.attachments.referrers, 1);
  assert.deepEqual(r.attachments.tags, [`${deb.digest.replace(':', '-')}.sig`]);
  // The big layer arrived whole (the registry checked the digest when the upload was closed).
  assert.equal(await client.hasBlob({ registry: b.host, repository: 'mirror/debian' }, layer!.digest), true);
  const v = await verifyImageSignatures(client, parseReference(`${b.host}/mirror/debian:bookworm`), { policy: { key: kp.publicKey, tlogThreshold: 0 }, trust: { root: TrustedRoot.publicGood() } });
  assert.deepEqual(v.verified.map((x) => x.scheme).sort(), ['referrer', 'tag']);
});

test('the test cache is built once when two processes ask at once, and a dead owner\'s lock is taken over', { timeout: 60_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'sigil-cache-lock-'));
  try {
    const target = join(root, 'thing');
    const counter = join(root, 'builds');
    writeFileSync(counter, '');
    const script = `
      import { appendFileSync, writeFileSync } from 'node:fs';
      import { join } from 'node:path';
      import { buildCachedOnce } from ${JSON.stringify(join(REPO_ROOT, 'test/helpers/images.ts'))};
      const dir = await buildCachedOnce(${JSON.stringify(target)}, async (tmp) => {
        appendFileSync(${JSON.stringify(counter)}, 'x');
        await new Promise((r) => setTimeout(r, 400));
        writeFileSync(join(tmp, 'data'), 'built');
      });
      process.stdout.write(dir);
    `;
    const run = (): Promise<string> =>
      new Promise((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
      );
    const [one, two] = await Promise.all([run(), run()]);
    assert.equal(one, target);
    assert.equal(two, target);
    assert.equal(readFileSync(counter, 'utf8'), 'x', 'built exactly once');
    assert.equal(readFileSync(join(target, 'data'), 'utf8'), 'built');
    // A lock left by a process that died mid-build does not block the next one.
    const other = join(root, 'other');
    mkdirSync(`${other}.lock`);
    writeFileSync(join(`${other}.lock`, 'pid'), '999999');
    const t2 = script.replaceAll(JSON.stringify(target), JSON.stringify(other));
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', t2], { cwd: REPO_ROOT }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
    );
    assert.equal(out, other);
    assert.ok(existsSync(join(other, '.complete')));
    assert.ok(!existsSync(`${other}.lock`));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
