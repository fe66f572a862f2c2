import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SIGNING_CONFIG_MEDIA_TYPE, parseSigningConfig, selectService, selectServices, signingConfigToJSON, type ServiceEntry } from '../../src/formats/signing-config.js';

/** The shape of Sigstore's public-good signing_config.json (v0.2), trimmed to the fields that matter. */
const PUBLIC_GOOD = {
  mediaType: SIGNING_CONFIG_MEDIA_TYPE,
  caUrls: [{ url: 'https://fulcio.sigstore.dev', majorApiVersion: 1, validFor: { start: '2023-04-14T21:38:40Z' }, operator: 'sigstore.dev' }],
  oidcUrls: [{ url: 'https://oauth2.sigstore.dev/auth', majorApiVersion: 1, validFor: { start: '2025-04-16T00:00:00Z' }, operator: 'sigstore.dev' }],
  rekorTlogUrls: [
    { url: 'https://log2025-1.rekor.sigstore.dev', majorApiVersion: 2, validFor: { start: '2025-09-23T00:00:00Z' }, operator: 'sigstore.dev' },
    { url: 'https://rekor.sigstore.dev', majorApiVersion: 1, validFor: { start: '2021-01-12T11:53:27Z' }, operator: 'sigstore.dev' },
  ],
  rekorTlogConfig: { selector: 'ANY' },
  tsaUrls: [{ url: 'https://timestamp.sigstore.dev/api/v1/timestamp', majorApiVersion: 1, validFor: { start: '2025-07-04T00:00:00Z' }, operator: 'sigstore.dev' }],
  tsaConfig: { selector: 'ANY' },
};

test('signing config v0.2: parse, select by API version and validity, serialise back to the same JSON', () => {
  const c = parseSigningConfig(JSON.stringify(PUBLIC_GOOD));
  const at = new Date('2026-01-01T00:00:00Z');
  assert.equal(selectService(c.caUrls, [1], at)?.url, 'https://fulcio.sigstore.dev');
  assert.equal(selectServices(c.rekorTlogUrls, c.rekorTlogConfig, [1, 2], at)[0]?.url, 'https://log2025-1.rekor.sigstore.dev', 'highest supported version wins');
  assert.equal(selectServices(c.rekorTlogUrls, c.rekorTlogConfig, [1], at)[0]?.url, 'https://rekor.sigstore.dev', 'a v1-only client falls back');
  assert.equal(selectServices(c.rekorTlogUrls, c.rekorTlogConfig, [2], new Date('2025-01-01T00:00:00Z')).length, 0, 'not yet valid');
  assert.deepEqual(signingConfigToJSON(c), PUBLIC_GOOD);
});

test('selection: newest start first, end dates inclusive, one service per operator, EXACT counts', () => {
  const s = (url: string, operator: string, start: string, end?: string): ServiceEntry => ({ url, majorApiVersion: 1, operator, validFor: end ? { start: new Date(start), end: new Date(end) } : { start: new Date(start) } });
  const list = [s('https://old', 'a', '2020-01-01T00:00:00Z', '2024-01-01T00:00:00Z'), s('https://new', 'a', '2023-01-01T00:00:00Z'), s('https://b', 'b', '2022-01-01T00:00:00Z')];
  assert.equal(selectService(list, [1], new Date('2023-06-01T00:00:00Z'))?.url, 'https://new');
  assert.equal(selectService(list, [1], new Date('2024-01-01T00:00:00Z'))?.url, 'https://new');
  assert.deepEqual(selectServices(list, { selector: 'ALL' }, [1], new Date('2023-06-01T00:00:00Z')).map((x) => x.url), ['https://new', 'https://b']);
  assert.equal(selectServices(list, { selector: 'EXACT', count: 2 }, [1], new Date('2023-06-01T00:00:00Z')).length, 2);
  assert.throws(() => selectServices(list, { selector: 'EXACT', count: 3 }, [1], new Date('2023-06-01T00:00:00Z')), { code: 'SIGNING_CONFIG_MALFORMED' });
});

test('malformed signing configs are refused with the JSON path in the message', () => {
  const bad = (patch: Record<string, unknown>, re: RegExp) =>
    assert.throws(() => parseSigningConfig({ ...PUBLIC_GOOD, ...patch }), (e: Error & { code?: string }) => e.code === 'SIGNING_CONFIG_MALFORMED' && re.test(e.message));
  bad({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.1+json' }, /media type/);
  bad({ caUrls: [{ url: 'not a url', majorApiVersion: 1, validFor: { start: '2023-04-14T21:38:40Z' }, operator: 'x' }] }, /caUrls\[0\]\.url/);
  bad({ caUrls: [{ url: 'https://x', majorApiVersion: -1, validFor: { start: '2023-04-14T21:38:40Z' }, operator: 'x' }] }, /majorApiVersion/);
  bad({ caUrls: [{ url: 'https://x', majorApiVersion: 1, validFor: { start: 'yesterday' }, operator: 'x' }] }, /validFor\.start/);
  bad({ caUrls: [{ url: 'https://x', majorApiVersion: 1, validFor: { start: '2023-04-14T21:38:40Z', end: '2020-01-01T00:00:00Z' }, operator: 'x' }] }, /ends before it starts/);
  bad({ caUrls: [{ url: 'https://x', majorApiVersion: 1, validFor: { start: '2023-04-14T21:38:40Z' } }] }, /operator/);
  bad({ tsaConfig: { selector: 'SOME' } }, /selector/);
  bad({ tsaConfig: { selector: 'EXACT', count: 5 } }, /count/);
  assert.throws(() => parseSigningConfig('{"mediaType":'), { code: 'SIGNING_CONFIG_MALFORMED' });
  assert.throws(() => parseSigningConfig('[]'), { code: 'SIGNING_CONFIG_MALFORMED' });
});
