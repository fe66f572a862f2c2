/**
 * Parsing of Fulcio v2 `CreateSigningCertificateRequest` bodies (fulcio.proto, JSON mapping of
 * proto3: lowerCamelCase names, original snake_case names also accepted, bytes as base64).
 * The body is attacker-controlled: every field is type-checked and a malformed request is a
 * USAGE error naming the field, never an exception from deep inside.
 */
import { SigilError } from '../../core/errors.js';
import { fromBase64 } from '../../core/encoding.js';
import { isObject, parseJson } from '../../core/json.js';

export type KeyRequest =
  | { kind: 'publicKey'; content: string; proofOfPossession: Buffer }
  | { kind: 'csr'; pem: Buffer };

export interface SigningCertRequest {
  token: string;
  key: KeyRequest;
}

function bad(msg: string): SigilError {
  return new SigilError('USAGE', `signingCert request: ${msg}`, { hint: 'see fulcio.proto CreateSigningCertificateRequest' });
}

function field(o: Record<string, unknown>, camel: string, snake: string): unknown {
  return o[camel] !== undefined ? o[camel] : o[snake];
}

/**
 * @param body          the request body
 * @param bearerToken   token from an `Authorization: Bearer` header, used when the body carries none
 */
export function parseSigningCertRequest(body: Uint8Array, bearerToken?: string): SigningCertRequest {
  const doc = parseJson(body, 'signingCert request', 'USAGE');
  if (!isObject(doc)) throw bad('the body must be a JSON object');
  const creds = field(doc, 'credentials', 'credentials');
  let token: unknown = bearerToken;
  if (creds !== undefined) {
    if (!isObject(creds)) throw bad('credentials must be an object');
    const t = field(creds, 'oidcIdentityToken', 'oidc_identity_token');
    if (t !== undefined) token = t;
  }
  if (typeof token !== 'string' || token === '') throw new SigilError('UNAUTHORIZED', 'no identity token: set credentials.oidcIdentityToken', { hint: 'pass an OIDC ID token' });

  const pkr = field(doc, 'publicKeyRequest', 'public_key_request');
  const csr = field(doc, 'certificateSigningRequest', 'certificate_signing_request');
  if ((pkr === undefined) === (csr === undefined)) throw bad('exactly one of publicKeyRequest and certificateSigningRequest is required');
  if (csr !== undefined) {
    if (typeof csr !== 'string' || csr === '') throw bad('certificateSigningRequest must be base64 of a PEM CSR');
    return { token, key: { kind: 'csr', pem: fromBase64(csr, 'certificateSigningRequest') } };
  }
  if (!isObject(pkr)) throw bad('publicKeyRequest must be an object');
  const pk = field(pkr, 'publicKey', 'public_key');
  if (!isObject(pk)) throw bad('publicKeyRequest.publicKey must be an object');
  const content = pk.content;
  if (typeof content !== 'string' || content === '') throw bad('publicKeyRequest.publicKey.content must be a PEM or base64 DER public key');
  const pop = field(pkr, 'proofOfPossession', 'proof_of_possession');
  if (typeof pop !== 'string' || pop === '') throw bad('publicKeyRequest.proofOfPossession must be a base64 signature');
  return { token, key: { kind: 'publicKey', content, proofOfPossession: fromBase64(pop, 'proofOfPossession') } };
}
