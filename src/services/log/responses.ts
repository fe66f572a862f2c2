/**
 * Wire forms of logged entries: Rekor v2's TransparencyLogEntry (protobuf JSON, as
 * sigstore/protobuf-specs rekor.v1.TransparencyLogEntry; int64 as strings, bytes as base64) and
 * Rekor v1's LogEntry map `{uuid: {body, integratedTime, logID, logIndex, verification}}` with an
 * inclusion proof and a signed entry timestamp (SET).
 */
import { canonicalize } from '../../core/canonical-json.js';
import type { Signer } from '../../crypto/signer.js';
import type { TreeHead } from '../storage/log-store.js';

export interface EntryView {
  index: number;
  body: Buffer;
  kind: string;
  version: string;
  leafHash: Buffer;
  integratedTime: number;
  head: TreeHead;
  proof: Buffer[];
}

export function transparencyLogEntryV2(e: EntryView, logId: Buffer): Record<string, unknown> {
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

/** Rekor v1 entry UUID: the hex leaf hash. */
export const entryUuid = (leafHash: Buffer): string => leafHash.toString('hex');

/**
 * Signed entry timestamp (Rekor v1 "inclusion promise"): the log's signature over the RFC 8785
 * JSON of {body, integratedTime, logID, logIndex}, which @sigstore/verify checks with the log key.
 */
export async function signedEntryTimestamp(e: EntryView, logId: Buffer, signer: Signer): Promise<Buffer> {
  const payload = canonicalize({ body: e.body.toString('base64'), integratedTime: e.integratedTime, logID: logId.toString('hex'), logIndex: e.index });
  return signer.sign(Buffer.from(payload, 'utf8'));
}

export async function logEntryV1(e: EntryView, logId: Buffer, signer: Signer): Promise<Record<string, unknown>> {
  const set = await signedEntryTimestamp(e, logId, signer);
  return {
    [entryUuid(e.leafHash)]: {
      body: e.body.toString('base64'),
      integratedTime: e.integratedTime,
      logID: logId.toString('hex'),
      logIndex: e.index,
      verification: {
        inclusionProof: {
          checkpoint: e.head.checkpoint,
          hashes: e.proof.map((h) => h.toString('hex')),
          logIndex: e.index,
          rootHash: e.head.rootHash.toString('hex'),
          treeSize: e.head.size,
        },
        signedEntryTimestamp: set.toString('base64'),
      },
    },
  };
}
