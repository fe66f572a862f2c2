/**
 * Client of a Rekor-compatible transparency log (sigil's own log, Rekor v1, rekor-tiles v2):
 * builds the entry requests, uploads them, and returns the entry in the Sigstore bundle's form
 * (protobuf-JSON TransparencyLogEntry) so it can go straight into `verificationMaterial.tlogEntries`.
 *
 * The returned entry is checked before it is handed back (a log that answers with an entry for
 * other content, or a proof that does not verify, is an error, not something to embed):
 * the canonicalized body must match what was sent, and the inclusion proof must lead to the root
 * of the returned checkpoint. Checking the checkpoint's signature needs the log's key, which
 * `verifyWith` supplies when the caller has it.
 */
import { createHash } from 'node:crypto';
import { SigilError } from '../core/errors.js';
import { canonicalize } from '../core/canonical-json.js';
import { leafHash } from '../merkle/hash.js';
import { verifyInclusion } from '../merkle/proof.js';
import { parseSignedNote, verifySignedNote, type NoteVerifierKey } from '../formats/checkpoint.js';
import type { KeyDetails } from '../crypto/signer.js';
import type { DigestAlgorithm } from '../core/digest.js';
import { keyDetails as keyDetailsOf } from '../crypto/keys.js';
import type { DsseEnvelope } from '../formats/dsse.js';
import type { TlogKind, TlogRequests, TlogSignerMaterial, TlogUploader } from './tlog-uploader.js';

/** A bundle tlog entry, protobuf JSON (sigstore/protobuf-specs rekor.v1.TransparencyLogEntry). */
export interface TlogEntryJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime?: string;
  inclusionPromise?: { signedEntryTimestamp: string };
  inclusionProof: { logIndex: string; rootHash: string; treeSize: string; hashes: string[]; checkpoint: { envelope: string } };
  canonicalizedBody: string;
}

/** The signer's verification material: a public key (SPKI DER) or a certificate (DER). */
export type VerificationMaterial = { publicKey: Buffer } | { certificate: Buffer };


function v2Verifier(m: VerificationMaterial, keyDetails: KeyDetails): Record<string, unknown> {
  return 'publicKey' in m
    ? { publicKey: { rawBytes: m.publicKey.toString('base64') }, keyDetails }
    : { x509Certificate: { rawBytes: m.certificate.toString('base64') }, keyDetails };
}

function pemOf(m: VerificationMaterial): string {
  const [label, der] = 'publicKey' in m ? ['PUBLIC KEY', m.publicKey] : ['CERTIFICATE', m.certificate];
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/** Rekor v2 request for a signature over an artifact digest. */
export function hashedRekordRequestV2(digest: Buffer, signature: Buffer, material: VerificationMaterial, keyDetails: KeyDetails): Record<string, unknown> {
  return { hashedRekordRequestV002: { digest: digest.toString('base64'), signature: { content: signature.toString('base64'), verifier: v2Verifier(material, keyDetails) } } };
}

export interface EnvelopeInput {
  payloadType: string;
  payload: Buffer;
  signatures: { sig: Buffer; keyid?: string }[];
}

/** Rekor v2 request for a DSSE envelope. */
export function dsseRequestV2(env: EnvelopeInput, materials: { material: VerificationMaterial; keyDetails: KeyDetails }[]): Record<string, unknown> {
  return {
    dsseRequestV002: {
      envelope: {
        payload: env.payload.toString('base64'),
        payloadType: env.payloadType,
        signatures: env.signatures.map((s) => ({ sig: s.sig.toString('base64'), keyid: s.keyid ?? '' })),
      },
      verifiers: materials.map((m) => v2Verifier(m.material, m.keyDetails)),
    },
  };
}

/** Rekor v1 hashedrekord 0.0.1 proposal. */
export function hashedRekordProposalV1(alg: DigestAlgorithm, digest: Buffer, signature: Buffer, material: VerificationMaterial): Record<string, unknown> {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: alg, value: digest.toString('hex') } },
      signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(pemOf(material)).toString('base64') } },
    },
  };
}

/** Rekor v1 dsse 0.0.1 proposal. */
export function dsseProposalV1(env: EnvelopeInput, materials: VerificationMaterial[]): Record<string, unknown> {
  const envelope = JSON.stringify({
    payload: env.payload.toString('base64'),
    payloadType: env.payloadType,
    signatures: env.signatures.map((s) => ({ sig: s.sig.toString('base64'), keyid: s.keyid ?? '' })),
  });
  return { apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope, verifiers: materials.map((m) => Buffer.from(pemOf(m)).toString('base64')) } } };
}

