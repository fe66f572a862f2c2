/**
 * Signer and Verifier over a key held in memory. The KeyObject is decoded once in the
 * constructor: decoding costs more than signing (LIMITS.md §1), so a signer is built once per key
 * and reused. Signing is node:crypto's synchronous call; `sign` is async only to fit the Signer
 * interface that remote (KMS/HSM) signers share.
 */
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { SigilError } from '../core/errors.js';
import type { DigestAlgorithm } from '../core/digest.js';
import type { KeyDetails, Signer, Verifier } from './signer.js';
import { assertSupportedKey, importPrivateKey, importPublicKey, keyDetails, keyHashAlgorithm, toPublicKey } from './keys.js';

export class LocalSigner implements Signer {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyDetails: KeyDetails;
  /** The digest signatures are made over (null for Ed25519). */
  readonly hashAlgorithm: DigestAlgorithm | null;

  constructor(privateKey: KeyObject) {
    if (privateKey.type !== 'private') {
      throw new SigilError('KEY_MALFORMED', 'a signer needs a private key, got a public key', { hint: 'pass the .key file' });
    }
    assertSupportedKey(privateKey);
    this.privateKey = privateKey;
    this.publicKey = toPublicKey(privateKey);
    this.keyDetails = keyDetails(privateKey);
    this.hashAlgorithm = keyHashAlgorithm(privateKey);
  }

  /** Builds a signer from any private key text importPrivateKey accepts. */
  static fromPem(text: string | Uint8Array, password?: string): LocalSigner {
    return new LocalSigner(importPrivateKey(text, password));
  }

  /** ECDSA: DER signature over hash(data); RSA: PKCS#1 v1.5 with SHA-256; Ed25519: pure EdDSA over data. */
  signSync(data: Uint8Array): Buffer {
    return cryptoSign(this.hashAlgorithm, data, this.privateKey);
  }

  async sign(data: Uint8Array): Promise<Buffer> {
    return this.signSync(data);
  }
}

export class PublicKeyVerifier implements Verifier {
  readonly publicKey: KeyObject;
  readonly hashAlgorithm: DigestAlgorithm | null;

  constructor(publicKey: KeyObject) {
    const pub = toPublicKey(publicKey);
    assertSupportedKey(pub);
    this.publicKey = pub;
    this.hashAlgorithm = keyHashAlgorithm(pub);
  }

  static fromPem(text: string | Uint8Array): PublicKeyVerifier {
    return new PublicKeyVerifier(importPublicKey(text));
  }

  /** False for a wrong or malformed signature; never throws on attacker-supplied signature bytes. */
  verify(data: Uint8Array, signature: Uint8Array): boolean {
    try {
      return cryptoVerify(this.hashAlgorithm, data, this.publicKey, signature);
    } catch {
      return false;
    }
  }
}
