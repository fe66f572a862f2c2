/**
 * Verification of an image's signatures and attestations, found under both storage schemes:
 *   - OCI 1.1 referrers holding a Sigstore bundle (cosign v3, sigstore-js attach, sigil): the
 *     referrer must name this image as its subject, and the bundle is verified by src/verify
 *     against the image digest (a DSSE statement must list it as a subject; a message signature
 *     must be over it);
 *   - cosign's `.sig`/`.att` tags: each layer becomes the equivalent bundle (legacy-bundle.ts)
 *     and is verified the same way; a `.sig` payload must then name this digest.
 * Every candidate is verified in full; the image passes when at least one verifies (cosign's rule),
 * and the caller gets both the verified payloads and why the others failed. Nothing verifies →
 * the error says so, and "no signatures found for <digest>" when there was nothing to check.
 */
import { SigilError, isSigilError } from '../core/errors.js';
import { isObject, parseJson } from '../core/json.js';
import { parseBundle, type ParsedBundle } from '../formats/bundle.js';
import { verify } from '../verify/verify.js';
import type { TrustMaterial, VerificationResult, VerifyPolicy } from '../verify/types.js';
import type { RegistryClient } from './client.js';
import { discoverAttachments, type AttachmentCache, type ReferrerAttachment, type TagAttachment } from './attachments.js';
import { legacyLayerToBundle } from './legacy-bundle.js';
import { mapLimit } from './map-limit.js';
import { checkAnnotations, checkSimpleSigningPayload, parseSimpleSigningPayload } from './simple-signing.js';
import { withDigest, type ImageReference } from './reference.js';
import { COSIGN_SIGN_PREDICATE_TYPE, COSIGN_SIMPLE_SIGNING, DSSE_ENVELOPE, SIGSTORE_BUNDLE_PREFIX, ANNOTATION_PREDICATE_TYPE } from './media-types.js';

/** Bundles and payloads are small; refuse anything that could only be an attack on memory. */
const MAX_BUNDLE_BYTES = 16 << 20;

export interface ImageVerifyOptions {
  policy: VerifyPolicy;
  trust: TrustMaterial;
  /** verify -a key=value: required in the signed annotations. */
  annotations?: Record<string, string>;
  cache?: AttachmentCache;
}

export interface VerifiedItem {
  scheme: 'referrer' | 'tag';
  /** Referrer manifest digest, or `<tag>[layer]` for the tag scheme. */
  source: string;
  result: VerificationResult;
  /** What was signed: the in-toto statement, or the simple-signing payload. */
  payload: unknown;
}

export interface RejectedItem {
  scheme: 'referrer' | 'tag';
  source: string;
  error: SigilError;
}

export interface ImageVerification {
  reference: ImageReference;
  digest: string;
  verified: VerifiedItem[];
  rejected: RejectedItem[];
}

type Mode = { kind: 'signature' } | { kind: 'attestation'; predicateType?: string };

function digestArtifact(digest: string): { digest: { alg: 'sha256' | 'sha512'; value: Buffer } } {
  const [alg, hex] = digest.split(':') as ['sha256' | 'sha512', string];
  return { digest: { alg, value: Buffer.from(hex, 'hex') } };
}

/** The statement inside a DSSE bundle, parsed leniently just to read subject annotations and the predicate type. */
function dssePayload(b: ParsedBundle): Record<string, unknown> | undefined {
  if (b.bundle.content.$case !== 'dsseEnvelope') return undefined;
  const doc = parseJson(b.bundle.content.dsseEnvelope.payload, 'DSSE payload', 'STATEMENT_MALFORMED');
  return isObject(doc) ? doc : undefined;
}

function subjectAnnotations(statement: Record<string, unknown> | undefined, digest: string): Record<string, unknown> {
  const [alg, hex] = digest.split(':');
  const subjects = Array.isArray(statement?.subject) ? statement.subject : [];
  for (const s of subjects) {
    if (isObject(s) && isObject(s.digest) && s.digest[alg!] === hex) return isObject(s.annotations) ? s.annotations : {};
  }
  return {};
}

/** Skip (not reject) a candidate of the other kind: an attestation is not a failed signature. */
class NotThisKind extends Error {}

