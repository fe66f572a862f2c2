/**
 * Signing, attesting and attaching to images. Each operation signs the image *digest* (a tag is
 * resolved once: tags move, digests do not) and stores the result the ways the ecosystem reads it:
 *   - as an OCI 1.1 referrer holding a Sigstore bundle v0.3 (cosign v3's format: a DSSE in-toto
 *     statement, for signatures with predicateType https://sigstore.dev/cosign/sign/v1 and the
 *     -a annotations on the subject);
 *   - and, with the tag scheme (always on request, by default when the registry has no referrers
 *     API), cosign's `sha256-<hex>.sig` / `.att` / `.sbom` tags that every existing verifier reads.
 * The `.sig` layer carries its own message signature over the simple-signing payload (that is
 * what cosign verifies there), made with the same signer and, for keyless, the same certificate.
 */
import { SigilError } from '../core/errors.js';
import { pae } from '../core/pae.js';
import { BUNDLE_V03_MEDIA_TYPE, type ValidBundle } from '../formats/bundle.js';
import { INTOTO_PAYLOAD_TYPE, envelopeToJSON, type DsseEnvelope } from '../formats/dsse.js';
import { STATEMENT_V1 } from '../formats/intoto.js';
import { finish, signChecked, tlogEntryFromJSON, verificationMaterial, type ProducedBundle, type ProducerOptions } from '../sign/bundle-material.js';
import { signBlob } from '../sign/sign-blob.js';
import { addTimestamps } from '../sign/keyless.js';
import type { RegistryClient } from './client.js';
import type { Descriptor } from './manifest.js';
import { repositoryName, withDigest, type ImageReference } from './reference.js';
import { buildArtifactReferrer, buildBundleReferrer } from './bundle-referrer.js';
import { appendToTagScheme, publishReferrer, type PublishedReferrer } from './publish.js';
import { buildSimpleSigningPayload } from './simple-signing.js';
import { layerAnnotationsFromBundle } from './legacy-bundle.js';
import { COSIGN_SIGN_PREDICATE_TYPE, COSIGN_SIMPLE_SIGNING, DSSE_ENVELOPE, ANNOTATION_PREDICATE_TYPE, ANNOTATION_CREATED } from './media-types.js';

/** 'auto': write the tag scheme too when the registry has no referrers API (the default). */
export type TagSchemeMode = 'auto' | 'always' | 'never';

/**
 * Who signs: a key or a keyless session (signer + short-lived certificate), the transparency
 * log, and for keyless the rest of the certificate chain (cosign's chain annotation) and the
 * timestamp authorities each signature is timestamped by. One producer serves every image of a
 * command run, so a keyless run uses one certificate however many images it signs.
 */
export interface ImageProducer extends ProducerOptions {
  /** Certificates after the leaf (DER), for the `.sig`/`.att` chain annotation. */
  chain?: Buffer[];
  /** RFC 3161 timestamp authorities. */
  tsaUrls?: string[];
}

export interface Target {
  reference: ImageReference;
  descriptor: Descriptor;
}

export interface SignResult {
  digest: string;
  reference: string;
  referrer: PublishedReferrer;
  tag?: { tag: string; digest: string };
}

/**
 * The digests to sign: the image itself and, with `recursive` and an index, every manifest it
 * lists (cosign sign --recursive). `onTag` is told when a tag was resolved, so the CLI can warn.
 */
export async function resolveTargets(client: RegistryClient, image: ImageReference, opts: { recursive?: boolean; onTag?: (tag: string, digest: string) => void } = {}): Promise<Target[]> {
  const m = await client.getManifest(image);
  if (!image.digest && image.tag !== undefined) opts.onTag?.(image.tag, m.digest);
  else if (!image.digest) opts.onTag?.('latest', m.digest);
  const root: Target = { reference: withDigest(image, m.digest), descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length } };
  if (!opts.recursive) return [root];
  if (m.manifest.kind !== 'index') {
    throw new SigilError('USAGE', `--recursive needs an image index; ${repositoryName(image)}@${m.digest} is a single image manifest`, { hint: 'drop --recursive' });
  }
  return [root, ...m.manifest.manifests.map((d) => ({ reference: withDigest(image, d.digest), descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size } }))];
}

