/** Verification on worker threads answers exactly as verification inline: same entries, same error codes. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { pae } from '../../src/core/pae.js';
import { WorkerPreparer, inlinePreparer } from '../../src/services/log/verify-pool.js';
import { dsseRequestV2, hashedRekordProposalV1, hashedRekordRequestV2 } from '../../src/sign/log-client.js';

const pool = new WorkerPreparer(2);
after(() => pool.close());

test('worker and inline preparation agree on good and bad requests', async () => {
  await pool.ready();
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = kp.publicKey.export({ type: 'spki', format: 'der' });
  const data = Buffer.from('pool');
  const digest = createHash('sha256').update(data).digest();
  const sig = sign('sha256', data, kp.privateKey);
  const payload = Buffer.from('{"a":1}');
  const env = { payloadType: 'application/json', payload, signatures: [{ sig: sign('sha256', pae('application/json', payload), kp.privateKey) }] };
  const cases: ['v1' | 'v2', string][] = [
    ['v2', JSON.stringify(hashedRekordRequestV2(digest, sig, { publicKey: spki }, 'PKIX_ECDSA_P256_SHA_256'))],
    ['v2', JSON.stringify(dsseRequestV2(env, [{ material: { publicKey: spki }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }]))],
    ['v1', JSON.stringify(hashedRekordProposalV1('sha256', digest, sig, { publicKey: spki }))],
    ['v2', JSON.stringify(hashedRekordRequestV2(createHash('sha256').update('other').digest(), sig, { publicKey: spki }, 'PKIX_ECDSA_P256_SHA_256'))],
    ['v2', '{not json'],
    ['v2', '{"x":1}'],
    ['v1', '{"kind":"rekord","apiVersion":"0.0.1","spec":{}}'],
  ];
  for (const [api, body] of cases) {
    const [a, b] = await Promise.allSettled([inlinePreparer.prepare(api, Buffer.from(body)), pool.prepare(api, Buffer.from(body))]);
    assert.equal(a.status, b.status, body.slice(0, 60));
    if (a.status === 'fulfilled' && b.status === 'fulfilled') {
      assert.deepEqual(b.value.body, a.value.body);
      assert.deepEqual(b.value.leafHash, a.value.leafHash);
      assert.equal(b.value.kind, a.value.kind);
    } else if (a.status === 'rejected' && b.status === 'rejected') {
      const ea = a.reason as { code: string; kind: string };
      const eb = b.reason as { code: string; kind: string };
      assert.equal(eb.code, ea.code);
      assert.equal(eb.kind, ea.kind);
    }
  }
  // Many at once are spread over both threads and all come back.
  const many = await Promise.all(Array.from({ length: 200 }, () => pool.prepare('v2', Buffer.from(cases[0]![1]))));
  assert.equal(new Set(many.map((p) => p.leafHash.toString('hex'))).size, 1);
});
