/**
 * Rekor v1 entry kinds, for clients that still write to `POST /api/v1/log/entries`:
 * `hashedrekord` v0.0.1, `dsse` v0.0.1 and `intoto` v0.0.2. Keys and certificates arrive as
 * base64-encoded PEM; the canonical bodies are what Rekor v1 stores for each kind (RFC 8785 JSON),
 * which is what sigstore-js and sigstore-go check bundles against.
 */
import { createHash } from 'node:crypto';
import { canonicalize } from '../../../core/canonical-json.js';
import { pae } from '../../../core/pae.js';
import { SigilError } from '../../../core/errors.js';
import { DIGEST_LENGTHS, type DigestAlgorithm } from '../../../core/digest.js';
import { verifyPrehashed } from '../../../crypto/prehash.js';
import { arr, hex, malformed, obj, onlyKeys, optStr, stdBase64, str } from './fields.js';
import { defaultDigestFor, keyFromPem, type EntryKey } from './verifier.js';
import { invalidSignature, prepared, verifyMessage, type PreparedEntry } from './prepared.js';

const sha256hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** Dispatches a v1 proposed entry on kind and apiVersion. */
export function prepareV1(request: unknown): PreparedEntry {
  const r = obj(request, 'entry');
  const kind = str(r.kind, 'kind');
  const version = str(r.apiVersion, 'apiVersion');
  onlyKeys(r, 'entry', ['kind', 'apiVersion', 'spec']);
  const spec = obj(r.spec, 'spec');
  if (kind === 'hashedrekord' && version === '0.0.1') return hashedRekordV001(spec);
  if (kind === 'dsse' && version === '0.0.1') return dsseV001(spec);
  if (kind === 'intoto' && version === '0.0.2') return intotoV002(spec);
  throw new SigilError('LOG_ENTRY_UNSUPPORTED', `entry kind ${kind} version ${version} is not accepted by this log`, {
    hint: 'the v1 API takes hashedrekord 0.0.1, dsse 0.0.1 and intoto 0.0.2; the v2 API takes hashedrekord and dsse 0.0.2',
  });
}

function hashedRekordV001(spec: Record<string, unknown>): PreparedEntry {
  const data = obj(spec.data, 'spec.data');
  const hash = obj(data.hash, 'spec.data.hash');
  const algorithm = str(hash.algorithm, 'spec.data.hash.algorithm');
  if (algorithm !== 'sha256' && algorithm !== 'sha384' && algorithm !== 'sha512') throw malformed('spec.data.hash.algorithm', 'must be sha256, sha384 or sha512');
  const alg: DigestAlgorithm = algorithm;
  const digest = hex(hash.value, 'spec.data.hash.value', DIGEST_LENGTHS[alg]);
  const sig = obj(spec.signature, 'spec.signature');
  const content = stdBase64(sig.content, 'spec.signature.content');
  const pkB64 = str(obj(sig.publicKey, 'spec.signature.publicKey').content, 'spec.signature.publicKey.content');
  const key = keyFromPem(stdBase64(pkB64, 'spec.signature.publicKey.content'), 'spec.signature.publicKey.content');
  if (key.key.asymmetricKeyType === 'ed25519') {
    throw new SigilError('LOG_ENTRY_UNSUPPORTED', 'Ed25519 signs messages, not digests, so it cannot sign a hashedrekord', { hint: 'use ECDSA or RSA, or log a DSSE entry' });
  }
  if (!verifyPrehashed(key.key, alg, digest, content)) throw invalidSignature('the hashedrekord signature over the digest');
  return prepared(
    'hashedrekord',
    '0.0.1',
    canonicalize({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: alg, value: digest.toString('hex') } },
        signature: { content: content.toString('base64'), publicKey: { content: pkB64 } },
      },
    }),
  );
}

interface V1Envelope {
  payload: Buffer;
  payloadType: string;
  signatures: { sig: Buffer; keyid: string | undefined }[];
}

function readEnvelopeJson(text: string, path: string): V1Envelope {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed(path, 'is not JSON');
  }
  const env = obj(json, path);
  return {
    payload: env.payload === '' ? Buffer.alloc(0) : stdBase64(env.payload, `${path}.payload`),
    payloadType: str(env.payloadType, `${path}.payloadType`),
    signatures: arr(env.signatures, `${path}.signatures`, 10).map((s, i) => {
      const so = obj(s, `${path}.signatures[${i}]`);
      return { sig: stdBase64(so.sig, `${path}.signatures[${i}].sig`), keyid: optStr(so.keyid, `${path}.signatures[${i}].keyid`) };
    }),
  };
}