/** Rekor v1 intoto 0.0.2 proposal (payload and signature base64-encoded twice, as Rekor expects). */
export function intotoProposalV1(env: EnvelopeInput, material: VerificationMaterial): Record<string, unknown> {
  const pemText = pemOf(material);
  const pem = Buffer.from(pemText).toString('base64');
  const sig = env.signatures[0];
  if (!sig || env.signatures.length !== 1) throw new SigilError('USAGE', 'an intoto entry carries exactly one signature');
  const keyid = sig.keyid ? { keyid: sig.keyid } : {};
  // Hash of the envelope as sigstore-js computes it for Rekor: the verifier as PEM text here.
  const hash = createHash('sha256')
    .update(canonicalize({ payloadType: env.payloadType, payload: env.payload.toString('base64'), signatures: [{ sig: sig.sig.toString('base64'), publicKey: pemText, ...keyid }] }))
    .digest('hex');
  const twice = (b: Buffer): string => Buffer.from(b.toString('base64')).toString('base64');
  return {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: { payloadType: env.payloadType, payload: twice(env.payload), signatures: [{ sig: twice(sig.sig), publicKey: pem, ...keyid }] },
        hash: { algorithm: 'sha256', value: hash },
        payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(env.payload).digest('hex') },
      },
    },
  };
}

export interface LogClientOptions {
  /** Base URL of the log, e.g. http://127.0.0.1:3000 */
  url: string;
  /** 'v2' (default) posts to /api/v2/log/entries, 'v1' to /api/v1/log/entries. */
  api?: 'v1' | 'v2';
  /** The log's checkpoint key, to check the returned checkpoint's signature. */
  verifyWith?: NoteVerifierKey[];
  timeoutMs?: number;
}

interface V1LogEntry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification?: {
    inclusionProof?: { checkpoint: string; hashes: string[]; logIndex: number; rootHash: string; treeSize: number };
    signedEntryTimestamp?: string;
  };
}

function materialOf(m: TlogSignerMaterial): VerificationMaterial {
  return m.certificate ? { certificate: m.certificate } : { publicKey: m.publicKey.export({ type: 'spki', format: 'der' }) };
}

function envelopeInput(env: DsseEnvelope): EnvelopeInput {
  return {
    payloadType: env.payloadType,
    payload: Buffer.from(env.payload),
    signatures: env.signatures.map((s) => ({ sig: Buffer.from(s.sig), ...(s.keyid ? { keyid: s.keyid } : {}) })),
  };
}

function networkError(url: string, e: unknown): SigilError {
  return new SigilError('NETWORK', `cannot reach the transparency log at ${url}: ${(e as Error).message}`, { cause: e, hint: 'check --tlog-url and that the log is running' });
}

export class LogClient implements TlogUploader {
  readonly url: string;
  readonly api: 'v1' | 'v2';
  readonly #verifyWith: NoteVerifierKey[] | undefined;
  readonly #timeoutMs: number;

