/**
 * The signing and verifying interfaces every producer uses: local keys, the log's checkpoint key,
 * the CA's key, and later HSM/KMS keys all stand behind `Signer`, so the code that signs never
 * knows where the private key lives.
 */
import type { KeyObject } from 'node:crypto';

/** Names follow protobuf-specs PublicKeyDetails so they can go into a trusted root as they are. */
export type KeyDetails =
  | 'PKIX_ECDSA_P256_SHA_256'
  | 'PKIX_ECDSA_P384_SHA_384'
  | 'PKIX_ECDSA_P521_SHA_512'
  | 'PKIX_ED25519'
  | 'PKIX_RSA_PKCS1V15_2048_SHA256'
  | 'PKIX_RSA_PKCS1V15_3072_SHA256'
  | 'PKIX_RSA_PKCS1V15_4096_SHA256';

export interface Signer {
  readonly publicKey: KeyObject;
  readonly keyDetails: KeyDetails;
  /**
   * Signs `data` (the signer hashes it as its key type requires: SHA-256 for P-256 and RSA,
   * SHA-384 for P-384, none for Ed25519). ECDSA signatures are DER encoded.
   */
  sign(data: Uint8Array): Promise<Buffer>;
}

export interface Verifier {
  readonly publicKey: KeyObject;
  verify(data: Uint8Array, signature: Uint8Array): boolean;
}
