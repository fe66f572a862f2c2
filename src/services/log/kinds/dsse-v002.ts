/**
 * Rekor v2 `dsse` v0.0.2 (rekor-tiles before it moved DSSE to hashedrekord; still what
 * @sigstore/sign 4.x sends): an envelope and the verifiers for its signatures. Every signature in
 * the envelope must verify over the DSSE PAE with one of the verifiers. The log keeps the payload
 * hash and the signatures with their verifiers, sorted by signature bytes (as rekor-tiles does),
 * not the payload itself.
 */
import { createHash } from 'node:crypto';
import { pae } from '../../../core/pae.js';
import { arr, bytes, malformed, obj, onlyKeys, optStr, str } from './fields.js';
import { readV2Verifier } from './hashedrekord-v002.js';
import { invalidSignature, prepared, verifyMessage, type PreparedEntry } from './prepared.js';

const MAX_SIGNATURES = 10;
const MAX_VERIFIERS = 10;

export function prepareDsseV002(request: unknown): PreparedEntry {
  const path = 'dsseRequestV002';
  const r = obj(request, path);
  onlyKeys(r, path, ['envelope', 'verifiers']);
  const env = obj(r.envelope, `${path}.envelope`);
  onlyKeys(env, `${path}.envelope`, ['payload', 'payloadType', 'signatures']);
  const payload = env.payload === '' ? Buffer.alloc(0) : bytes(env.payload, `${path}.envelope.payload`);
  const payloadType = str(env.payloadType, `${path}.envelope.payloadType`);
  const sigs = arr(env.signatures, `${path}.envelope.signatures`, MAX_SIGNATURES).map((s, i) => {
    const p = `${path}.envelope.signatures[${i}]`;
    const so = obj(s, p);
    onlyKeys(so, p, ['sig', 'keyid']);
    optStr(so.keyid, `${p}.keyid`);
    return bytes(so.sig, `${p}.sig`);
  });
  const verifiers = arr(r.verifiers, `${path}.verifiers`, MAX_VERIFIERS).map((v, i) => readV2Verifier(v, `${path}.verifiers[${i}]`));
  const seen = new Set<string>();
  for (const v of verifiers) {
    if (seen.has(v.json)) throw malformed(`${path}.verifiers`, 'lists the same verifier twice');
    seen.add(v.json);
  }
  const message = pae(payloadType, payload);
  const logged = sigs.map((sig, i) => {
    const v = verifiers.find((cand) => verifyMessage(cand.entryKey.key, cand.rule.digest, message, sig, cand.rule.rsaPadding === 'pss'));
    if (!v) throw invalidSignature(`envelope signature ${i}`);
    return { sig, verifierJson: v.json };
  });
  logged.sort((a, b) => Buffer.compare(a.sig, b.sig));
  const payloadHash = createHash('sha256').update(payload).digest('base64');
  const signatures = logged.map((l) => `{"content":"${l.sig.toString('base64')}","verifier":${l.verifierJson}}`).join(',');
  const body = `{"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":{"payloadHash":{"algorithm":"SHA2_256","digest":"${payloadHash}"},"signatures":[${signatures}]}}}`;
  return prepared('dsse', '0.0.2', body);
}
