/**
 * An OCI image layout directory (image-spec image-layout.md: `oci-layout`, `index.json`,
 * `blobs/<alg>/<hex>`), as umoci and `skopeo copy … oci:DIR` write it. Blob paths come from
 * validated digests only, so a crafted index cannot point outside `blobs/`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { SigilError } from '../../core/errors.js';
import { isObject, parseJson } from '../../core/json.js';
import { digest as hashBytes } from '../../core/digest.js';
import { parseManifest, type Descriptor } from '../../oci/manifest.js';
import { OCI_INDEX } from '../../oci/media-types.js';
import { fileChunks } from './layer-stream.js';
import { imageTarget, resolveImages, type BlobStore } from './image.js';
import type { ScanTarget } from './source.js';

const MAX_METADATA_BLOB = 16 << 20;
const REF_NAME = 'org.opencontainers.image.ref.name';

export { isOciLayout } from './oci-layout-marker.js';

function blobPath(dir: string, digest: string): string {
  const [alg, hex] = digest.split(':') as [string, string];
  return join(dir, 'blobs', alg, hex);
}

export function layoutStore(dir: string): BlobStore {
  return {
    async read(desc: Descriptor): Promise<Buffer> {
      if (desc.size > MAX_METADATA_BLOB) throw new SigilError('MANIFEST_MALFORMED', `${dir}: blob ${desc.digest} of ${desc.size} bytes is too large for a manifest or config`);
      const p = blobPath(dir, desc.digest);
      let data: Buffer;
      try {
        data = readFileSync(p);
      } catch (e) {
        throw new SigilError('INPUT_UNREADABLE', `${dir}: blob ${desc.digest} is missing or unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
          hint: 'the OCI layout is incomplete',
        });
      }
      const alg = desc.digest.startsWith('sha512:') ? 'sha512' : 'sha256';
      const got = `${alg}:${hashBytes(alg, data).toString('hex')}`;
      if (got !== desc.digest) throw new SigilError('DIGEST_MISMATCH', `${dir}: blob ${desc.digest} hashes to ${got}`, { hint: 'the OCI layout was altered or damaged' });
      return data;
    },
    stream(desc: Descriptor): AsyncIterable<Buffer> {
      const p = blobPath(dir, desc.digest);
      if (!existsSync(p)) {
        throw new SigilError('INPUT_UNREADABLE', `${dir}: layer blob ${desc.digest} is missing`, { hint: 'the OCI layout is incomplete' });
      }
      if (statSync(p).size !== desc.size) {
        throw new SigilError('ARCHIVE_MALFORMED', `${dir}: layer blob ${desc.digest} has ${statSync(p).size} bytes, the manifest says ${desc.size}`, {
          hint: 'the layer is truncated or altered',
        });
      }
      return fileChunks(p);
    },
  };
}

/** Targets of a layout: the image named `tag`, or the only image, or every platform of its index. */
export async function ociLayoutTargets(dir: string, tag: string | undefined, platform: string): Promise<ScanTarget[]> {
  const layoutFile = parseJson(readFileSync(join(dir, 'oci-layout')), `${dir}/oci-layout`, 'MANIFEST_MALFORMED');
  if (!isObject(layoutFile) || typeof layoutFile.imageLayoutVersion !== 'string') {
    throw new SigilError('MANIFEST_MALFORMED', `${dir}/oci-layout has no imageLayoutVersion`);
  }
  const indexBytes = readFileSync(join(dir, 'index.json'));
  const index = parseManifest(indexBytes, OCI_INDEX, `${dir}/index.json`);
  if (index.kind !== 'index') throw new SigilError('MANIFEST_MALFORMED', `${dir}/index.json is not an image index`);
  const store = layoutStore(dir);
  const name = basename(resolve(dir));
  let entries: Descriptor[] = index.manifests;
  if (tag !== undefined) {
    entries = entries.filter((d) => d.annotations?.[REF_NAME] === tag);
    if (entries.length === 0) {
      const tags = index.manifests.map((d) => d.annotations?.[REF_NAME]).filter(Boolean);
      throw new SigilError('NOT_FOUND', `${dir} has no image named "${tag}"`, { hint: `it has: ${tags.join(', ') || 'no named images'}` });
    }
  }
  let images;
  if (entries.length === 1) {
    const d = entries[0]!;
    images = await resolveImages(store, { bytes: await store.read(d), mediaType: d.mediaType, digest: d.digest }, platform, dir);
  } else if (entries.every((d) => d.platform)) {
    // index.json itself works as a multi-platform index.
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries }));
    images = await resolveImages(store, { bytes, mediaType: OCI_INDEX, digest: 'index.json' }, platform, dir);
  } else {
    const tags = entries.map((d) => d.annotations?.[REF_NAME] ?? d.digest);
    throw new SigilError('USAGE', `${dir} holds ${entries.length} images (${tags.join(', ')}); name one`, { hint: `e.g. sigil sbom oci-dir:${dir}:${tags[0]}` });
  }
  const tagName = tag ?? entries[0]?.annotations?.[REF_NAME];
  return images.map((img) =>
    imageTarget(store, img, { name: tagName ? `${name}:${tagName}` : name, location: dir, ...(tagName ? { tag: tagName } : {}) }),
  );
}
