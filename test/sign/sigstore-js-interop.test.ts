/**
 * sigstore-js (sigstore 4 / @sigstore/sign 4, the Node 20 line) as the signing client of sigil's
 * stack: its Fulcio client gets certificates from sigil's CA, its Rekor client writes to sigil's
 * log (v1 through `sigstore.sign`, v2 through a signing config), its TSA client timestamps with
 * sigil's TSA. sigil then verifies the bundles with an identity policy.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as sigstore from 'sigstore';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { SigningConfig } from '@sigstore/protobuf-specs';
import { bundleToJSON } from '@sigstore/bundle';
import { TrustedRoot } from '../../src/trust/trusted-root.js';
import { verify } from '../../src/verify/verify.js';
import { startTestStack } from '../helpers/keyless.js';

type TestStack = Awaited<ReturnType<typeof startTestStack>>;

describe('sigstore-js signs against sigil CA, log and TSA; sigil verifies', () => {
  let stack: TestStack;
  let root: TrustedRoot;
  let policy: { identity: { subjectAlternativeName: { exact: string }; issuer: { exact: string } } };

  before(async () => {
    stack = await startTestStack();
    root = TrustedRoot.fromJSON(JSON.parse(readFileSync(stack.trustedRootPath, 'utf8')));
    policy = { identity: { subjectAlternativeName: { exact: 'dev@sigil.local' }, issuer: { exact: stack.urls.oidc } } };
  });
  after(async () => stack.stop());

  test('sigstore.sign with custom Fulcio, Rekor (v1) and TSA URLs and an explicit identity token', async () => {
    const payload = Buffer.from('signed by sigstore-js\n');
    const bundle = await sigstore.sign(payload, {
      fulcioURL: stack.urls.ca,
      rekorURL: stack.urls.tlog!,
      tsaServerURL: stack.urls.tsa,
      identityToken: await stack.oidc.mint(),
    });
    const result = await verify(bundle as unknown as Record<string, unknown>, { bytes: payload }, policy, { root });
    assert.equal(result.signer.kind, 'certificate');
    assert.ok(result.timestamps.some((t) => t.source === 'timestamp-authority'));
    assert.ok(result.timestamps.some((t) => t.source === 'transparency-log'), 'Rekor v1 integrated time with a SET');
    await assert.rejects(verify(bundle as unknown as Record<string, unknown>, { bytes: Buffer.from('other') }, policy, { root }));
    await assert.rejects(
      verify(bundle as unknown as Record<string, unknown>, { bytes: payload }, { identity: { ...policy.identity, issuer: { exact: 'https://accounts.google.com' } } }, { root }),
      { code: 'IDENTITY_MISMATCH' },
    );
  });

  test('sigstore.attest (DSSE) against the same services', async () => {
    const digest = createHash('sha256').update('x').digest('hex');
    const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'x', digest: { sha256: digest } }], predicateType: 'https://example/p', predicate: {} }));
    const bundle = await sigstore.attest(statement, 'application/vnd.in-toto+json', {
      fulcioURL: stack.urls.ca,
      rekorURL: stack.urls.tlog!,
      tsaServerURL: stack.urls.tsa,
      identityToken: await stack.oidc.mint(),
    });
    const result = await verify(bundle as unknown as Record<string, unknown>, { digest: { alg: 'sha256', value: Buffer.from(digest, 'hex') } }, policy, { root });
    assert.equal(result.content, 'dsse');
  });

  test('@sigstore/sign from sigil\'s signing_config.json (Rekor v2 log, TSA) with an identity provider', async () => {
    const config = SigningConfig.fromJSON(JSON.parse(readFileSync(stack.signingConfigPath, 'utf8')));
    const token = await stack.oidc.mint();
    const builder = bundleBuilderFromSigningConfig({ signingConfig: config, identityProvider: { getToken: async () => token }, bundleType: 'messageSignature' });
    const payload = Buffer.from('v2 entry\n');
    const bundle = bundleToJSON(await builder.create({ data: payload }));
    const entries = (bundle.verificationMaterial as { tlogEntries: { kindVersion: { version: string } }[] }).tlogEntries;
    assert.equal(entries[0]?.kindVersion.version, '0.0.2', 'a Rekor v2 entry');
    const result = await verify(bundle as unknown as Record<string, unknown>, { bytes: payload }, policy, { root });
    assert.equal(result.tlogEntries.length, 1);
  });
});
