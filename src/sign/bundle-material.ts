/**
 * What sign-blob and attest-blob share: signing with a self-check, the verification material
 * (public-key hint or certificate), turning the log's answer into a bundle entry, and the final
 * v0.3 serialization through formats/bundle (which re-validates everything it writes).
 */
import { TransparencyLogEntry, type VerificationMaterial } from '@sigstore/protobuf-specs';
import { SigilError } from '../core/errors.js';
import { bundleToJSON, type ValidBundle } from '../formats/bundle.js';
import type { Signer } from '../crypto/signer.js';
import { publicKeyHint } from '../crypto/keys.js';
import { PublicKeyVerifier } from '../crypto/local-signer.js';
import type { TlogUploader } from './tlog-uploader.js';

export interface ProducerOptions {
  signer: Signer;
  /**
   * DER of the signing certificate (keyless signing, src/sign/keyless.ts). Without it the bundle
   * carries `publicKey.hint` and the verifier must be given the key out of band.
   */
  certificate?: Buffer;
  /** Transparency log to record the signature in; none → no tlog entry. */
  tlog?: TlogUploader;
}

export interface ProducedBundle {
  bundle: ValidBundle;
  /** protobuf-specs JSON of the v0.3 bundle, ready for JSON.stringify. */
  json: Record<string, unknown>;
}

/**
 * Signs and checks the signature against the signer's public key before anything is published:
 * a remote or hardware signer that returns garbage (wrong key, truncated DER) must not produce a
 * bundle or a log entry that can never verify.
 */
export async function signChecked(signer: Signer, data: Uint8Array): Promise<Buffer> {
  const sig = await signer.sign(data);
  if (!new PublicKeyVerifier(signer.publicKey).verify(data, sig)) {
    throw new SigilError('INTERNAL', 'the signer returned a signature that does not verify with its own public key', {
      hint: 'the signing key and the public key it reports do not match, or the signer is faulty',
    });
  }
  return sig;
}

export function verificationMaterial(opts: ProducerOptions, tlogEntries: TransparencyLogEntry[]): ValidBundle['verificationMaterial'] {
  const content: NonNullable<VerificationMaterial['content']> = opts.certificate
    ? { $case: 'certificate', certificate: { rawBytes: opts.certificate } }
    : { $case: 'publicKey', publicKey: { hint: publicKeyHint(opts.signer.publicKey) } };
  return { content, tlogEntries, timestampVerificationData: undefined };
}

/** The log's JSON answer as a bundle entry; an answer that is not a TransparencyLogEntry is the log's fault, said so. */
export function tlogEntryFromJSON(json: Record<string, unknown>): TransparencyLogEntry {
  try {
    const entry = TransparencyLogEntry.fromJSON(json);
    if (!entry.logId || !entry.kindVersion || !entry.canonicalizedBody.length) throw new Error('logId, kindVersion and canonicalizedBody are required');
    return entry;
  } catch (e) {
    throw new SigilError('NETWORK', `the transparency log returned an invalid entry: ${(e as Error).message}`, {
      hint: 'check the log URL points at a Rekor-compatible log',
      cause: e,
    });
  }
}

export function finish(bundle: ValidBundle): ProducedBundle {
  return { bundle, json: bundleToJSON(bundle) };
}
