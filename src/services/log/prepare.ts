/**
 * Turns a request body into a verified, canonicalized entry: JSON parsing, the per-kind checks and
 * the signature verification. Pure CPU work with no shared state, so it runs on the HTTP thread
 * or, under load, on verification threads (verify-pool.ts).
 */
import { SigilError } from '../../core/errors.js';
import { parseJson } from '../../core/json.js';
import { obj } from './kinds/fields.js';
import { prepareHashedRekordV002 } from './kinds/hashedrekord-v002.js';
import { prepareDsseV002 } from './kinds/dsse-v002.js';
import { prepareV1 } from './kinds/v1.js';
import type { PreparedEntry } from './kinds/prepared.js';

export type LogApi = 'v1' | 'v2';

function prepareV2(json: unknown): PreparedEntry {
  const o = obj(json, 'request');
  const keys = Object.keys(o);
  if (keys.length !== 1) {
    throw new SigilError('LOG_ENTRY_MALFORMED', `request must hold exactly one entry spec, found ${keys.length ? keys.join(', ') : 'none'}`, {
      hint: 'send {"hashedRekordRequestV002": …} or {"dsseRequestV002": …}',
    });
  }
  if (keys[0] === 'hashedRekordRequestV002') return prepareHashedRekordV002(o.hashedRekordRequestV002);
  if (keys[0] === 'dsseRequestV002') return prepareDsseV002(o.dsseRequestV002);
  throw new SigilError('LOG_ENTRY_UNSUPPORTED', `entry type ${keys[0]} is not accepted by this log`, {
    hint: 'the v2 API takes hashedRekordRequestV002 and dsseRequestV002',
  });
}

export function prepareRequest(api: LogApi, body: Uint8Array): PreparedEntry {
  const json = parseJson(body, 'request body');
  return api === 'v2' ? prepareV2(json) : prepareV1(json);
}
