/**
 * sign-blob: a message signature over an artifact, as a Sigstore bundle v0.3
 * (`messageSignature` = digest + signature; verification material = public-key hint or
 * certificate; a hashedrekord log entry when a log is configured). Same bundle shape cosign
 * (`sign-blob --new-bundle-format`) and sigstore-js write.
 */
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import { digest as hashBytes, type DigestAlgorithm } from '../core/digest.js';
import { BUNDLE_V03_MEDIA_TYPE } from '../formats/bundle.js';
import { keyHashAlgorithm } from '../crypto/keys.js';
import { finish, signChecked, tlogEntryFromJSON, verificationMaterial, type ProducedBundle, type ProducerOptions } from './bundle-material.js';

const HASH: Record<DigestAlgorithm, HashAlgorithm> = {
  sha256: HashAlgorithm.SHA2_256,
  sha384: HashAlgorithm.SHA2_384,
  sha512: HashAlgorithm.SHA2_512,
};

export interface SignBlobResult extends ProducedBundle {
  digestAlgorithm: DigestAlgorithm;
  digest: Buffer;
  signature: Buffer;
}

/**
 * Signs `artifact` (the whole content: ECDSA and RSA signers hash it themselves, Ed25519 signs
 * it as is). The bundle's messageDigest uses the key's own hash (SHA-256 for P-256, RSA and
 * Ed25519, SHA-384 for P-384, SHA-512 for P-521): a hashedrekord entry records the digest the
 * signature was computed over, so the log can check the signature against it.
 */
export async function signBlob(artifact: Uint8Array, opts: ProducerOptions): Promise<SignBlobResult> {
  const digestAlgorithm = keyHashAlgorithm(opts.signer.publicKey) ?? 'sha256';
  const digest = hashBytes(digestAlgorithm, artifact);
  const signature = await signChecked(opts.signer, artifact);
  const tlogEntries = opts.tlog
    ? [
        tlogEntryFromJSON(
          await opts.tlog.upload('hashedrekord', {
            digestAlgorithm,
            digest,
            signature,
            publicKey: opts.signer.publicKey,
            ...(opts.certificate ? { certificate: opts.certificate } : {}),
          }),
        ),
      ]
    : [];
  const produced = finish({
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: verificationMaterial(opts, tlogEntries),
    content: { $case: 'messageSignature', messageSignature: { messageDigest: { algorithm: HASH[digestAlgorithm], digest }, signature } },
  });
  return { ...produced, digestAlgorithm, digest, signature };
}
