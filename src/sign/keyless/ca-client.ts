/**
 * Client of a Fulcio v2 CA (fulcio.proto CreateSigningCertificate): sends the identity token, the
 * ephemeral public key and the proof of possession, and checks what comes back before anyone
 * signs with it — the leaf must certify exactly the key that was sent, so a confused or hostile
 * CA cannot hand out a certificate for a key the signer does not hold.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { SigilError } from '../../core/errors.js';
import { isObject } from '../../core/json.js';
import { decodePemBlocks } from '../../core/pem.js';
import { exportPublicKeyPem } from '../../crypto/keys.js';
import { postBytes } from './http-post.js';

export interface CertificateChainResult {
  /** Leaf first, then intermediates and root, DER. */
  chain: Buffer[];
}

export async function requestSigningCertificate(
  caUrl: string,
  token: string,
  publicKey: KeyObject,
  proofOfPossession: Buffer,
  timeoutMs = 30_000,
): Promise<CertificateChainResult> {
  const url = `${caUrl.replace(/\/+$/, '')}/api/v2/signingCert`;
  const body = {
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: {
      publicKey: { algorithm: publicKey.asymmetricKeyType === 'ed25519' ? 'ED25519' : publicKey.asymmetricKeyType === 'rsa' ? 'RSA_PSS' : 'ECDSA', content: exportPublicKeyPem(publicKey) },
      proofOfPossession: proofOfPossession.toString('base64'),
    },
  };
  const res = await postBytes(url, Buffer.from(JSON.stringify(body)), { 'content-type': 'application/json', accept: 'application/json' }, timeoutMs, 'the CA').catch((e: unknown) => {
    throw e instanceof SigilError ? new SigilError(e.code, e.message, { cause: e, hint: 'check --fulcio-url / the signing config, and that the CA runs (sigil up)' }) : e;
  });
  const text = res.body.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.status < 200 || res.status > 299) {
    const msg = isObject(json) && typeof json.message === 'string' ? json.message : text.slice(0, 300);
    throw new SigilError(res.status === 401 || res.status === 403 ? 'UNAUTHORIZED' : 'NETWORK', `the CA refused to issue a certificate (HTTP ${res.status}): ${msg}`, {
      hint: res.status === 401 ? 'the identity token was refused: get a fresh one from an issuer the CA trusts' : res.status === 403 ? 'this identity is not allowed by the CA' : 'retry later',
    });
  }
  const wrapper = isObject(json) ? (json.signedCertificateEmbeddedSct ?? json.signedCertificateDetachedSct) : undefined;
  const chainObj = isObject(wrapper) ? wrapper.chain : undefined;
  const pems = isObject(chainObj) ? chainObj.certificates : undefined;
  if (!Array.isArray(pems) || pems.length === 0 || !pems.every((p) => typeof p === 'string')) {
    throw new SigilError('NETWORK', 'the CA answered without a certificate chain', { hint: 'is the URL a Fulcio v2 API?' });
  }
  const chain = (pems as string[]).flatMap((p) => decodePemBlocks(p).filter((b) => b.label === 'CERTIFICATE').map((b) => b.der));
  if (chain.length === 0) throw new SigilError('CERTIFICATE_MALFORMED', 'the CA returned no PEM certificate');
  let leafKey: KeyObject;
  try {
    leafKey = new X509Certificate(chain[0]!).publicKey;
  } catch (e) {
    throw new SigilError('CERTIFICATE_MALFORMED', `the CA returned an unreadable certificate: ${(e as Error).message}`, { cause: e });
  }
  if (!leafKey.export({ type: 'spki', format: 'der' }).equals(publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new SigilError('KEY_MISMATCH', 'the CA returned a certificate for another public key', { hint: 'the CA is misconfigured or hostile; do not use it' });
  }
  return { chain };
}