function verifyWithAny(keys: { pemB64: string; key: EntryKey }[], message: Buffer, sig: Buffer): { pemB64: string; key: EntryKey } | undefined {
  return keys.find((k) => verifyMessage(k.key.key, defaultDigestFor(k.key.key), message, sig));
}

function dsseV001(spec: Record<string, unknown>): PreparedEntry {
  onlyKeys(spec, 'spec', ['proposedContent']);
  const pc = obj(spec.proposedContent, 'spec.proposedContent');
  const envelopeText = str(pc.envelope, 'spec.proposedContent.envelope');
  const env = readEnvelopeJson(envelopeText, 'spec.proposedContent.envelope');
  const keys = arr(pc.verifiers, 'spec.proposedContent.verifiers', 10).map((v, i) => {
    const pemB64 = str(v, `spec.proposedContent.verifiers[${i}]`);
    return { pemB64, key: keyFromPem(stdBase64(pemB64, `spec.proposedContent.verifiers[${i}]`), `spec.proposedContent.verifiers[${i}]`) };
  });
  const message = pae(env.payloadType, env.payload);
  const signatures = env.signatures.map((s, i) => {
    const k = verifyWithAny(keys, message, s.sig);
    if (!k) throw invalidSignature(`envelope signature ${i}`);
    return { signature: s.sig.toString('base64'), verifier: k.pemB64 };
  });
  return prepared(
    'dsse',
    '0.0.1',
    canonicalize({
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: sha256hex(envelopeText) },
        payloadHash: { algorithm: 'sha256', value: sha256hex(env.payload) },
        signatures,
      },
    }),
  );
}

/** intoto 0.0.2 double-encodes payload and signatures: base64 of the base64 text. */
function doubleBase64(v: unknown, path: string): Buffer {
  return stdBase64(stdBase64(v, path).toString('utf8'), `${path} (inner base64)`);
}

function intotoV002(spec: Record<string, unknown>): PreparedEntry {
  onlyKeys(spec, 'spec', ['content']);
  const content = obj(spec.content, 'spec.content');
  onlyKeys(content, 'spec.content', ['envelope', 'hash', 'payloadHash']);
  const env = obj(content.envelope, 'spec.content.envelope');
  const payloadType = str(env.payloadType, 'spec.content.envelope.payloadType');
  const payload = doubleBase64(env.payload, 'spec.content.envelope.payload');
  const sigs = arr(env.signatures, 'spec.content.envelope.signatures', 10).map((s, i) => {
    const p = `spec.content.envelope.signatures[${i}]`;
    const so = obj(s, p);
    const pemB64 = str(so.publicKey, `${p}.publicKey`);
    const keyid = optStr(so.keyid, `${p}.keyid`);
    const pem = stdBase64(pemB64, `${p}.publicKey`);
    return { sigB64Twice: str(so.sig, `${p}.sig`), sig: doubleBase64(so.sig, `${p}.sig`), pemB64, pem: pem.toString('utf8'), keyid, key: keyFromPem(pem, `${p}.publicKey`) };
  });
  const message = pae(payloadType, payload);
  sigs.forEach((s, i) => {
    if (!verifyMessage(s.key.key, defaultDigestFor(s.key.key), message, s.sig)) throw invalidSignature(`envelope signature ${i}`);
  });
  const payloadHash = sha256hex(payload);
  // The envelope hash as sigstore-js computes it for Rekor: JCS of the envelope with payload and
  // signatures base64-encoded once and the verifier as PEM text.
  const envelopeHash = sha256hex(
    canonicalize({
      payloadType,
      payload: payload.toString('base64'),
      signatures: sigs.map((s) => ({ sig: s.sig.toString('base64'), publicKey: s.pem, ...(s.keyid ? { keyid: s.keyid } : {}) })),
    }),
  );
  for (const [field, want] of [
    ['hash', envelopeHash],
    ['payloadHash', payloadHash],
  ] as const) {
    if (content[field] === undefined) continue;
    const h = obj(content[field], `spec.content.${field}`);
    if (h.algorithm !== 'sha256' || h.value !== want) {
      throw new SigilError('DIGEST_MISMATCH', `spec.content.${field} does not match the envelope`, { hint: `expected sha256 ${want}` });
    }
  }
  return prepared(
    'intoto',
    '0.0.2',
    canonicalize({
      apiVersion: '0.0.2',
      kind: 'intoto',
      spec: {
        content: {
          envelope: {
            payloadType,
            signatures: sigs.map((s) => ({ publicKey: s.pemB64, sig: s.sigB64Twice, ...(s.keyid ? { keyid: s.keyid } : {}) })),
          },
          hash: { algorithm: 'sha256', value: envelopeHash },
          payloadHash: { algorithm: 'sha256', value: payloadHash },
        },
      },
    }),
  );
}
