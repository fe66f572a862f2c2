/**
 * The simple-signing payload cosign signs for the `.sig` tag scheme (containers/image
 * docs/containers-signature.5.md, "JSON Data Format"; cosign pkg/cosign/payload):
 *   {"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},
 *    "type":"cosign container image signature"},"optional":{...}|null}
 * The signature is over these exact bytes, so verification parses what was signed and checks
 * that it names the image digest being verified: a valid signature for another image is refused.
 */
import { SigilError } from '../core/errors.js';
import { isObject, parseJson } from '../core/json.js';

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

export interface SimpleSigningPayload {
  dockerReference: string;
  manifestDigest: string;
  /** `optional` as signed (cosign's -a annotations go here); null when absent. */
  optional: Record<string, unknown> | null;
}

/** Builds the payload bytes; `annotations` become the `optional` object (cosign sign -a). */
export function buildSimpleSigningPayload(dockerReference: string, manifestDigest: string, annotations?: Record<string, string>): Buffer {
  const doc = {
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': manifestDigest },
      type: SIMPLE_SIGNING_TYPE,
    },
    optional: annotations && Object.keys(annotations).length > 0 ? { ...annotations } : null,
  };
  return Buffer.from(JSON.stringify(doc));
}

function bad(why: string): never {
  throw new SigilError('SUBJECT_MISMATCH', `signed payload is not a cosign simple-signing payload: ${why}`, {
    hint: 'the .sig layer does not hold what cosign signs; it may be from another tool or tampered with',
  });
}

export function parseSimpleSigningPayload(bytes: Uint8Array): SimpleSigningPayload {
  const doc = parseJson(bytes, 'simple-signing payload', 'SUBJECT_MISMATCH');
  if (!isObject(doc) || !isObject(doc.critical)) bad('critical is missing');
  const c = doc.critical;
  if (c.type !== SIMPLE_SIGNING_TYPE) bad(`critical.type is ${JSON.stringify(c.type)}, not "${SIMPLE_SIGNING_TYPE}"`);
  if (!isObject(c.identity) || typeof c.identity['docker-reference'] !== 'string') bad('critical.identity.docker-reference is missing');
  if (!isObject(c.image) || typeof c.image['docker-manifest-digest'] !== 'string') bad('critical.image.docker-manifest-digest is missing');
  const optional = doc.optional === undefined || doc.optional === null ? null : doc.optional;
  if (optional !== null && !isObject(optional)) bad('optional must be an object or null');
  return { dockerReference: c.identity['docker-reference'], manifestDigest: c.image['docker-manifest-digest'], optional };
}

/**
 * Checks a verified payload against the image: the digest must be the one being verified, and
 * every required annotation (verify -a key=value) must be in `optional` with that exact value.
 */
export function checkSimpleSigningPayload(p: SimpleSigningPayload, digest: string, annotations: Record<string, string> = {}): void {
  if (p.manifestDigest !== digest) {
    throw new SigilError('SUBJECT_MISMATCH', `signature is for image ${p.manifestDigest}, not ${digest}`, {
      hint: 'the signature was copied from another image; it does not vouch for this one',
    });
  }
  checkAnnotations(p.optional ?? {}, annotations, `signature for ${digest}`);
}

/** Required annotations (verify -a) must all be present with the exact value. */
export function checkAnnotations(have: Record<string, unknown>, want: Record<string, string>, what: string): void {
  for (const [k, v] of Object.entries(want)) {
    if (have[k] !== v) {
      throw new SigilError('POLICY_VIOLATION', `${what} has annotation ${k}=${JSON.stringify(have[k] ?? null)}, required ${JSON.stringify(v)}`, {
        hint: 'the image was signed with other annotations than the policy requires',
      });
    }
  }
}
