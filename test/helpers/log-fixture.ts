/** Fixtures for tests that sign against a real sigil log: its trusted root, and a first unrelated entry. */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { LogClient } from '../../src/sign/log-client.js';

/**
 * A trusted_root.json (protobuf-specs JSON) naming only this log. The checkpoint key name is the
 * baseUrl's host, as for Rekor v2, so it must equal the log's origin.
 */
export function logOnlyTrustedRoot(logPublicKey: KeyObject, logId: Buffer, baseUrl = 'https://sigil.test'): Record<string, unknown> {
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: logPublicKey.export({ type: 'spki', format: 'der' }).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } },
        logId: { keyId: logId.toString('base64') },
      },
    ],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
}

/**
 * Logs one unrelated hashedrekord entry, so the entries a test makes are not the log's first: their
 * proofs then have hashes and their bundles a non-zero logIndex (index 0 is covered in
 * test/formats/bundle.test.ts).
 */
export async function addUnrelatedEntry(logUrl: string): Promise<void> {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = Buffer.from('index zero');
  await new LogClient({ url: logUrl }).upload('hashedrekord', {
    digestAlgorithm: 'sha256',
    digest: createHash('sha256').update(data).digest(),
    signature: sign('sha256', data, other.privateKey),
    publicKey: other.publicKey,
  });
}
