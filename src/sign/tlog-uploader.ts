/**
 * The hook between the producer and a transparency log. sign-blob / attest-blob hand the log
 * what it records; the log owner's client (src/sign/log-client.ts: Rekor v1 / v2, or sigil's own
 * log) implements the interface and returns the protobuf-specs JSON of the TransparencyLogEntry
 * (with inclusion proof and checkpoint, as a v0.3 bundle requires), which goes into the bundle
 * unchanged. Without an uploader no entry is written, as with cosign's --tlog-upload=false.
 */
import type { KeyObject } from 'node:crypto';
import type { DigestAlgorithm } from '../core/digest.js';
import type { DsseEnvelope } from '../formats/dsse.js';

/** Who signed: the public key, and for keyless signing the leaf certificate that binds it to an identity. */
export interface TlogSignerMaterial {
  publicKey: KeyObject;
  /** DER of the signing certificate (keyless); when present the log records it instead of the bare key. */
  certificate?: Buffer;
}

/** A hashedrekord entry: signature over the artifact whose digest is given. */
export interface HashedRekordRequest extends TlogSignerMaterial {
  digestAlgorithm: DigestAlgorithm;
  digest: Buffer;
  signature: Buffer;
}

/** A dsse entry: the whole signed envelope. */
export interface DsseRequest extends TlogSignerMaterial {
  envelope: DsseEnvelope;
}

export interface TlogRequests {
  hashedrekord: HashedRekordRequest;
  dsse: DsseRequest;
}

export type TlogKind = keyof TlogRequests;

export interface TlogUploader {
  /**
   * Records the entry and resolves to its TransparencyLogEntry in protobuf-specs JSON form
   * (`TransparencyLogEntry.toJSON`). Rejects with a SigilError (NETWORK, CONFLICT, …) when the
   * log refuses or cannot be reached; the caller then writes no bundle.
   */
  upload<K extends TlogKind>(kind: K, request: TlogRequests[K]): Promise<Record<string, unknown>>;
}