async function verifyReferrer(client: RegistryClient, ref: ImageReference, digest: string, att: ReferrerAttachment, mode: Mode, opts: ImageVerifyOptions): Promise<VerifiedItem> {
  const m = await client.getManifest(withDigest(ref, att.descriptor.digest));
  if (m.manifest.kind !== 'manifest') throw new SigilError('MANIFEST_MALFORMED', `referrer ${att.descriptor.digest} is an index, not a bundle manifest`);
  // The referrers list (especially the tag-schema index) is writable by anyone with push access:
  // the referrer's own subject field is what binds it to this image.
  if (m.manifest.subject?.digest !== digest) {
    throw new SigilError('SUBJECT_MISMATCH', `referrer ${att.descriptor.digest} is listed for ${digest} but its subject is ${m.manifest.subject?.digest ?? 'missing'}`, {
      hint: 'the referrers list was edited to point at an artifact of another image',
    });
  }
  const layer = m.manifest.layers.find((l) => l.mediaType.startsWith(SIGSTORE_BUNDLE_PREFIX));
  if (!layer) throw new SigilError('BUNDLE_MALFORMED', `referrer ${att.descriptor.digest} has no Sigstore bundle layer`);
  if (layer.size > MAX_BUNDLE_BYTES) throw new SigilError('BUNDLE_MALFORMED', `bundle layer of ${att.descriptor.digest} is ${layer.size} bytes; refusing more than ${MAX_BUNDLE_BYTES}`);
  const bundle = parseBundle(await client.getBlob(ref, layer.digest, { size: layer.size }));
  const statement = dssePayload(bundle);
  const predicateType = typeof statement?.predicateType === 'string' ? statement.predicateType : undefined;
  if (mode.kind === 'signature' && statement && predicateType !== COSIGN_SIGN_PREDICATE_TYPE) throw new NotThisKind();
  if (mode.kind === 'attestation') {
    if (!statement || predicateType === COSIGN_SIGN_PREDICATE_TYPE) throw new NotThisKind();
    if (mode.predicateType && predicateType !== mode.predicateType) throw new NotThisKind();
  }
  const policy: VerifyPolicy = { ...opts.policy, ...(mode.kind === 'attestation' && mode.predicateType ? { predicateType: mode.predicateType } : {}) };
  const result = await verify(bundle, digestArtifact(digest), policy, opts.trust);
  if (opts.annotations && Object.keys(opts.annotations).length) checkAnnotations(subjectAnnotations(statement, digest), opts.annotations, `signature ${att.descriptor.digest}`);
  return { scheme: 'referrer', source: att.descriptor.digest, result, payload: statement ?? { messageDigest: digest } };
}

async function verifyTagLayer(client: RegistryClient, ref: ImageReference, digest: string, tag: TagAttachment, index: number, mode: Mode, opts: ImageVerifyOptions): Promise<VerifiedItem> {
  const layer = tag.layers[index]!;
  const source = `${tag.tag}[${index}]`;
  if (mode.kind === 'signature' && layer.mediaType !== COSIGN_SIMPLE_SIGNING) throw new NotThisKind();
  if (mode.kind === 'attestation') {
    if (layer.mediaType !== DSSE_ENVELOPE) throw new NotThisKind();
    const annotated = layer.annotations?.[ANNOTATION_PREDICATE_TYPE];
    if (mode.predicateType && annotated !== undefined && annotated !== mode.predicateType) throw new NotThisKind();
  }
  if (layer.size > MAX_BUNDLE_BYTES) throw new SigilError('BUNDLE_MALFORMED', `${source} is ${layer.size} bytes; refusing more than ${MAX_BUNDLE_BYTES}`);
  const data = await client.getBlob(ref, layer.digest, { size: layer.size });
  const bundle = legacyLayerToBundle(layer, data, source);
  if (mode.kind === 'signature') {
    const result = await verify(bundle, { bytes: data }, opts.policy, opts.trust);
    const payload = parseSimpleSigningPayload(data);
    checkSimpleSigningPayload(payload, digest, opts.annotations);
    return { scheme: 'tag', source, result, payload: JSON.parse(data.toString('utf8')) as unknown };
  }
  const statement = dssePayload(bundle);
  if (mode.predicateType && statement?.predicateType !== mode.predicateType) throw new NotThisKind();
  const result = await verify(bundle, digestArtifact(digest), { ...opts.policy, ...(mode.predicateType ? { predicateType: mode.predicateType } : {}) }, opts.trust);
  return { scheme: 'tag', source, result, payload: statement };
}

