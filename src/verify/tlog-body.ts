/**
 * The log entry body must describe *this* bundle: same signature, same key or certificate, same
 * artifact (or DSSE payload). Without this check a valid inclusion proof for some other entry
 * (conformance wrong-hashedrekord-entry_fail, intoto-log-entry-mismatch_fail) would pass as proof
 * that this signature was logged.
 *
 * The canonicalized body is attacker-controlled bytes from the bundle; it is parsed defensively
 * and every field is read with a strict reader, so a malformed body is a TLOG_BODY_MISMATCH and
 * never an uncaught exception. Kinds live in their own files (tlog-hashedrekord, tlog-dsse,
 * tlog-intoto) with their shared readers in tlog-body-fields; this module dispatches.
 */
import type { TransparencyLogEntry } from '@sigstore/protobuf-specs';
import { SigilError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import { bodyReader, mismatch, type BodyContext } from './tlog-body-fields.js';
import { verifyHashedRekordBody } from './tlog-hashedrekord.js';
import { verifyDsseBody } from './tlog-dsse.js';
import { verifyIntotoBody } from './tlog-intoto.js';

export type { BodyContext } from './tlog-body-fields.js';

export function verifyTlogBody(entry: TransparencyLogEntry, ctx: BodyContext): void {
  let body: Record<string, unknown>;
  try {
    body = bodyReader.object(parseJson(entry.canonicalizedBody, 'log entry body', 'TLOG_BODY_MISMATCH'), 'body');
  } catch (e) {
    throw new SigilError('TLOG_BODY_MISMATCH', `${ctx.where}: canonicalized body is not a JSON object: ${(e as Error).message}`, { cause: e });
  }
  const { kind, version } = entry.kindVersion!;
  if (body.kind !== kind || body.apiVersion !== version) {
    mismatch(ctx, `body is ${JSON.stringify(body.kind)}/${JSON.stringify(body.apiVersion)} but the entry says ${kind}/${version}`);
  }
  const spec = bodyReader.object(body.spec, 'body.spec');
  try {
    switch (kind) {
      case 'hashedrekord':
        return verifyHashedRekordBody(version, spec, ctx);
      case 'dsse':
        return verifyDsseBody(version, spec, ctx);
      case 'intoto':
        return verifyIntotoBody(version, spec, ctx);
      default:
        mismatch(ctx, `log entry kind ${JSON.stringify(kind)} is not supported (hashedrekord, dsse, intoto are)`);
    }
  } catch (e) {
    // Field-level reader failures already carry TLOG_BODY_MISMATCH; prefix them with the entry.
    if (e instanceof SigilError && e.code === 'TLOG_BODY_MISMATCH' && !e.message.startsWith(ctx.where)) {
      throw new SigilError('TLOG_BODY_MISMATCH', `${ctx.where}: ${e.message}`, { cause: e, hint: 'the log entry body is malformed or belongs to another signature' });
    }
    throw e;
  }
}
