/**
 * Media types sigil reads and writes in registries. Manifest types are the four that the OCI
 * distribution spec and Docker registries serve; everything else is an artifact or layer type.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export const MANIFEST_MEDIA_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST] as const;
export type ManifestMediaType = (typeof MANIFEST_MEDIA_TYPES)[number];

/**
 * Sent on every manifest GET/HEAD. Registries hide OCI manifests from clients that do not name the
 * OCI types (distribution 2.8 answers 404 MANIFEST_UNKNOWN without them, ../shared/peers §1).
 */
export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

export function isManifestMediaType(s: string): s is ManifestMediaType {
  return (MANIFEST_MEDIA_TYPES as readonly string[]).includes(s);
}

export function isIndexMediaType(s: string): boolean {
  return s === OCI_INDEX || s === DOCKER_MANIFEST_LIST;
}

/** The OCI 1.1 empty descriptor: config of artifact manifests (image-spec manifest.md "Guidance for an Empty Descriptor"). */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_EMPTY_DATA = Buffer.from('{}');
export const OCI_EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

/** Sigstore bundle v0.3 media type, used as artifactType and layer type of cosign v3 / sigstore-js referrers. */
export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Older bundle media types found as layer types of referrers written by earlier tools. */
export const SIGSTORE_BUNDLE_PREFIX = 'application/vnd.dev.sigstore.bundle';

/** cosign's simple-signing payload layer (the `.sig` tag scheme). */
export const COSIGN_SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** cosign's attestation layer (the `.att` tag scheme): a DSSE envelope. */
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** SBOM layer types (cosign attach sbom uses these for the `.sbom` tag scheme). */
export const SPDX_JSON = 'text/spdx+json';
export const CYCLONEDX_JSON = 'application/vnd.cyclonedx+json';

/** Annotations cosign puts on the signature layers of the `.sig`/`.att` tag scheme. */
export const ANNOTATION_SIGNATURE = 'dev.cosignproject.cosign/signature';
export const ANNOTATION_CERTIFICATE = 'dev.sigstore.cosign/certificate';
export const ANNOTATION_CHAIN = 'dev.sigstore.cosign/chain';
export const ANNOTATION_BUNDLE = 'dev.sigstore.cosign/bundle';
export const ANNOTATION_RFC3161 = 'dev.sigstore.cosign/rfc3161timestamp';
export const ANNOTATION_PREDICATE_TYPE = 'predicateType';
/** sigil's own layer annotation: the complete v0.3 bundle of the layer's signature (see legacy-bundle.ts). */
export const ANNOTATION_SIGIL_BUNDLE = 'dev.sigil/bundle';

/** Annotations cosign v3 puts on bundle referrer manifests. */
export const ANNOTATION_CREATED = 'org.opencontainers.image.created';
export const ANNOTATION_BUNDLE_CONTENT = 'dev.sigstore.bundle.content';
export const ANNOTATION_BUNDLE_PREDICATE_TYPE = 'dev.sigstore.bundle.predicateType';

/** Predicate type of cosign v3's image signature statement (pkg/types/predicate.go). */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';