function subjectOf(t: Target, annotations?: Record<string, string>): Record<string, unknown> {
  const [alg, hex] = t.descriptor.digest.split(':') as [string, string];
  return { name: repositoryName(t.reference), digest: { [alg]: hex }, ...(annotations && Object.keys(annotations).length ? { annotations } : {}) };
}

/**
 * A DSSE bundle over an in-toto statement we wrote ourselves. attest-blob builds statements from
 * name+digest subjects only; cosign's image signature statement also carries the subject's
 * annotations, so the statement is assembled here and signed with attest-blob's building blocks.
 */
async function statementBundle(statement: Record<string, unknown>, producer: ImageProducer): Promise<ProducedBundle> {
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const sig = await signChecked(producer.signer, pae(INTOTO_PAYLOAD_TYPE, payload));
  const envelope: DsseEnvelope = { payloadType: INTOTO_PAYLOAD_TYPE, payload, signatures: [{ sig, keyid: '' }] };
  const tlogEntries = producer.tlog
    ? [tlogEntryFromJSON(await producer.tlog.upload('dsse', { envelope, publicKey: producer.signer.publicKey, ...(producer.certificate ? { certificate: producer.certificate } : {}) }))]
    : [];
  const produced = finish({ mediaType: BUNDLE_V03_MEDIA_TYPE, verificationMaterial: verificationMaterial(producer, tlogEntries), content: { $case: 'dsseEnvelope', dsseEnvelope: envelope } });
  return producer.tsaUrls?.length ? addTimestamps(produced, sig, producer.tsaUrls) : produced;
}

function bundleBytes(b: ProducedBundle): Buffer {
  return Buffer.from(JSON.stringify(b.json));
}

function wantsTag(mode: TagSchemeMode, referrer: PublishedReferrer): boolean {
  return mode === 'always' || (mode === 'auto' && referrer.via === 'tag-schema');
}

/** Signs one image digest: referrer bundle, then (per `tagScheme`) the cosign `.sig` layer. */
export async function signTarget(client: RegistryClient, t: Target, opts: { producer: ImageProducer; annotations?: Record<string, string>; tagScheme?: TagSchemeMode }): Promise<SignResult> {
  const statement = { _type: STATEMENT_V1, subject: [subjectOf(t, opts.annotations)], predicateType: COSIGN_SIGN_PREDICATE_TYPE, predicate: {} };
  const bundle = await statementBundle(statement, opts.producer);
  const referrer = await publishReferrer(client, t.reference, buildBundleReferrer(t.descriptor, bundleBytes(bundle), { content: 'dsse-envelope', predicateType: COSIGN_SIGN_PREDICATE_TYPE }));
  const result: SignResult = { digest: t.descriptor.digest, reference: `${repositoryName(t.reference)}@${t.descriptor.digest}`, referrer };
  if (wantsTag(opts.tagScheme ?? 'auto', referrer)) {
    const payload = buildSimpleSigningPayload(repositoryName(t.reference), t.descriptor.digest, opts.annotations);
    let signed = await signBlob(payload, opts.producer);
    if (opts.producer.tsaUrls?.length) signed = await addTimestamps(signed, signed.signature, opts.producer.tsaUrls);
    result.tag = await appendToTagScheme(client, t.reference, t.descriptor.digest, 'sig', [
      { mediaType: COSIGN_SIMPLE_SIGNING, data: payload, annotations: layerAnnotationsFromBundle(signed.bundle, 'sig', opts.producer.chain) },
    ]);
  }
  return result;
}

export interface AttestResultImage {
  digest: string;
  reference: string;
  referrer: PublishedReferrer;
  tag?: { tag: string; digest: string };
  statement: Record<string, unknown>;
}

