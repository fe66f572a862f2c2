/**
 * Container images, whatever they come from (an OCI layout, a `docker save` archive, a registry):
 * pick the image(s) of a multi-arch index by platform, read the config, and stream each layer once
 * into the view, in order, checking each layer against its descriptor digest and the config's
 * diff id so a tampered or mismatched layer fails the scan instead of producing a wrong SBOM.
 */
import { SigilError } from '../../core/errors.js';
import { isObject, parseJson } from '../../core/json.js';
import { parseManifest, type Descriptor, type ImageManifest } from '../../oci/manifest.js';
import type { ViewBuilder } from '../view.js';
import { walkTarStream } from './layer-stream.js';
import { formatPlatform, parsePlatform, platformMatches, type Platform } from './platform.js';
import type { ProgressSink, ScanTarget, SourceInfo } from './source.js';
import { purl } from '../purl.js';

/** Where the blobs of an image come from. */
export interface BlobStore {
  /** A small blob (manifest, config) whole, digest-checked. */
  read(desc: Descriptor): Promise<Buffer>;
  /** A layer as a byte stream (its digest is checked by the reader). */
  stream(desc: Descriptor): AsyncIterable<Buffer>;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  diffIds: string[];
}

export interface ResolvedImage {
  manifestDigest: string;
  manifest: ImageManifest;
  config: ImageConfig;
  configDigest: string;
  platform?: Platform;
}

const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);
const MAX_INDEX_DEPTH = 4;

export function parseImageConfig(bytes: Buffer, what: string): ImageConfig {
  const doc = parseJson(bytes, what, 'MANIFEST_MALFORMED');
  if (!isObject(doc)) throw new SigilError('MANIFEST_MALFORMED', `${what} must be a JSON object`);
  const rootfs = doc.rootfs;
  const diffIds = isObject(rootfs) && Array.isArray(rootfs.diff_ids) ? rootfs.diff_ids : [];
  if (!diffIds.every((d): d is string => typeof d === 'string')) throw new SigilError('MANIFEST_MALFORMED', `${what}: rootfs.diff_ids must be strings`);
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    ...(str(doc.architecture) ? { architecture: str(doc.architecture) } : {}),
    ...(str(doc.os) ? { os: str(doc.os) } : {}),
    ...(str(doc.variant) ? { variant: str(doc.variant) } : {}),
    diffIds,
  };
}

/** Docker buildx stores provenance/SBOM attestations as index entries with platform unknown/unknown. */
function isAttestationEntry(d: Descriptor): boolean {
  return d.platform?.os === 'unknown' || d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
}

/**
 * The image manifests a top-level manifest stands for: itself, or the entries of an index that
 * match `platform` ('all' for every platform).
 */
export async function resolveImages(
  store: BlobStore,
  top: { bytes: Buffer; mediaType?: string; digest: string },
  platform: string,
  label: string,
  depth = 0,
): Promise<ResolvedImage[]> {
  const m = parseManifest(top.bytes, top.mediaType, `manifest ${top.digest} of ${label}`);
  if (m.kind === 'index') {
    if (depth >= MAX_INDEX_DEPTH) throw new SigilError('MANIFEST_MALFORMED', `${label}: image indexes nested more than ${MAX_INDEX_DEPTH} deep`);
    const entries = m.manifests.filter((d) => !isAttestationEntry(d));
    let chosen: Descriptor[];
    if (platform === 'all') chosen = entries;
    else {
      const want = parsePlatform(platform);
      if (!want) throw new SigilError('USAGE', `invalid --platform "${platform}"`, { hint: 'use os/arch[/variant], e.g. linux/amd64, or "all"' });
      chosen = entries.filter((d) => platformMatches(want, d.platform));
      // An index entry without a platform (nested index) may still contain the wanted platform.
      if (chosen.length === 0) chosen = entries.filter((d) => !d.platform);
      if (chosen.length > 1) chosen = chosen.slice(0, 1);
      if (chosen.length === 0) {
        const have = entries.map((d) => (d.platform ? formatPlatform(d.platform) : '?')).join(', ');
        throw new SigilError('NOT_FOUND', `${label} has no image for platform ${platform} (it has: ${have || 'none'})`, {
          hint: 'pick one with --platform, or --platform all',
        });
      }
    }
    const out: ResolvedImage[] = [];
    for (const d of chosen) {
      const bytes = await store.read(d);
      for (const r of await resolveImages(store, { bytes, mediaType: d.mediaType, digest: d.digest }, platform, label, depth + 1)) {
        out.push(d.platform && !r.platform ? { ...r, platform: d.platform } : r);
      }
    }
    return out;
  }
  if (!IMAGE_CONFIG_TYPES.has(m.config.mediaType)) {
    throw new SigilError('MEDIA_TYPE_UNSUPPORTED', `${label} is not a container image (config media type ${m.config.mediaType})`, {
      hint: 'sigil sbom reads container images; artifacts such as signatures or SBOMs have no filesystem',
    });
  }
  const config = parseImageConfig(await store.read(m.config), `config ${m.config.digest} of ${label}`);
  const platformOf: Platform | undefined = config.os && config.architecture ? { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) } : undefined;
  return [{ manifestDigest: top.digest, manifest: m, config, configDigest: m.config.digest, ...(platformOf ? { platform: platformOf } : {}) }];
}

