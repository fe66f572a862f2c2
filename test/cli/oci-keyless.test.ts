/**
 * `sigil sign --keyless` / `attest --keyless` / `attach sbom --keyless` over several images in one
 * invocation against a `sigil up` stack and the real docker-registry, then `sigil verify` /
 * `verify-attestation` by identity: one certificate for the whole run, wrong identity → exit 1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSigil, type CliResult } from '../helpers/cli-run.js';
import { startTestStack } from '../helpers/keyless.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushTinyImage } from '../helpers/images.js';

type TestStack = Awaited<ReturnType<typeof startTestStack>>;
let stack: TestStack;
let reg: TestRegistry;
let dir: string;
let images: { ref: string; digest: string }[];

async function sigil(...args: string[]): Promise<CliResult> {
  return runSigil(args, { HOME: '/nonexistent' }, { cwd: dir });
}

before(async () => {
  [stack, reg] = await Promise.all([startTestStack(), startRegistry()]);
  dir = mkdtempSync(join(tmpdir(), 'sigil-cli-keyless-'));
  writeFileSync(join(dir, 'vex.json'), JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', statements: [] }));
  writeFileSync(join(dir, 'bom.cdx.json'), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1, components: [] }));
  images = await Promise.all([1, 2, 3].map((i) => pushTinyImage(reg.host, `kl/app${i}`, 'v1', { content: `kl ${i}` })));
});

after(async () => {
  await reg?.stop();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const signFlags = async (): Promise<string[]> => ['--keyless', '--signing-config', stack.signingConfigPath, '--identity-token', await stack.oidc.mint()];
const verifyFlags = (): string[] => ['--trusted-root', stack.trustedRootPath, '--certificate-identity', 'dev@sigil.local', '--certificate-oidc-issuer', stack.urls.oidc];

test('sign --keyless three images in one invocation: one certificate, each verifies by identity', async () => {
  const s = await sigil('sign', ...(await signFlags()), '--output', 'json', ...images.map((i) => i.ref));
  assert.equal(s.code, 0, s.stderr);
  assert.equal((s.stderr.match(/Keyless: certificate for dev@sigil\.local/g) ?? []).length, 1);
  assert.equal((JSON.parse(s.stdout) as { signed: unknown[] }).signed.length, 3);
  const v = await sigil('verify', ...verifyFlags(), '--output', 'json', ...images.map((i) => i.ref));
  assert.equal(v.code, 0, v.stderr);
  const doc = JSON.parse(v.stdout) as { images: { verified: { signer: { serialNumber: string } }[] }[] };
  const serials = new Set(doc.images.flatMap((i) => i.verified.map((x) => x.signer.serialNumber)));
  assert.equal(serials.size, 1);
  assert.ok(doc.images.every((i) => i.verified.length === 2), 'referrer and .sig (no referrers API here)');
  const wrong = await sigil('verify', '--trusted-root', stack.trustedRootPath, '--certificate-identity', 'mallory@sigil.local', '--certificate-oidc-issuer', stack.urls.oidc, images[0]!.ref);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /IDENTITY_MISMATCH/);
  const both = await sigil('sign', '--keyless', '--key', 'x.key', images[0]!.ref);
  assert.equal(both.code, 2);
});

test('attest --keyless and attach sbom --keyless; verify-attestation by type and identity', async () => {
  const a = await sigil('attest', ...(await signFlags()), '--predicate', 'vex.json', '--type', 'openvex', images[0]!.ref);
  assert.equal(a.code, 0, a.stderr);
  const sb = await sigil('attach', 'sbom', ...(await signFlags()), '--sbom', 'bom.cdx.json', images[0]!.ref);
  assert.equal(sb.code, 0, sb.stderr);
  assert.match(sb.stdout, /application\/vnd\.cyclonedx\+json/);
  for (const type of ['openvex', 'cyclonedx']) {
    const v = await sigil('verify-attestation', ...verifyFlags(), '--type', type, images[0]!.ref);
    assert.equal(v.code, 0, `${type}: ${v.stderr}`);
  }
  const none = await sigil('verify-attestation', ...verifyFlags(), '--type', 'slsaprovenance1', images[0]!.ref);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no attestations found/);
});
