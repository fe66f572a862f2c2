/**
 * Step 2, timestamps: the trusted times at which the signature is known to have existed. A
 * Fulcio certificate lives ~10 minutes, so "the certificate was valid when it signed" can only be
 * decided against a time someone else vouches for:
 *   - a Rekor v1 entry's integratedTime, vouched for by its signed entry timestamp (SET);
 *   - an RFC 3161 token from a trusted TSA over the signature bytes.
 * Rekor v2 entries carry no integrated time (rekor-tiles), so a v2-only bundle needs a TSA token.
 * An integratedTime without a SET is attacker-chosen and is not a timestamp.
 */
import type { TransparencyLogEntry } from '@sigstore/protobuf-specs';
import { SigilError } from '../core/errors.js';
import type { TrustedRoot } from '../trust/trusted-root.js';
import { verifyTimestampToken } from '../x509/rfc3161.js';
import type { Entity } from './structure.js';
import { verifySet } from './set.js';
import type { VerifiedTimestamp } from './types.js';

export interface TimestampResult {
  timestamps: VerifiedTimestamp[];
  /** Entries whose SET verified: their inclusion in the log is promised by the log itself. */
  promised: Set<TransparencyLogEntry>;
}

export function verifyTimestamps(entity: Entity, root: TrustedRoot): TimestampResult {
  const timestamps: VerifiedTimestamp[] = [];
  const promised = new Set<TransparencyLogEntry>();
  for (const entry of entity.tlogEntries) {
    if (!entry.inclusionPromise) continue;
    verifySet(entry, root);
    promised.add(entry);
    if (entry.integratedTime !== '0') {
      timestamps.push({ source: 'transparency-log', time: new Date(Number(entry.integratedTime) * 1000), logIndex: entry.logIndex });
    }
  }
  for (const [i, token] of entity.rfc3161Tokens.entries()) {
    let time: Date;
    try {
      time = verifyTimestampToken(token, entity.content.signature, root.timestampAuthorities);
    } catch (e) {
      if (e instanceof SigilError && e.code === 'TIMESTAMP_INVALID') {
        throw new SigilError('TIMESTAMP_INVALID', `RFC 3161 timestamp ${i}: ${e.message}`, { cause: e, ...(e.hint ? { hint: e.hint } : {}) });
      }
      throw new SigilError('TIMESTAMP_INVALID', `RFC 3161 timestamp ${i} could not be verified: ${(e as Error).message}`, { cause: e });
    }
    timestamps.push({ source: 'timestamp-authority', time });
  }
  return { timestamps, promised };
}
