/**
 * cosign's tag scheme: signatures, attestations and SBOMs of image `sha256:<hex>` live in the same
 * repository under the tags `sha256-<hex>.sig`, `.att` and `.sbom`, each an OCI image manifest
 * whose layers are the signed payloads, with signature material in layer annotations (cosign
 * pkg/oci/static, pkg/oci/remote/remote.go `normalize`). Adding a signature appends a layer to
 * the existing manifest, as cosign does, so earlier signatures stay.
 */
import { SigilError } from '../core/errors.js';
import { checkDigest } from './reference.js';
import { digestOf } from './client.js';
import type { Descriptor, ImageManifest } from './manifest.js';
import { OCI_CONFIG, OCI_MANIFEST } from './media-types.js';

export type TagSuffix = 'sig' | 'att' | 'sbom';

/** `sha256-<hex>.<suffix>` for image digest `sha256:<hex>`. */
export function attachmentTag(digest: string, suffix: TagSuffix): string {
  checkDigest(digest);
  return `${digest.replace(':', '-')}.${suffix}`;
}

export interface NewLayer {
  mediaType: string;
  data: Buffer;
  annotations: Record<string, string>;
}

export interface TagSchemeManifest {
  manifest: Buffer;
  config: Buffer;
  /** Blobs to upload before the manifest: the new layers' data. Existing layers are already stored. */
  newBlobs: Buffer[];
  layers: Descriptor[];
}

/**
 * A `.sig`/`.att`/`.sbom` manifest holding `existing` layers plus `added` ones. A layer equal to
 * an existing one (same digest and annotations) is not added twice.
 */
export function buildTagSchemeManifest(existing: readonly Descriptor[], added: readonly NewLayer[]): TagSchemeManifest {
  const layers: Descriptor[] = existing.map((d) => ({ ...d }));
  const newBlobs: Buffer[] = [];
  for (const l of added) {
    const d: Descriptor = { mediaType: l.mediaType, digest: digestOf(l.data), size: l.data.length, annotations: { ...l.annotations } };
    const dup = layers.some((x) => x.digest === d.digest && x.mediaType === d.mediaType && sameAnnotations(x.annotations, d.annotations));
    if (dup) continue;
    layers.push(d);
    newBlobs.push(l.data);
  }
  // The config lists the layers as diff_ids, with the zero times cosign writes (reproducible config).
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, size: config.length, digest: digestOf(config) },
      layers,
    }),
  );
  return { manifest, config, newBlobs, layers };
}

function sameAnnotations(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {}).sort();
  const kb = Object.keys(b ?? {}).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a![k] === b![k]);
}

/** The layers of a fetched `.sig`/`.att`/`.sbom` manifest (an image manifest is required). */
export function tagSchemeLayers(m: { manifest: { kind: string } }, tag: string): Descriptor[] {
  if (m.manifest.kind !== 'manifest') {
    throw new SigilError('MANIFEST_MALFORMED', `${tag} is an index, not the image manifest cosign's tag scheme stores`);
  }
  return (m.manifest as ImageManifest).layers;
}
