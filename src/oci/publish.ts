/**
 * Publishing attachments so that nothing is ever visible half-written: every blob an artifact
 * names is uploaded (and confirmed) before the manifest that names it, and a referrers tag index
 * is updated only after the referrer manifest itself is stored. A failure anywhere leaves at most
 * unreferenced blobs, which registries garbage-collect; never a manifest pointing at nothing.
 */
import type { RegistryClient, RepositoryRef } from './client.js';
import type { Descriptor } from './manifest.js';
import { OCI_EMPTY_DATA, OCI_MANIFEST } from './media-types.js';
import type { ReferrerArtifact } from './bundle-referrer.js';
import { attachmentTag, buildTagSchemeManifest, tagSchemeLayers, type NewLayer, type TagSuffix } from './tag-scheme.js';
import { isSigilError } from '../core/errors.js';

export interface PublishedReferrer {
  digest: string;
  descriptor: Descriptor;
  /** How the registry indexes it: natively (referrers API) or through the referrers tag we updated. */
  via: 'api' | 'tag-schema';
}

/** Uploads the blobs, then the referrer manifest, then (without the API) the referrers tag index. */
export async function publishReferrer(client: RegistryClient, repo: RepositoryRef, artifact: ReferrerArtifact): Promise<PublishedReferrer> {
  // Sequential on purpose: a few small blobs, and a failed upload must stop before the manifest.
  // The shared empty config is checked first (and remembered by the client); the artifact layer is
  // almost always new (a bundle holds a fresh signature), so its HEAD would be a wasted round trip
  // and a repeated small upload costs less than asking.
  for (const blob of artifact.blobs) await client.putBlob(repo, blob, { skipExistsCheck: !OCI_EMPTY_DATA.equals(blob) });
  const r = await client.putReferrer(repo, artifact.manifest, OCI_MANIFEST);
  return { digest: r.digest, descriptor: r.descriptor, via: r.subjectProcessed ? 'api' : 'tag-schema' };
}

/** Appends layers to the image's `.sig`/`.att`/`.sbom` manifest (creating it), blobs first. */
export async function appendToTagScheme(client: RegistryClient, repo: RepositoryRef, imageDigest: string, suffix: TagSuffix, layers: NewLayer[]): Promise<{ tag: string; digest: string }> {
  const tag = attachmentTag(imageDigest, suffix);
  let existing: Descriptor[] = [];
  try {
    existing = tagSchemeLayers(await client.getManifest({ registry: repo.registry, repository: repo.repository, tag }), tag);
  } catch (e) {
    if (!(isSigilError(e) && e.code === 'NOT_FOUND')) throw e;
  }
  const built = buildTagSchemeManifest(existing, layers);
  for (const blob of built.newBlobs) await client.putBlob(repo, blob);
  await client.putBlob(repo, built.config);
  const put = await client.putManifest(repo, tag, built.manifest, OCI_MANIFEST);
  return { tag, digest: put.digest };
}
