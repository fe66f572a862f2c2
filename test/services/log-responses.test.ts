import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TransparencyLogEntry } from '@sigstore/protobuf-specs';
import { transparencyLogEntryV2Json, type EntryView } from '../../src/services/log/responses.js';
import type { TreeHead } from '../../src/services/storage/log-store.js';

/** The answer as an object, field for field as protobuf-specs' TransparencyLogEntry JSON (int64 as strings, bytes as base64). */
function transparencyLogEntryV2(e: EntryView, logId: Buffer): Record<string, unknown> {
  return {
    logIndex: String(e.index),
    logId: { keyId: logId.toString('base64') },
    kindVersion: { kind: e.kind, version: e.version },
    inclusionProof: {
      logIndex: String(e.index),
      rootHash: e.head.rootHash.toString('base64'),
      treeSize: String(e.head.size),
      hashes: e.proof.map((h) => h.toString('base64')),
      checkpoint: { envelope: e.head.checkpoint },
    },
    canonicalizedBody: e.body.toString('base64'),
  };
}

const head = (size: number, checkpoint: string): TreeHead => ({ size, rootHash: randomBytes(32), checkpoint });
const view = (index: number, h: TreeHead, proofLength: number, kind = 'hashedrekord', version = '0.0.2'): EntryView => ({
  index,
  body: Buffer.from(JSON.stringify({ apiVersion: version, kind, spec: { n: index } })),
  kind,
  version,
  leafHash: randomBytes(32),
  integratedTime: 0,
  head: h,
  proof: Array.from({ length: proofLength }, () => randomBytes(32)),
});

test('the v2 answer built as text is exactly the JSON of the answer object', () => {
  const logId = randomBytes(32);
  // A checkpoint note has newlines and a signature line with a Unicode dash; JSON must escape what needs it.
  const h1 = head(1, 'log.example\n1\nq83vIr0k0OvGWBEYV2fWAQx7XFEZZ3BLn5C0y3w0YEU=\n\n\u2014 log.example AAAA"\\\n');
  const h2 = head(1_234_567_890_123, 'other\n1234567890123\nAAAA\n\n\u2014 other BBBB\n');
  const cases = [view(0, h1, 0), view(7, h2, 17), view(8, h2, 17, 'dsse', '0.0.2'), view(1_234_567_890_122, h2, 40)];
  for (const e of [...cases, ...cases]) {
    // Twice: the second round takes the per-checkpoint parts from the cache.
    const text = transparencyLogEntryV2Json(e, logId);
    assert.equal(text, JSON.stringify(transparencyLogEntryV2(e, logId)));
    const parsed = TransparencyLogEntry.fromJSON(JSON.parse(text));
    assert.equal(parsed.logIndex, String(e.index));
    assert.equal(parsed.inclusionProof?.hashes.length, e.proof.length);
    assert.equal(parsed.inclusionProof?.checkpoint?.envelope, e.head.checkpoint);
  }
});