  constructor(opts: LogClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.api = opts.api ?? 'v2';
    this.#verifyWith = opts.verifyWith;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** The TlogUploader hook sign-blob / attest-blob call: builds the request for this API and uploads it. */
  async upload<K extends TlogKind>(kind: K, request: TlogRequests[K]): Promise<Record<string, unknown>> {
    const material = materialOf(request);
    const details = keyDetailsOf(request.publicKey);
    let body: Record<string, unknown>;
    if (kind === 'hashedrekord') {
      const r = request as TlogRequests['hashedrekord'];
      body = this.api === 'v2' ? hashedRekordRequestV2(r.digest, r.signature, material, details) : hashedRekordProposalV1(r.digestAlgorithm, r.digest, r.signature, material);
    } else {
      const env = envelopeInput((request as TlogRequests['dsse']).envelope);
      body = this.api === 'v2' ? dsseRequestV2(env, [{ material, keyDetails: details }]) : dsseProposalV1(env, [material]);
    }
    return { ...(await this.uploadRequest(body)) };
  }

  /** Uploads a request built by one of the functions above; returns the checked bundle entry. */
  async uploadRequest(request: Record<string, unknown>): Promise<TlogEntryJson> {
    const endpoint = `${this.url}/api/${this.api}/log/entries`;
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (e) {
      throw networkError(endpoint, e);
    }
    if (res.status === 409 && this.api === 'v1') {
      // Rekor v1 answers a duplicate with 409 and the entry's location: fetch it from there.
      const location = res.headers.get('location');
      await res.arrayBuffer();
      if (!location) throw new SigilError('NETWORK', `${endpoint} answered 409 without a Location header`);
      return this.#get(new URL(location, this.url).href);
    }
    const text = await res.text();
    if (res.status !== 200 && res.status !== 201) {
      let detail = text.slice(0, 500);
      try {
        const j = JSON.parse(text) as { message?: string };
        if (j.message) detail = j.message;
      } catch {
        // not JSON: keep the raw text
      }
      throw new SigilError(res.status >= 500 ? 'NETWORK' : 'USAGE', `the transparency log refused the entry (HTTP ${res.status}): ${detail}`, {
        hint: res.status >= 500 ? 'retry later' : 'the log rejected the signature or the entry format',
      });
    }
    const entry = this.api === 'v2' ? this.#parseV2(text) : this.#parseV1(text);
    this.#check(entry);
    return entry;
  }

  async #get(url: string): Promise<TlogEntryJson> {
    let res: Response;
    try {
      res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (e) {
      throw networkError(url, e);
    }
    const text = await res.text();
    if (res.status !== 200) throw new SigilError('NETWORK', `fetching ${url} failed (HTTP ${res.status})`);
    const entry = this.#parseV1(text);
    this.#check(entry);
    return entry;
  }

  #parseV2(text: string): TlogEntryJson {
    try {
      const e = JSON.parse(text) as TlogEntryJson;
      if (typeof e.logIndex !== 'string' || typeof e.canonicalizedBody !== 'string' || !e.inclusionProof?.checkpoint?.envelope) throw new Error('missing fields');
      return e;
    } catch (err) {
      throw new SigilError('NETWORK', `the transparency log answered with an unreadable entry: ${(err as Error).message}`);
    }
  }

  #parseV1(text: string): TlogEntryJson {
    let map: Record<string, V1LogEntry>;
    try {
      map = JSON.parse(text) as Record<string, V1LogEntry>;
    } catch (err) {
      throw new SigilError('NETWORK', `the transparency log answered with unreadable JSON: ${(err as Error).message}`);
    }
    const values = Object.values(map);
    const e = values[0];
    const p = e?.verification?.inclusionProof;
    if (values.length !== 1 || !e || !p) throw new SigilError('NETWORK', 'the transparency log answered without exactly one entry with an inclusion proof');
    const body = JSON.parse(Buffer.from(e.body, 'base64').toString('utf8')) as { kind: string; apiVersion: string };
    return {
      logIndex: String(e.logIndex),
      logId: { keyId: Buffer.from(e.logID, 'hex').toString('base64') },
      kindVersion: { kind: body.kind, version: body.apiVersion },
      integratedTime: String(e.integratedTime),
      ...(e.verification?.signedEntryTimestamp ? { inclusionPromise: { signedEntryTimestamp: e.verification.signedEntryTimestamp } } : {}),
      inclusionProof: {
        logIndex: String(p.logIndex),
        rootHash: Buffer.from(p.rootHash, 'hex').toString('base64'),
        treeSize: String(p.treeSize),
        hashes: p.hashes.map((h) => Buffer.from(h, 'hex').toString('base64')),
        checkpoint: { envelope: p.checkpoint },
      },
      canonicalizedBody: e.body,
    };
  }

  /** Fails closed on an entry whose proof does not lead to its checkpoint's root. */
  #check(e: TlogEntryJson): void {
    const note = parseSignedNote(e.inclusionProof.checkpoint.envelope);
    const rootHash = Buffer.from(e.inclusionProof.rootHash, 'base64');
    if (note.size !== Number(e.inclusionProof.treeSize) || !note.rootHash.equals(rootHash)) {
      throw new SigilError('TLOG_INCLUSION_INVALID', 'the log returned a checkpoint for a different tree than its proof');
    }
    verifyInclusion(
      Number(e.inclusionProof.logIndex),
      note.size,
      leafHash(Buffer.from(e.canonicalizedBody, 'base64')),
      e.inclusionProof.hashes.map((h) => Buffer.from(h, 'base64')),
      note.rootHash,
    );
    if (this.#verifyWith) verifySignedNote(note, this.#verifyWith);
  }
}
