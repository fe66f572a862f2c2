/**
 * DSSE envelopes (secure-systems-lab/dsse envelope.md): `{payloadType, payload, signatures:
 * [{keyid?, sig}]}` with payload and sig in base64 (standard or URL-safe; the spec allows both).
 * The shape is protobuf-specs' `io.intoto.Envelope`, so an envelope read here drops straight into
 * a Sigstore bundle. Signatures are computed over the PAE, never over the payload bytes.
 */
import type { Envelope } from '@sigstore/protobuf-specs';
import { SigilError, type ErrorCode } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import { pae } from '../core/pae.js';
import { toBase64 } from '../core/encoding.js';
import { ProtoReader } from './proto-json.js';

export type DsseEnvelope = Envelope;

export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** Reads an envelope from parsed JSON. `code` lets a bundle report BUNDLE_MALFORMED for its embedded envelope. */
export function envelopeFromJSON(json: unknown, path = 'envelope', code: ErrorCode = 'DSSE_MALFORMED'): DsseEnvelope {
  const r: ProtoReader = new ProtoReader(code);
  const o = r.object(json, path);
  const payloadType = r.nonEmptyString(o.payloadType, `${path}.payloadType`);
  const payload = r.bytes(o.payload, `${path}.payload`);
  const sigs = r.array(o.signatures, `${path}.signatures`);
  if (sigs.length === 0) r.fail(`${path}.signatures`, 'is empty', 'an unsigned envelope proves nothing');
  const signatures = sigs.map((s, i) => {
    const so = r.object(s, `${path}.signatures[${i}]`);
    return { sig: r.nonEmptyBytes(so.sig, `${path}.signatures[${i}].sig`), keyid: r.optString(so.keyid, `${path}.signatures[${i}].keyid`) };
  });
  return { payloadType, payload, signatures };
}

/** Parses envelope JSON text. */
export function parseEnvelope(text: string | Uint8Array): DsseEnvelope {
  return envelopeFromJSON(parseJson(text, 'DSSE envelope', 'DSSE_MALFORMED'));
}

export function envelopeToJSON(env: DsseEnvelope): Record<string, unknown> {
  return {
    payloadType: env.payloadType,
    payload: toBase64(env.payload),
    signatures: env.signatures.map((s) => (s.keyid ? { keyid: s.keyid, sig: toBase64(s.sig) } : { sig: toBase64(s.sig) })),
  };
}

/** The bytes a DSSE signature covers. */
export function envelopePae(env: DsseEnvelope): Buffer {
  return pae(env.payloadType, env.payload);
}

/** The single signature of a Sigstore-style envelope. */
export function singleSignature(env: DsseEnvelope): Buffer {
  if (env.signatures.length !== 1) {
    throw new SigilError('DSSE_MALFORMED', `envelope has ${env.signatures.length} signatures, expected exactly one`);
  }
  return env.signatures[0]!.sig;
}
