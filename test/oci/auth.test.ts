import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigilError } from '../../src/core/errors.js';
import { loadDockerCredentials, parseChallenges } from '../../src/oci/auth.js';

test('challenges: Docker Hub bearer, distribution basic, several in one header, escapes', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/debian:pull' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="sigil-test-registry"'), [{ scheme: 'basic', params: { realm: 'sigil-test-registry' } }]);
  assert.deepEqual(parseChallenges('Basic realm="a, b", Bearer realm="https://x/token", service=x.io'), [
    { scheme: 'basic', params: { realm: 'a, b' } },
    { scheme: 'bearer', params: { realm: 'https://x/token', service: 'x.io' } },
  ]);
  assert.deepEqual(parseChallenges('Bearer realm="q\\"uote"'), [{ scheme: 'bearer', params: { realm: 'q"uote' } }]);
  assert.deepEqual(parseChallenges(''), []);
  // Malformed headers never hang or throw.
  assert.ok(Array.isArray(parseChallenges('=== ,,, "unterminated')));
  assert.ok(Array.isArray(parseChallenges('Bearer realm="unterminated')));
});

test('docker config: auths by host in several spellings; helpers reported, not run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-dockercfg-'));
  const cfg = join(dir, 'config.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub:pass').toString('base64') },
        '127.0.0.1:5000': { username: 'u', password: 'p' },
        'https://ghcr.io': { identitytoken: 'refresh' },
      },
      credHelpers: { 'gcr.io': 'gcloud' },
    }),
  );
  const env = {};
  assert.deepEqual(loadDockerCredentials('docker.io', env, cfg).credentials, { username: 'hubuser', password: 'hub:pass' });
  assert.deepEqual(loadDockerCredentials('127.0.0.1:5000', env, cfg).credentials, { username: 'u', password: 'p' });
  assert.deepEqual(loadDockerCredentials('ghcr.io', env, cfg).credentials, { identityToken: 'refresh' });
  assert.deepEqual(loadDockerCredentials('gcr.io', env, cfg), { helper: 'gcloud' });
  assert.deepEqual(loadDockerCredentials('quay.io', env, cfg), {});
  assert.deepEqual(loadDockerCredentials('quay.io', env, join(dir, 'missing.json')), {});
  // DOCKER_CONFIG points at the directory.
  assert.deepEqual(loadDockerCredentials('127.0.0.1:5000', { DOCKER_CONFIG: dir }).credentials, { username: 'u', password: 'p' });
});

test('docker config: malformed files are errors, not silent anonymity', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-dockercfg-'));
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, '{"auths": {');
  assert.throws(() => loadDockerCredentials('x.io', {}, cfg), (e: SigilError) => e.code === 'JSON_MALFORMED');
  writeFileSync(cfg, '[]');
  assert.throws(() => loadDockerCredentials('x.io', {}, cfg), (e: SigilError) => e.code === 'INPUT_UNREADABLE');
  writeFileSync(cfg, JSON.stringify({ auths: { 'x.io': { auth: Buffer.from('nocolon').toString('base64') } } }));
  assert.throws(() => loadDockerCredentials('x.io', {}, cfg), (e: SigilError) => e.code === 'INPUT_UNREADABLE' && /user:password/.test(e.message));
  writeFileSync(cfg, JSON.stringify({ auths: { 'x.io': { auth: '!!!' } } }));
  assert.throws(() => loadDockerCredentials('x.io', {}, cfg), (e: SigilError) => e.code === 'ENCODING_INVALID');
});