async function verifyImage(client: RegistryClient, image: ImageReference, mode: Mode, opts: ImageVerifyOptions): Promise<ImageVerification> {
  const digest = image.digest ?? (await client.resolve(image)).digest;
  const ref = withDigest(image, digest);
  const found = await discoverAttachments(client, ref, digest, { suffixes: mode.kind === 'signature' ? ['sig'] : ['att'], ...(opts.cache ? { cache: opts.cache } : {}) });
  const tasks: { scheme: 'referrer' | 'tag'; source: string; run: () => Promise<VerifiedItem> }[] = [];
  for (const r of found.referrers) {
    const fits = r.kind === 'bundle' || (mode.kind === 'signature' ? r.kind === 'signature' : r.kind === 'attestation');
    if (fits) tasks.push({ scheme: 'referrer', source: r.descriptor.digest, run: () => verifyReferrer(client, ref, digest, r, mode, opts) });
  }
  for (const t of found.tags) t.layers.forEach((_, i) => tasks.push({ scheme: 'tag', source: `${t.tag}[${i}]`, run: () => verifyTagLayer(client, ref, digest, t, i, mode, opts) }));
  const verified: VerifiedItem[] = [];
  const rejected: RejectedItem[] = [];
  // Bounded: an image with hundreds of referrers must not open hundreds of fetches at once.
  await mapLimit(tasks, 8, async (t) => {
    try {
      verified.push(await t.run());
    } catch (e) {
      if (e instanceof NotThisKind) return;
      // Registry and network failures are not verdicts about a signature: let them surface.
      if (isSigilError(e) && (e.code === 'NETWORK' || e.code === 'UNAUTHORIZED')) throw e;
      rejected.push({ scheme: t.scheme, source: t.source, error: isSigilError(e) ? e : new SigilError('INTERNAL', (e as Error).message, { cause: e }) });
    }
  });
  const order = (s: string): number => tasks.findIndex((t) => t.source === s);
  verified.sort((a, b) => order(a.source) - order(b.source));
  rejected.sort((a, b) => order(a.source) - order(b.source));
  return { reference: ref, digest, verified, rejected };
}

/** Throws when nothing verified: SIGNATURE_MISSING when nothing was found, else the reasons. */
export function requireVerified(v: ImageVerification, what: 'signatures' | 'attestations'): void {
  if (v.verified.length > 0) return;
  if (v.rejected.length === 0) {
    throw new SigilError('SIGNATURE_MISSING', `no ${what} found for ${v.digest}`, {
      hint: what === 'signatures' ? 'sign the image first (sigil sign), or check the repository' : 'attest the image first (sigil attest), or check --type',
    });
  }
  const first = v.rejected.find((r) => r.error.kind === 'verification') ?? v.rejected[0]!;
  const reasons = v.rejected.map((r) => `${r.scheme} ${r.source}: ${r.error.code}: ${r.error.message}`).join('; ');
  throw new SigilError(first.error.code, `none of the ${v.rejected.length} ${what} for ${v.digest} verified: ${reasons}`, {
    kind: 'verification',
    ...(first.error.hint ? { hint: first.error.hint } : {}),
  });
}

export function verifyImageSignatures(client: RegistryClient, image: ImageReference, opts: ImageVerifyOptions): Promise<ImageVerification> {
  return verifyImage(client, image, { kind: 'signature' }, opts);
}

export function verifyImageAttestations(client: RegistryClient, image: ImageReference, opts: ImageVerifyOptions & { predicateType?: string }): Promise<ImageVerification> {
  return verifyImage(client, image, { kind: 'attestation', ...(opts.predicateType ? { predicateType: opts.predicateType } : {}) }, opts);
}
