/**
 * The image commands end to end through sigil's CLI dispatcher: sign / attest / attach sbom /
 * verify / verify-attestation / tree / triangulate / copy against the real docker-registry, with
 * signatures recorded in sigil's own transparency log (Rekor v1 API, so cosign's `.sig` layers get
 * their signed-entry-timestamp annotation) and verified against a trusted root holding its key.
 * Exit codes: 0 ok, 1 verification failed, 2 bad input.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../src/crypto/local-signer.js';
import { SqliteLogStore } from '../../src/services/storage/sqlite-log-store.js';
import { TransparencyLog } from '../../src/services/log/log.js';
import { serveLog } from '../../src/services/log/server.js';
import type { RunningServer } from '../../src/services/http.js';
import { runSigil, type CliResult } from '../helpers/cli-run.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushMultiArchIndex, pushTinyImage } from '../helpers/images.js';
import { addUnrelatedEntry, logOnlyTrustedRoot } from '../helpers/log-fixture.js';

let dir: string;
let reg: TestRegistry;
let log: TransparencyLog;
let server: RunningServer;
let app: { ref: string; digest: string };
let unsigned: { ref: string; digest: string };
const logKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const env = { SIGIL_PASSWORD: 'pw', HOME: '/nonexistent' };

async function sigil(...args: string[]): Promise<CliResult> {
  return runSigil(args, env, { cwd: dir });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-cli-oci-'));
  reg = await startRegistry();
  log = await TransparencyLog.open({ store: SqliteLogStore.open(join(dir, 'log.db')), signer: new LocalSigner(logKey.privateKey), origin: 'sigil.test' });
  server = await serveLog(log, 0);
  writeFileSync(
    join(dir, 'trusted_root.json'),
    JSON.stringify(logOnlyTrustedRoot(logKey.publicKey, log.logId)),
  );
  await addUnrelatedEntry(server.url);
  assert.equal((await sigil('generate-key-pair')).code, 0);
  writeFileSync(join(dir, 'other.pub'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'provenance.json'), JSON.stringify({ buildDefinition: { buildType: 'https://example.com/build' }, runDetails: { builder: { id: 'https://example.com/ci' } } }));
  writeFileSync(join(dir, 'bom.spdx.json'), JSON.stringify({ spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: 'app', packages: [] }));
  [app, unsigned] = await Promise.all([pushTinyImage(reg.host, 'cli/app', 'v1', { content: 'cli app' }), pushTinyImage(reg.host, 'cli/unsigned', 'v1', { content: 'nobody' })]);
});

after(async () => {
  await server?.close();
  await log?.close();
  await reg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const trustFlags = ['--trusted-root', 'trusted_root.json'];

test('sign with a transparency log, then verify: both schemes verify, payloads on stdout, checks on stderr', async () => {
  const s = await sigil('sign', '--key', 'cosign.key', '--rekor-url', server.url, '--tlog-api', 'v1', '-a', 'team=release', app.ref);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stderr, /warning: tag 'v1' resolved to sha256:/);
  assert.match(s.stdout, new RegExp(`Signed ${reg.host.replace(/\./g, '\\.')}/cli/app@${app.digest}`));
  assert.match(s.stdout, /cosign signature sha256-[0-9a-f]{64}\.sig/);
  const v = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, '-a', 'team=release', app.ref);
  assert.equal(v.code, 0, v.stderr);
  const payloads = v.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(payloads.length, 2);
  assert.ok(payloads.some((p) => (p.critical as { image: Record<string, string> } | undefined)?.image['docker-manifest-digest'] === app.digest));
  assert.ok(payloads.some((p) => p.predicateType === 'https://sigstore.dev/cosign/sign/v1'));
  assert.match(v.stderr, /verified: referrer sha256:[0-9a-f]{64} signed by key .*log index \d+/);
  assert.match(v.stderr, /verified: tag sha256-[0-9a-f]{64}\.sig\[0\] signed by key \S+, log index \d+/);
  const json = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, '--output', 'json', `${reg.host}/cli/app@${app.digest}`);
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout) as { images: { digest: string; verified: { tlogEntries: unknown[] }[] }[] };
  assert.equal(doc.images[0]!.digest, app.digest);
  assert.ok(doc.images[0]!.verified.every((x) => x.tlogEntries.length === 1));
});

test('verify failures exit 1: wrong key, wrong annotation, unsigned image; bad input exits 2', async () => {
  const wrong = await sigil('verify', '--key', 'other.pub', ...trustFlags, app.ref);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /Error: [A-Z_]+: none of the 2 signatures for sha256:/);
  assert.match(wrong.stderr, /rejected: referrer sha256:[0-9a-f]{64}: /);
  const ann = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, '-a', 'team=dev', app.ref);
  assert.equal(ann.code, 1);
  assert.match(ann.stderr, /POLICY_VIOLATION/);
  const none = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, unsigned.ref);
  assert.equal(none.code, 1);
  assert.match(none.stderr, new RegExp(`Error: SIGNATURE_MISSING: no signatures found for ${unsigned.digest}`));
  const badRef = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, 'Not/A:Valid:Ref');
  assert.equal(badRef.code, 2);
  assert.match(badRef.stderr, /REFERENCE_MALFORMED/);
  const noPolicy = await sigil('verify', ...trustFlags, app.ref);
  assert.equal(noPolicy.code, 2);
  const down = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, '127.0.0.1:1/cli/app:v1');
  assert.equal(down.code, 2);
  assert.match(down.stderr, /NETWORK: cannot reach registry 127\.0\.0\.1:1/);
  const missing = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, `${reg.host}/cli/app:nope`);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /NOT_FOUND: manifest nope not found in repository cli\/app/);
});

test('sign without a log: verify needs --insecure-ignore-tlog', async () => {
  const img = await pushTinyImage(reg.host, 'cli/nolog', 'v1', { content: 'no log' });
  assert.equal((await sigil('sign', '--key', 'cosign.key', img.ref)).code, 0);
  const strict = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, img.ref);
  assert.equal(strict.code, 1);
  const waived = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, '--insecure-ignore-tlog', img.ref);
  assert.equal(waived.code, 0, waived.stderr);
  assert.match(waived.stderr, /NOT required/);
});

test('attest + verify-attestation --type; attach sbom; tree lists both schemes; triangulate', async () => {
  const a = await sigil('attest', '--key', 'cosign.key', '--rekor-url', server.url, '--tlog-api', 'v1', '--predicate', 'provenance.json', '--type', 'slsaprovenance1', app.ref);
  assert.equal(a.code, 0, a.stderr);
  const va = await sigil('verify-attestation', '--key', 'cosign.pub', ...trustFlags, '--type', 'slsaprovenance1', app.ref);
  assert.equal(va.code, 0, va.stderr);
  assert.equal(va.stdout.trim().split('\n').length, 2, 'referrer and .att');
  const wrongType = await sigil('verify-attestation', '--key', 'cosign.pub', ...trustFlags, '--type', 'spdxjson', app.ref);
  assert.equal(wrongType.code, 1);
  assert.match(wrongType.stderr, /no attestations found for sha256:/);
  const sb = await sigil('attach', 'sbom', '--sbom', 'bom.spdx.json', app.ref);
  assert.equal(sb.code, 0, sb.stderr);
  assert.match(sb.stderr, /not signed/);
  const tree = await sigil('tree', app.ref);
  assert.equal(tree.code, 0, tree.stderr);
  assert.match(tree.stdout, /OCI referrers \(referrers tag .*:sha256-[0-9a-f]{64}\): 3/);
  assert.match(tree.stdout, /signature\s+sha256:/);
  assert.match(tree.stdout, /attestation sha256:.*predicate https:\/\/slsa\.dev\/provenance\/v1/);
  assert.match(tree.stdout, /sbom\s+sha256:.*text\/spdx\+json/);
  assert.match(tree.stdout, /signatures .*\.sig \(1 layer\)/);
  assert.match(tree.stdout, /attestations .*\.att/);
  assert.match(tree.stdout, /sboms .*\.sbom/);
  const tj = JSON.parse((await sigil('tree', '--output', 'json', app.ref)).stdout) as { referrers: { manifests: { kind: string }[] }; tags: { kind: string }[] };
  assert.deepEqual(tj.referrers.manifests.map((m) => m.kind).sort(), ['attestation', 'sbom', 'signature']);
  assert.deepEqual(tj.tags.map((t) => t.kind).sort(), ['attestation', 'sbom', 'signature']);
  const hex = app.digest.slice(7);
  for (const [type, want] of [
    ['signature', `${reg.host}/cli/app:sha256-${hex}.sig`],
    ['attestation', `${reg.host}/cli/app:sha256-${hex}.att`],
    ['sbom', `${reg.host}/cli/app:sha256-${hex}.sbom`],
    ['referrers', `${reg.host}/cli/app:sha256-${hex}`],
    ['digest', `${reg.host}/cli/app@${app.digest}`],
  ]) {
    const t = await sigil('triangulate', '--type', type!, app.ref);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.stdout, want + '\n');
  }
  assert.equal((await sigil('triangulate', '--type', 'nope', app.ref)).code, 2);
});

test('copy: image and attachments to another repository; signatures verify at the destination', async () => {
  const c = await sigil('copy', app.ref, `${reg.host}/cli/copy:v1`);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, new RegExp(`to ${reg.host.replace(/\./g, '\\.')}/cli/copy:v1@${app.digest}`));
  assert.match(c.stdout, /blobs 0 uploaded \/ \d+ mounted/);
  const v = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, `${reg.host}/cli/copy:v1`);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim().split('\n').length, 2);
  const va = await sigil('verify-attestation', '--key', 'cosign.pub', ...trustFlags, '--type', 'slsaprovenance1', `${reg.host}/cli/copy:v1`);
  assert.equal(va.code, 0, va.stderr);
  const t = JSON.parse((await sigil('tree', '--output', 'json', `${reg.host}/cli/copy:v1`)).stdout) as { referrers: { manifests: unknown[] }; tags: unknown[] };
  assert.deepEqual([t.referrers.manifests.length, t.tags.length], [3, 3]);
});

test('sign --recursive on a multi-arch index, copy it with --only-image and with attachments', async () => {
  const multi = await pushMultiArchIndex(reg.host, 'cli/multi', 'v1');
  const s = await sigil('sign', '--key', 'cosign.key', '--recursive', '--output', 'json', multi.ref);
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual((JSON.parse(s.stdout) as { signed: { digest: string }[] }).signed.map((x) => x.digest), [multi.digest, ...multi.platforms.map((p) => p.digest)]);
  const bare = await sigil('copy', '--only-image', multi.ref, `${reg.host}/cli/multi-bare:v1`);
  assert.equal(bare.code, 0, bare.stderr);
  const noSig = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, '--insecure-ignore-tlog', `${reg.host}/cli/multi-bare:v1`);
  assert.equal(noSig.code, 1);
  assert.match(noSig.stderr, /no signatures found/);
  const full = await sigil('copy', multi.ref, `${reg.host}/cli/multi-full:v1`);
  assert.equal(full.code, 0, full.stderr);
  for (const d of [multi.digest, ...multi.platforms.map((p) => p.digest)]) {
    const v = await sigil('verify', '--key', 'cosign.pub', ...trustFlags, '--insecure-ignore-tlog', `${reg.host}/cli/multi-full@${d}`);
    assert.equal(v.code, 0, `${d}: ${v.stderr}`);
  }
});