/** Attests one image digest: a DSSE bundle referrer and (per `tagScheme`) a cosign `.att` layer. */
export async function attestTarget(
  client: RegistryClient,
  t: Target,
  opts: { producer: ImageProducer; predicateType: string; predicate: unknown; tagScheme?: TagSchemeMode },
): Promise<AttestResultImage> {
  if (opts.predicate === undefined) throw new SigilError('STATEMENT_MALFORMED', 'an attestation needs a predicate', { hint: 'pass --predicate FILE with a JSON document' });
  const statement = { _type: STATEMENT_V1, subject: [subjectOf(t)], predicateType: opts.predicateType, predicate: opts.predicate };
  const bundle = await statementBundle(statement, opts.producer);
  const referrer = await publishReferrer(client, t.reference, buildBundleReferrer(t.descriptor, bundleBytes(bundle), { content: 'dsse-envelope', predicateType: opts.predicateType }));
  const result: AttestResultImage = { digest: t.descriptor.digest, reference: `${repositoryName(t.reference)}@${t.descriptor.digest}`, referrer, statement };
  if (wantsTag(opts.tagScheme ?? 'auto', referrer)) {
    const env = (bundle.bundle as ValidBundle).content;
    if (env.$case !== 'dsseEnvelope') throw new SigilError('INTERNAL', 'attestation bundle without an envelope');
    result.tag = await appendToTagScheme(client, t.reference, t.descriptor.digest, 'att', [
      {
        mediaType: DSSE_ENVELOPE,
        data: Buffer.from(JSON.stringify(envelopeToJSON(env.dsseEnvelope))),
        annotations: { ...layerAnnotationsFromBundle(bundle.bundle, 'att', opts.producer.chain), [ANNOTATION_PREDICATE_TYPE]: opts.predicateType },
      },
    ]);
  }
  return result;
}

export interface AttachSbomResult {
  digest: string;
  reference: string;
  referrer: PublishedReferrer;
  tag?: { tag: string; digest: string };
  attestation?: AttestResultImage;
}

/**
 * Attaches an SBOM document as a referrer (artifactType = the SBOM's media type) and, with the
 * tag scheme, as cosign's `.sbom` tag. With a signer it is also attested (predicate = the SBOM),
 * so a consumer can tell who vouches for it: an unsigned SBOM is only a claim by whoever can push.
 */
export async function attachSbom(
  client: RegistryClient,
  t: Target,
  opts: { sbom: Buffer; mediaType: string; predicateType: string; producer?: ImageProducer; tagScheme?: TagSchemeMode },
): Promise<AttachSbomResult> {
  const created = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const referrer = await publishReferrer(client, t.reference, buildArtifactReferrer(t.descriptor, opts.mediaType, { mediaType: opts.mediaType, data: opts.sbom }, { [ANNOTATION_CREATED]: created }));
  const result: AttachSbomResult = { digest: t.descriptor.digest, reference: `${repositoryName(t.reference)}@${t.descriptor.digest}`, referrer };
  if (wantsTag(opts.tagScheme ?? 'auto', referrer)) {
    result.tag = await appendToTagScheme(client, t.reference, t.descriptor.digest, 'sbom', [{ mediaType: opts.mediaType, data: opts.sbom, annotations: {} }]);
  }
  if (opts.producer) {
    let predicate: unknown;
    try {
      predicate = JSON.parse(opts.sbom.toString('utf8'));
    } catch {
      throw new SigilError('INPUT_UNREADABLE', 'only JSON SBOMs can be attested (the predicate of an in-toto statement is JSON)', { hint: 'attach an SPDX JSON or CycloneDX JSON document' });
    }
    result.attestation = await attestTarget(client, t, { producer: opts.producer, predicateType: opts.predicateType, predicate, tagScheme: opts.tagScheme ?? 'auto' });
  }
  return result;
}
