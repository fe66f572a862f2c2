/**
 * Copies an image, byte for byte, with everything attached to it: for an index every platform
 * manifest, then the referrers (signatures, attestations, SBOMs; and what is attached to those)
 * and cosign's `.sig`/`.att`/`.sbom` tags. Manifests are copied as their exact bytes, so digests
 * (and therefore every signature over them) stay valid at the destination.
 *
 * Order keeps the destination consistent at every instant: blobs before the manifest naming
 * them, platform manifests before their index, the image before its attachments, a referrer
 * before the referrers tag index that lists it. Within one registry blobs are mounted (no bytes
 * move); across registries they are streamed in chunks and re-checked against their digest.
 */
import { SigilError, isSigilError } from '../core/errors.js';
import type { FetchedManifest, RegistryClient, RepositoryRef } from './client.js';
import type { Descriptor } from './manifest.js';
import { discoverAttachments } from './attachments.js';
import type { ImageReference } from './reference.js';

export interface CopyOptions {
  /** Copy signatures, attestations and SBOMs too (default true). */
  attachments?: boolean;
  /** How deep to follow attachments of attachments (a signature on an SBOM); default 2. */
  depth?: number;
  onProgress?: (message: string) => void;
}

export interface CopyResult {
  digest: string;
  manifests: number;
  blobs: { uploaded: number; mounted: number; existed: number };
  attachments: { referrers: number; tags: string[] };
}

const SMALL_BLOB = 4 << 20;

class Copier {
  readonly result: CopyResult;
  private readonly done = new Set<string>();

  constructor(
    private readonly client: RegistryClient,
    private readonly src: RepositoryRef,
    private readonly dst: RepositoryRef,
    private readonly opts: CopyOptions,
    digest: string,
  ) {
    this.result = { digest, manifests: 0, blobs: { uploaded: 0, mounted: 0, existed: 0 }, attachments: { referrers: 0, tags: [] } };
  }

  private get sameRegistry(): boolean {
    return this.src.registry === this.dst.registry;
  }

  async blob(d: Descriptor): Promise<void> {
    if (this.done.has(d.digest)) return;
    this.done.add(d.digest);
    const mountFrom = this.sameRegistry ? this.src.repository : undefined;
    let how: 'existed' | 'mounted' | 'uploaded';
    if (d.size <= SMALL_BLOB && !mountFrom) {
      if (await this.client.hasBlob(this.dst, d.digest)) how = 'existed';
      else how = (await this.client.putBlob(this.dst, await this.client.getBlob(this.src, d.digest, { size: d.size }), { digest: d.digest, skipExistsCheck: true })).how;
    } else {
      how = (await this.client.putBlobStream(this.dst, () => this.client.blobStream(this.src, d.digest, { size: d.size }), d.digest, mountFrom ? { mountFrom } : {})).how;
    }
    this.result.blobs[how]++;
  }

  /** Copies what `m` names (recursively for an index), not `m` itself. */
  async contents(m: FetchedManifest): Promise<void> {
    if (m.manifest.kind === 'manifest') {
      // Layers with `urls` are non-distributable (image-spec descriptor.md): the registry may not have them.
      const blobs = [m.manifest.config, ...m.manifest.layers];
      for (const d of blobs) {
        if (d.urls?.length && !(await this.client.hasBlob(this.src, d.digest))) continue;
        await this.blob(d);
      }
      return;
    }
    for (const d of m.manifest.manifests) {
      const child = await this.client.getManifest({ ...this.src, digest: d.digest });
      await this.contents(child);
      await this.client.putManifest(this.dst, child.digest, child.bytes, child.mediaType);
      this.result.manifests++;
    }
  }

  async attachmentsOf(digest: string, depth: number): Promise<void> {
    if (depth <= 0) return;
    const found = await discoverAttachments(this.client, this.src, digest);
    for (const r of found.referrers) {
      const m = await this.client.getManifest({ ...this.src, digest: r.descriptor.digest });
      if (m.manifest.subject?.digest !== digest) {
        this.opts.onProgress?.(`skipping referrer ${r.descriptor.digest}: its subject is not ${digest}`);
        continue;
      }
      await this.contents(m);
      await this.client.putReferrer(this.dst, m.bytes, m.mediaType);
      this.result.manifests++;
      this.result.attachments.referrers++;
      this.opts.onProgress?.(`copied referrer ${r.descriptor.digest} (${r.descriptor.artifactType ?? 'no artifactType'})`);
      await this.attachmentsOf(r.descriptor.digest, depth - 1);
    }
    for (const t of found.tags) {
      const m = await this.client.getManifest({ ...this.src, tag: t.tag });
      await this.contents(m);
      await this.client.putManifest(this.dst, t.tag, m.bytes, m.mediaType);
      this.result.manifests++;
      this.result.attachments.tags.push(t.tag);
      this.opts.onProgress?.(`copied ${t.tag}`);
    }
  }
}

export async function copyImage(client: RegistryClient, src: ImageReference, dst: ImageReference, opts: CopyOptions = {}): Promise<CopyResult> {
  const root = await client.getManifest(src);
  if (dst.digest && dst.digest !== root.digest) {
    throw new SigilError('DIGEST_MISMATCH', `destination names digest ${dst.digest} but the source is ${root.digest}`, { hint: 'drop the digest from the destination' });
  }
  const srcRepo = { registry: src.registry, repository: src.repository };
  const dstRepo = { registry: dst.registry, repository: dst.repository };
  const copier = new Copier(client, srcRepo, dstRepo, opts, root.digest);
  await copier.contents(root);
  // Push by digest first when the destination has no tag, else by tag (same bytes, same digest).
  const tag = dst.tag ?? (dst.digest ? undefined : src.tag);
  await client.putManifest(dstRepo, tag ?? root.digest, root.bytes, root.mediaType);
  copier.result.manifests++;
  opts.onProgress?.(`copied ${root.mediaType} ${root.digest}`);
  if (opts.attachments !== false) {
    const digests = [root.digest, ...(root.manifest.kind === 'index' ? root.manifest.manifests.map((d) => d.digest) : [])];
    for (const d of digests) {
      try {
        await copier.attachmentsOf(d, opts.depth ?? 2);
      } catch (e) {
        if (isSigilError(e)) throw new SigilError(e.code, `image ${root.digest} was copied, but copying what is attached to ${d} failed: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}), cause: e });
        throw e;
      }
    }
  }
  return copier.result;
}

