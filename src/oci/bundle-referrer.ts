/**
 * A Sigstore bundle stored as an OCI 1.1 referrer, the way cosign v3 and sigstore-js `attach`
 * store it (cosign pkg/oci/remote/write.go WriteAttestationNewBundleFormat): an image manifest
 * with artifactType `application/vnd.dev.sigstore.bundle.v0.3+json`, the empty config, one layer
 * holding the bundle JSON, `subject` = the image, and annotations saying what the bundle holds.
 */
import { digestOf } from './client.js';
import type { Descriptor } from './manifest.js';
import {
  ANNOTATION_BUNDLE_CONTENT,
  ANNOTATION_BUNDLE_PREDICATE_TYPE,
  ANNOTATION_CREATED,
  OCI_EMPTY,
  OCI_EMPTY_DATA,
  OCI_EMPTY_DIGEST,
  OCI_MANIFEST,
  SIGSTORE_BUNDLE_V03,
} from './media-types.js';

export interface ReferrerArtifact {
  manifest: Buffer;
  /** Blobs to upload before the manifest (empty config first). */
  blobs: Buffer[];
}

export interface BundleReferrerOptions {
  /** 'dsse-envelope' for attestations and cosign v3 signatures, 'message-signature' otherwise. */
  content: 'dsse-envelope' | 'message-signature';
  predicateType?: string;
  created?: Date;
  annotations?: Record<string, string>;
}

/** The referrer manifest and blobs for `bundleJson` about `subject`. */
export function buildBundleReferrer(subject: Descriptor, bundleJson: Buffer, opts: BundleReferrerOptions): ReferrerArtifact {
  return buildArtifactReferrer(subject, SIGSTORE_BUNDLE_V03, { mediaType: SIGSTORE_BUNDLE_V03, data: bundleJson }, {
    [ANNOTATION_CREATED]: (opts.created ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    [ANNOTATION_BUNDLE_CONTENT]: opts.content,
    ...(opts.predicateType ? { [ANNOTATION_BUNDLE_PREDICATE_TYPE]: opts.predicateType } : {}),
    ...(opts.annotations ?? {}),
  });
}

/** Any artifact (an SBOM, a bundle) as a referrer of `subject`: empty config, one layer. */
export function buildArtifactReferrer(subject: Descriptor, artifactType: string, layer: { mediaType: string; data: Buffer }, annotations: Record<string, string>): ReferrerArtifact {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: OCI_EMPTY, digest: OCI_EMPTY_DIGEST, size: OCI_EMPTY_DATA.length },
      layers: [{ mediaType: layer.mediaType, digest: digestOf(layer.data), size: layer.data.length }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    }),
  );
  return { manifest, blobs: [OCI_EMPTY_DATA, layer.data] };
}
