import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SigilError } from '../../src/core/errors.js';
import {
  formatReference,
  isLoopbackRegistry,
  parseReference,
  registryApiHost,
  repositoryName,
  withDigest,
} from '../../src/oci/reference.js';
import { referrersTag } from '../../src/oci/client.js';

const D = 'sha256:' + 'ab'.repeat(32);

test('reference: Docker Hub defaults (docker.io, library/) as distribution/reference applies them', () => {
  assert.deepEqual(parseReference('debian'), { registry: 'docker.io', repository: 'library/debian' });
  assert.deepEqual(parseReference('debian:bookworm'), { registry: 'docker.io', repository: 'library/debian', tag: 'bookworm' });
  assert.deepEqual(parseReference('sigstore/cosign'), { registry: 'docker.io', repository: 'sigstore/cosign' });
  assert.deepEqual(parseReference('docker.io/debian'), { registry: 'docker.io', repository: 'library/debian' });
  assert.deepEqual(parseReference('index.docker.io/library/debian:12'), { registry: 'docker.io', repository: 'library/debian', tag: '12' });
  assert.equal(registryApiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(registryApiHost('ghcr.io'), 'ghcr.io');
});

test('reference: host with port, tag and digest; a port is never read as a tag', () => {
  assert.deepEqual(parseReference('127.0.0.1:5000/team/app'), { registry: '127.0.0.1:5000', repository: 'team/app' });
  assert.deepEqual(parseReference('127.0.0.1:5000/team/app:v1'), { registry: '127.0.0.1:5000', repository: 'team/app', tag: 'v1' });
  assert.deepEqual(parseReference(`ghcr.io/a/b/c:v1.2_3@${D}`), { registry: 'ghcr.io', repository: 'a/b/c', tag: 'v1.2_3', digest: D });
  assert.deepEqual(parseReference(`localhost/app@${D}`), { registry: 'localhost', repository: 'app', digest: D });
  assert.deepEqual(parseReference('[::1]:5000/app:v1'), { registry: '[::1]:5000', repository: 'app', tag: 'v1' });
  assert.deepEqual(parseReference('Registry.Example.COM/app'), { registry: 'registry.example.com', repository: 'app' });
  const r = parseReference(`127.0.0.1:5000/team/app:v1@${D}`);
  assert.equal(formatReference(r), `127.0.0.1:5000/team/app:v1@${D}`);
  assert.equal(repositoryName(r), '127.0.0.1:5000/team/app');
  assert.equal(formatReference(withDigest(r, 'sha256:' + 'cd'.repeat(32))), `127.0.0.1:5000/team/app@sha256:${'cd'.repeat(32)}`);
});

test('reference: malformed input is REFERENCE_MALFORMED naming the problem', () => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['upper/App', /repository component 'App'/],
    ['ghcr.io/App', /repository component 'App'/],
    ['ghcr.io/a//b', /repository component ''/],
    ['app:', /tag ''/],
    ['app:-x', /tag '-x'/],
    [`app:${'a'.repeat(129)}`, /tag/],
    ['app@sha256:abc', /64 lower-case hex/],
    [`app@sha256:${'AB'.repeat(32)}`, /lower-case hex/],
    [`app@md5:${'ab'.repeat(16)}`, /algorithm 'md5'/],
    ['app@', /ALGORITHM:HEX/],
    ['my host/app', /white space/],
    ['bad_host.example.com/app', /not a valid host/],
    ['example.com:99999/app', /out of range/],
    ['example.com/', /repository name is missing/],
    [`example.com/${'a'.repeat(300)}`, /longer than 255/],
    ['ghcr.io/a__-b', /repository component/],
  ];
  for (const [input, re] of bad) {
    assert.throws(
      () => parseReference(input),
      (e: SigilError) => e.code === 'REFERENCE_MALFORMED' && re.test(e.message) && !!e.hint,
      `expected ${JSON.stringify(input)} to be rejected with ${re}`,
    );
  }
});

test('reference: loopback registries are reached over plain HTTP (127.0.0.0/8, localhost, ::1)', () => {
  for (const r of ['127.0.0.1:5000', '127.1.2.3', 'localhost:5000', 'localhost', '[::1]:5000', '[::ffff:127.0.0.1]:5000']) assert.ok(isLoopbackRegistry(r), r);
  for (const r of ['128.0.0.1:5000', '127.0.0.256', 'ghcr.io', 'localhost.example.com', '10.0.0.1:5000']) assert.ok(!isLoopbackRegistry(r), r);
});

test('referrers tag schema: truncation and character replacement from the spec table', () => {
  assert.equal(referrersTag(D), `sha256-${'ab'.repeat(32)}`);
  const sha512 = 'sha512:' + 'a'.repeat(128);
  assert.equal(referrersTag(sha512), `sha512-${'a'.repeat(64)}`);
  // The spec's third row: algorithm separators and '=' replaced by '-', both halves truncated.
  assert.equal(
    referrersTag(
      'test+algorithm+using+algorithm+separators+and+lots+of+characters+to+excercise+overall+truncation:alsoSome=InTheEncodedSectionToShowHyphenReplacementAndLotsAndLotsOfCharactersToExcerciseEncodedTruncation',
    ),
    'test-algorithm-using-algorithm-s-alsoSome-InTheEncodedSectionToShowHyphenReplacementAndLotsAndLot',
  );
});