function isLayerType(mt: string): boolean {
  return /^application\/vnd\.(oci\.image\.layer\.(nondistributable\.)?v1\.tar(\+gzip|\+zstd)?|docker\.image\.rootfs\.(foreign\.)?diff\.tar(\.gzip)?)$/.test(mt);
}

export interface ImageNaming {
  /** Display name (reference or path). */
  name: string;
  location: string;
  /** Repository for the purl, e.g. `127.0.0.1:5000/test/debian`. */
  repository?: string;
  tag?: string;
}

/** One image as a scan target: every layer streamed in order into the view. */
export function imageTarget(store: BlobStore, img: ResolvedImage, naming: ImageNaming): ScanTarget {
  const arch = img.platform ? `${img.platform.architecture}${img.platform.variant ? `/${img.platform.variant}` : ''}` : undefined;
  const repoName = (naming.repository ?? naming.name.replace(/:[^/:]*$/, '')).split('/').pop()!.toLowerCase().replace(/[^a-z0-9._-]/g, '-') || 'image';
  const info: SourceInfo = {
    kind: 'container',
    name: naming.name,
    version: img.manifestDigest,
    purl: purl('oci', undefined, repoName, img.manifestDigest, {
      arch,
      repository_url: naming.repository,
      tag: naming.tag,
    }),
    checksums: img.manifestDigest.startsWith('sha256:') ? [{ algorithm: 'SHA256', value: img.manifestDigest.slice(7) }] : [],
    location: naming.location,
    properties: {
      'sigil:config-digest': img.configDigest,
      ...(img.platform ? { 'sigil:platform': formatPlatform(img.platform) } : {}),
    },
  };
  return {
    info,
    async walk(view: ViewBuilder, progress: ProgressSink): Promise<void> {
      const layers = img.manifest.layers;
      if (img.config.diffIds.length && img.config.diffIds.length !== layers.length) {
        throw new SigilError('MANIFEST_MALFORMED', `${naming.name}: the config lists ${img.config.diffIds.length} diff ids for ${layers.length} layers`);
      }
      progress.expect(
        layers.reduce((n, l) => n + l.size, 0),
        'bytes',
      );
      for (let i = 0; i < layers.length; i++) {
        const d = layers[i]!;
        const label = `${naming.name} layer ${i + 1}/${layers.length} (${d.digest.slice(0, 19)})`;
        if (!isLayerType(d.mediaType)) {
          throw new SigilError('MEDIA_TYPE_UNSUPPORTED', `${label} has media type ${d.mediaType}, which is not a filesystem layer`);
        }
        progress.phase(`layer ${i + 1}/${layers.length}`);
        view.beginLayer(i, `layer${i + 1}`, d.digest);
        const alg = d.digest.startsWith('sha512:') ? 'sha512' : 'sha256';
        const got = await walkTarStream(store.stream(d), view, label, progress, alg);
        if (got.stored !== d.digest) {
          throw new SigilError('DIGEST_MISMATCH', `${label}: content hashes to ${got.stored}, the manifest says ${d.digest}`, {
            hint: 'the layer was altered or damaged',
          });
        }
        const want = img.config.diffIds[i];
        if (want && want !== got.diffId) {
          throw new SigilError('DIGEST_MISMATCH', `${label}: uncompressed content hashes to ${got.diffId}, the config says ${want}`, {
            hint: 'the layer does not belong to this image config',
          });
        }
      }
    },
  };
}
