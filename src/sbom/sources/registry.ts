/**
 * An image in a registry, pulled through the OCI client (src/oci): manifests through the
 * manifests endpoint (digest-checked by the client), configs as blobs, layers streamed once each
 * straight into the view. Nothing is written to disk.
 */
import { RegistryClient, type RegistryClientOptions } from '../../oci/client.js';
import { formatReference, parseReference, withDigest, type ImageReference } from '../../oci/reference.js';
import { isManifestMediaType } from '../../oci/media-types.js';
import type { Descriptor } from '../../oci/manifest.js';
import { imageTarget, resolveImages, type BlobStore } from './image.js';
import type { ScanTarget } from './source.js';

const MAX_METADATA_BLOB = 16 << 20;

function registryStore(client: RegistryClient, ref: ImageReference): BlobStore {
  const repo = { registry: ref.registry, repository: ref.repository };
  return {
    async read(d: Descriptor): Promise<Buffer> {
      if (isManifestMediaType(d.mediaType)) return (await client.getManifest(withDigest(ref, d.digest))).bytes;
      return client.getBlob(repo, d.digest, { size: d.size, maxBytes: MAX_METADATA_BLOB });
    },
    stream(d: Descriptor): AsyncIterable<Buffer> {
      return (async function* () {
        const s = await client.blobStream(repo, d.digest, { size: d.size });
        for await (const c of s) yield c as Buffer;
      })();
    },
  };
}

export interface RegistrySource {
  targets: ScanTarget[];
  close(): void;
}

export async function registryTargets(reference: string, platform: string, options: RegistryClientOptions = {}): Promise<RegistrySource> {
  const ref = parseReference(reference);
  const client = new RegistryClient(options);
  try {
    const top = await client.getManifest(ref);
    const store = registryStore(client, ref);
    const name = formatReference(ref);
    const images = await resolveImages(store, { bytes: top.bytes, mediaType: top.mediaType, digest: top.digest }, platform, name);
    const targets = images.map((img) =>
      imageTarget(store, img, { name, location: name, repository: `${ref.registry}/${ref.repository}`, ...(ref.tag ? { tag: ref.tag } : {}) }),
    );
    return { targets, close: () => client.close() };
  } catch (e) {
    client.close();
    throw e;
  }
}
