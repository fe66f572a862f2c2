/**
 * Field readers and comparisons shared by the per-kind log entry body checks (tlog-hashedrekord,
 * tlog-dsse, tlog-intoto). Every failure is TLOG_BODY_MISMATCH naming the entry and the field.
 */
import { SigilError } from '../core/errors.js';
import type { DigestAlgorithm } from '../core/digest.js';
import { ProtoReader } from '../formats/proto-json.js';
import type { Entity } from './structure.js';
import type { SigningKey } from './signing-key.js';

export const bodyReader: ProtoReader = new ProtoReader('TLOG_BODY_MISMATCH');

export interface BodyContext {
  entity: Entity;
  key: SigningKey;
  /** Message signatures: the artifact's digest under the bundle's digest algorithm. */
  artifactDigest?: { alg: DigestAlgorithm; value: Buffer };
  /** Where in the bundle this entry sits, for messages. */
  where: string;
}

export function mismatch(ctx: BodyContext, what: string): never {
  throw new SigilError('TLOG_BODY_MISMATCH', `${ctx.where}: ${what}`, {
    hint: 'the transparency-log entry belongs to another signature, key or artifact',
  });
}

// Everything compared here is public (signatures, certificates, digests), so a native memcmp is
// fine; constant-time comparison protects secrets, not log entries.
function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.equals(b);
}

/**
 * The one PEM block of a log entry's verifier field: "-----BEGIN L-----", base64 lines,
 * "-----END L-----". Read by hand rather than with a regular expression: this runs for every
 * Rekor v1 entry, on ~4 KB certificates.
 */
function readPem(ctx: BodyContext, pem: Buffer, what: string): { label: string; der: Buffer } {
  const text = pem.toString('latin1').trimEnd();
  const head = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n/.exec(text);
  const label = head?.[1];
  const footer = `-----END ${label}-----`;
  if (!head || !label || !text.endsWith(footer)) mismatch(ctx, `${what} is not a single PEM block`);
  const body = text.slice(head[0].length, text.length - footer.length);
  if (body.includes('-')) mismatch(ctx, `${what} is not a single PEM block`);
  return { label, der: bodyReader.bytes(body, what) };
}

/** Compares a verifier recorded as PEM (hashedrekord/dsse v0.0.1, intoto) with the bundle's key or certificate. */
export function checkPemVerifier(ctx: BodyContext, pem: Buffer, what: string): void {
  const { label, der } = readPem(ctx, pem, what);
  checkDerVerifier(ctx, label === 'CERTIFICATE' ? 'certificate' : label === 'PUBLIC KEY' ? 'key' : 'other', der, what);
}

/** Compares a verifier recorded as DER (Rekor v2 entries) with the bundle's key or certificate. */
export function checkDerVerifier(ctx: BodyContext, kind: 'certificate' | 'key' | 'other', der: Buffer, what: string): void {
  const cert = ctx.key.certificate;
  if (kind === 'certificate') {
    if (!cert || !same(cert.der, der)) mismatch(ctx, `${what} is a different certificate than the bundle's`);
  } else if (kind === 'key') {
    if (cert) mismatch(ctx, `${what} is a public key, but the bundle is signed with a certificate`);
    if (!same(ctx.key.spki, der)) mismatch(ctx, `${what} is a different public key than the one verifying the bundle`);
  } else {
    mismatch(ctx, `${what} is neither a certificate nor a public key`);
  }
}

export function checkBytes(ctx: BodyContext, got: Buffer, want: Buffer, what: string): void {
  if (!same(got, want)) mismatch(ctx, `${what} does not match the bundle`);
}

/** Hex digest fields of Rekor v1 bodies: {algorithm: "sha256", value: "<hex>"}. */
export function readHexHash(ctx: BodyContext, v: unknown, path: string): { alg: DigestAlgorithm; value: Buffer } {
  const o = bodyReader.object(v, path);
  const alg = bodyReader.enumName(o.algorithm, `${path}.algorithm`, ['sha256', 'sha384', 'sha512'] as const);
  const hex = bodyReader.string(o.value, `${path}.value`);
  if (!/^[0-9a-f]*$/.test(hex) || hex.length !== { sha256: 64, sha384: 96, sha512: 128 }[alg]) mismatch(ctx, `${path}.value is not a ${alg} hex digest`);
  return { alg, value: Buffer.from(hex, 'hex') };
}

/** Rekor v2 HashOutput: {algorithm: "SHA2_256", digest: "<base64>"}. */
export function readProtoHash(v: unknown, path: string): { alg: DigestAlgorithm; value: Buffer } {
  const o = bodyReader.object(v, path);
  const name = bodyReader.enumName(o.algorithm, `${path}.algorithm`, ['SHA2_256', 'SHA2_384', 'SHA2_512'] as const);
  const alg = ({ SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' } as const)[name];
  return { alg, value: bodyReader.bytes(o.digest, `${path}.digest`) };
}
