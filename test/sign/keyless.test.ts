/**
 * Keyless signing end to end against a running `sigil up` stack (CA + CT log + transparency log +
 * TSA + dev OIDC issuer, all over HTTP), verified by sigil's verifier and by sigstore-js
 * (@sigstore/verify with its default thresholds: 1 SCT, 1 tlog entry, 1 timestamp).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { bundleFromJSON as sigstoreBundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot as ProtoTrustedRoot } from '@sigstore/protobuf-specs';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { verify } from '../../src/verify/verify.js';
import { parseSigningConfig } from '../../src/formats/signing-config.js';
import { beginKeyless, keylessAttestBlob, keylessSignBlob, servicesFromSigningConfig } from '../../src/sign/keyless.js';
import { obtainIdentityToken } from '../../src/sign/keyless/token.js';
import { startTestStack } from '../helpers/keyless.js';

type TestStack = Awaited<ReturnType<typeof startTestStack>>;

describe('keyless signing against sigil up', () => {
  let stack: TestStack;
  let trustJson: unknown;
  let root: TrustedRoot;

  before(async () => {
    stack = await startTestStack();
    trustJson = JSON.parse(readFileSync(stack.trustedRootPath, 'utf8'));
    root = TrustedRoot.fromJSON(trustJson);
  });
  after(async () => stack.stop());

  async function session(token?: string) {
    const services = servicesFromSigningConfig(parseSigningConfig(readFileSync(stack.signingConfigPath)));
    return beginKeyless({ token: token ?? (await stack.oidc.mint()), caUrl: services.caUrl, tlog: services.tlogs[0]!, tsaUrls: services.tsaUrls });
  }

  function sigstoreVerify(bundleJson: Record<string, unknown>, artifact?: Buffer) {
    const verifier = new Verifier(toTrustMaterial(ProtoTrustedRoot.fromJSON(trustJson)));
    const entity = toSignedEntity(sigstoreBundleFromJSON(bundleJson), artifact);
    return verifier.verify(entity, { subjectAlternativeName: 'dev@sigil.local', extensions: { issuer: stack.urls.oidc } });
  }

  test('signing config from sigil up selects the CA, the Rekor v2 log and the TSA of the stack', () => {
    const s = servicesFromSigningConfig(parseSigningConfig(readFileSync(stack.signingConfigPath)));
    assert.equal(s.caUrl, stack.urls.ca);
    assert.equal(s.oidcUrl, stack.urls.oidc);
    assert.deepEqual(s.tlogs, [{ url: stack.urls.tlog, api: 'v2' }]);
    assert.deepEqual(s.tsaUrls, [stack.urls.tsa]);
  });

  test('sign-blob: bundle with certificate, tlog entry and RFC 3161 timestamp verifies with sigil and with sigstore-js', async () => {
    const artifact = Buffer.from('release 1.0\n');
    const s = await session();
    assert.equal(s.identity.subjectAlternativeName, 'dev@sigil.local');
    const result = await keylessSignBlob(artifact, s);
    const vm = result.json.verificationMaterial as Record<string, unknown>;
    assert.ok('certificate' in vm);
    assert.equal((vm.tlogEntries as unknown[]).length, 1);
    assert.equal(((vm.timestampVerificationData as { rfc3161Timestamps: unknown[] }).rfc3161Timestamps).length, 1);

    const ours = await verify(result.json, { bytes: artifact }, { identity: { subjectAlternativeName: { exact: 'dev@sigil.local' }, issuer: { exact: stack.urls.oidc } } }, { root });
    assert.equal(ours.signer.kind, 'certificate');
    assert.ok(ours.timestamps.some((t) => t.source === 'timestamp-authority'));

    const signer = sigstoreVerify(result.json, artifact);
    assert.equal(signer.identity?.subjectAlternativeName, 'dev@sigil.local');

    await assert.rejects(verify(result.json, { bytes: Buffer.from('release 1.1\n') }, { identity: { subjectAlternativeName: { exact: 'dev@sigil.local' }, issuer: { exact: stack.urls.oidc } } }, { root }));
    assert.throws(() => sigstoreVerify(result.json, Buffer.from('release 1.1\n')));
    await assert.rejects(verify(result.json, { bytes: artifact }, { identity: { subjectAlternativeName: { exact: 'other@sigil.local' }, issuer: { exact: stack.urls.oidc } } }, { root }), { code: 'IDENTITY_MISMATCH' });
  });

  test('attest-blob: DSSE in-toto bundle verifies with sigil and with sigstore-js', async () => {
    const artifact = Buffer.from('binary\n');
    const digest = createHash('sha256').update(artifact).digest('hex');
    const s = await session();
    const result = await keylessAttestBlob([{ name: 'app.bin', digest: { sha256: digest } }], { predicateType: 'https://slsa.dev/provenance/v1', predicate: { buildDefinition: { buildType: 'x' } } }, s);
    const ours = await verify(result.json, { bytes: artifact }, { identity: { subjectAlternativeName: { exact: 'dev@sigil.local' }, issuer: { exact: stack.urls.oidc } } }, { root });
    assert.equal(ours.content, 'dsse');
    sigstoreVerify(result.json);
  });

  test('token sources: SIGIL_IDENTITY_TOKEN, GitHub Actions token service, browser login (PKCE) against the dev issuer', async () => {
    const minted = await stack.oidc.mint();
    assert.deepEqual(await obtainIdentityToken({ env: { SIGIL_IDENTITY_TOKEN: minted } }), { token: minted, source: 'env' });

    // A stand-in for GitHub's token service: same request shape (bearer + audience query), real HTTP.
    let seen: { auth?: string; audience?: string | null } = {};
    const gh = createServer((req, res) => {
      seen = { auth: req.headers.authorization, audience: new URL(req.url!, 'http://x').searchParams.get('audience') };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: minted }));
    });
    await new Promise<void>((r) => gh.listen(0, '127.0.0.1', r));
    try {
      const port = (gh.address() as AddressInfo).port;
      const got = await obtainIdentityToken({ env: { ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-secret' } });
      assert.deepEqual(got, { token: minted, source: 'github-actions' });
      assert.deepEqual(seen, { auth: 'bearer runner-secret', audience: 'sigstore' });
    } finally {
      gh.close();
    }

    // The "browser": follows the dev issuer's redirect to the loopback callback.
    const browser = async (url: string) => {
      const r = await fetch(url, { redirect: 'manual' });
      await fetch(r.headers.get('location')!);
    };
    const viaBrowser = await obtainIdentityToken({ env: {}, issuer: stack.urls.oidc, openUrl: browser, say: () => undefined });
    assert.equal(viaBrowser.source, 'browser');
    const s = await session(viaBrowser.token);
    assert.equal(s.identity.subjectAlternativeName, 'dev@sigil.local');

    await assert.rejects(obtainIdentityToken({ env: {} }), { code: 'USAGE' });
    await assert.rejects(obtainIdentityToken({ explicit: 'not-a-jwt', env: {} }), { code: 'USAGE' });
  });

  test('a CA refusal surfaces as a clear error and nothing is signed', async () => {
    const expired = await stack.oidc.mint({ issuedAt: Math.floor(Date.now() / 1000) - 7200 });
    await assert.rejects(session(expired), (e: Error & { code?: string }) => e.code === 'UNAUTHORIZED' && /expired/.test(e.message));
  });
});

describe('sigil up restarted on the same state directory', () => {
  test('keys, CA chain and logs are reused: a bundle signed before the restart verifies with the trusted root written after it', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'sigil-restart-'));
    try {
      const first = await startTestStack({ stateDir: dir });
      const port = Number(new URL(first.url).port);
      const services = servicesFromSigningConfig(parseSigningConfig(readFileSync(first.signingConfigPath)));
      const session = await beginKeyless({ token: await first.oidc.mint(), caUrl: services.caUrl, tlog: services.tlogs[0]!, tsaUrls: services.tsaUrls });
      const artifact = Buffer.from('before restart\n');
      const signed = await keylessSignBlob(artifact, session);
      const rootBefore = readFileSync(first.trustedRootPath, 'utf8');
      await first.close();

      const second = await startTestStack({ stateDir: dir, port });
      try {
        assert.equal(readFileSync(second.trustedRootPath, 'utf8'), rootBefore, 'same keys, chains and validity windows');
        const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(second.trustedRootPath, 'utf8')));
        const policy = { identity: { subjectAlternativeName: { exact: 'dev@sigil.local' }, issuer: { exact: second.urls.oidc } } };
        await verify(signed.json, { bytes: artifact }, policy, { root });
        assert.ok(second.ctLog.size >= 1, 'the CT log kept its entries');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
