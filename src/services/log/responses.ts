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

/** The parts of every v2 answer that depend only on the checkpoint (the entries of a batch share one head object). */
const headParts = new WeakMap<TreeHead, { proofHead: string; checkpoint: string }>();
const logIdParts = new WeakMap<Buffer, string>();

/**
 * Rekor v2's answer to a write, as JSON text: this answer goes out with every entry the log
 * accepts, and building an object and then serialising it showed in profiles of the HTTP thread.
 * Base64 and decimal digits need no escaping; kind, version and the checkpoint go through
 * JSON.stringify. The tests compare it with JSON.stringify of the object it stands for.
 */
export function transparencyLogEntryV2Json(e: EntryView, logId: Buffer): string {
  let head = headParts.get(e.head);
  if (!head) {
    head = {
      proofHead: `"rootHash":"${e.head.rootHash.toString('base64')}","treeSize":"${e.head.size}"`,
      checkpoint: `"checkpoint":{"envelope":${JSON.stringify(e.head.checkpoint)}}`,
    };
    headParts.set(e.head, head);
  }
  let id = logIdParts.get(logId);
  if (id === undefined) {
    id = `"logId":{"keyId":"${logId.toString('base64')}"}`;
    logIdParts.set(logId, id);
  }
  let hashes = '';
  for (let i = 0; i < e.proof.length; i++) hashes += (i ? ',"' : '"') + e.proof[i]!.toString('base64') + '"';
  const index = String(e.index);
  return (
    `{"logIndex":"${index}",${id},"kindVersion":{"kind":${JSON.stringify(e.kind)},"version":${JSON.stringify(e.version)}},` +
    `"inclusionProof":{"logIndex":"${index}",${head.proofHead},"hashes":[${hashes}],${head.checkpoint}},` +
    `"canonicalizedBody":"${e.body.toString('base64')}"}`
  );
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
