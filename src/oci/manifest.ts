/**
 * Parsing of the four manifest kinds a registry serves (OCI image manifest and index, Docker
 * schema 2 manifest and manifest list) into one typed shape. Manifests come from registries we do
 * not trust, so every field is checked and the bytes stay authoritative: we never re-serialise a
 * manifest we did not build, because its digest is over the exact bytes.
 */
import { SigilError } from '../core/errors.js';
import { isObject, parseJson } from '../core/json.js';
import { checkDigest } from './reference.js';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  OCI_MANIFEST,
  isIndexMediaType,
  isManifestMediaType,
  type ManifestMediaType,
} from './media-types.js';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

export interface ImageManifest {
  kind: 'manifest';
  schemaVersion: 2;
  mediaType: ManifestMediaType;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  kind: 'index';
  schemaVersion: 2;
  mediaType: ManifestMediaType;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type Manifest = ImageManifest | ImageIndex;

function bad(what: string, why: string): never {
  throw new SigilError('MANIFEST_MALFORMED', `${what}: ${why}`, { hint: 'the registry returned a manifest that does not follow the OCI image spec' });
}

function annotations(v: unknown, path: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) bad(path, 'annotations must be an object of strings');
  for (const [k, val] of Object.entries(v)) if (typeof val !== 'string') bad(path, `annotation '${k}' must be a string`);
  return v as Record<string, string>;
}

export function parseDescriptor(v: unknown, path: string): Descriptor {
  if (!isObject(v)) bad(path, 'must be an object');
  const { mediaType, digest, size, artifactType, platform, urls } = v;
  if (typeof mediaType !== 'string' || mediaType.length === 0) bad(path, 'mediaType must be a non-empty string');
  if (typeof digest !== 'string') bad(path, 'digest must be a string');
  try {
    checkDigest(digest);
  } catch {
    bad(path, `digest '${digest}' is not sha256:<64 hex> or sha512:<128 hex>`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) bad(path, 'size must be a non-negative integer');
  const d: Descriptor = { mediaType, digest, size };
  if (artifactType !== undefined) {
    if (typeof artifactType !== 'string') bad(path, 'artifactType must be a string');
    d.artifactType = artifactType;
  }
  const ann = annotations(v.annotations, path);
  if (ann) d.annotations = ann;
  if (platform !== undefined) {
    if (!isObject(platform) || typeof platform.architecture !== 'string' || typeof platform.os !== 'string') {
      bad(path, 'platform must have string architecture and os');
    }
    d.platform = platform as unknown as Platform;
  }
  if (urls !== undefined) {
    if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string')) bad(path, 'urls must be an array of strings');
    d.urls = urls as string[];
  }
  return d;
}

/**
 * Parses manifest bytes. `contentType` is the registry's Content-Type (parameters ignored, as the
 * distribution spec asks); when the body names a mediaType too, both must agree (spec "Pulling
 * manifests": clients SHOULD reject otherwise), which stops a registry from passing an index off
 * as an image or the reverse.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, what = 'manifest'): Manifest {
  const doc = parseJson(bytes, what, 'MANIFEST_MALFORMED');
  if (!isObject(doc)) bad(what, 'must be a JSON object');
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (doc.mediaType !== undefined && declared === undefined) bad(what, 'mediaType must be a string');
  const header = contentType?.split(';')[0]!.trim().toLowerCase();
  const generic = !header || header === 'application/json' || header === 'application/octet-stream';
  if (!generic && !isManifestMediaType(header)) {
    throw new SigilError('MEDIA_TYPE_UNSUPPORTED', `${what} was served as ${header}, which sigil does not read`, {
      hint: `supported manifest types: ${[OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ')}`,
    });
  }
  if (!generic && declared !== undefined && declared !== header) bad(what, `body says mediaType ${declared} but the registry sent Content-Type ${header}`);
  // OCI manifests may omit mediaType; with a generic Content-Type the shape decides.
  const mediaType = generic ? (declared ?? (Array.isArray(doc.manifests) ? OCI_INDEX : OCI_MANIFEST)) : header!;
  if (!isManifestMediaType(mediaType)) {
    throw new SigilError('MEDIA_TYPE_UNSUPPORTED', `${what} has media type ${mediaType}, which sigil does not read`, {
      hint: `supported manifest types: ${[OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ')} (Docker schema 1 is obsolete)`,
    });
  }
  if (doc.schemaVersion !== 2) bad(what, `schemaVersion must be 2, got ${JSON.stringify(doc.schemaVersion)}`);
  const artifactType = doc.artifactType;
  if (artifactType !== undefined && typeof artifactType !== 'string') bad(what, 'artifactType must be a string');
  const subject = doc.subject === undefined || doc.subject === null ? undefined : parseDescriptor(doc.subject, `${what}.subject`);
  const ann = annotations(doc.annotations, what);
  const common = {
    schemaVersion: 2 as const,
    mediaType,
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(subject ? { subject } : {}),
    ...(ann ? { annotations: ann } : {}),
  };
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(doc.manifests)) bad(what, 'an index must have a manifests array');
    if (doc.config !== undefined || doc.layers !== undefined) bad(what, 'an index must not have config or layers');
    return { kind: 'index', ...common, manifests: doc.manifests.map((m, i) => parseDescriptor(m, `${what}.manifests[${i}]`)) };
  }
  if (doc.manifests !== undefined) bad(what, 'an image manifest must not have a manifests array');
  if (!Array.isArray(doc.layers)) bad(what, 'an image manifest must have a layers array');
  return {
    kind: 'manifest',
    ...common,
    config: parseDescriptor(doc.config, `${what}.config`),
    layers: doc.layers.map((l, i) => parseDescriptor(l, `${what}.layers[${i}]`)),
  };
}

/**
 * The descriptor that represents `manifest` in a referrers list (distribution spec "Listing
 * Referrers"): artifactType from the manifest, else its config media type; annotations copied.
 */
export function referrerDescriptor(manifest: Manifest, bytes: Uint8Array, digest: string): Descriptor {
  const d: Descriptor = { mediaType: manifest.mediaType, digest, size: bytes.byteLength };
  const at = manifest.artifactType ?? (manifest.kind === 'manifest' ? manifest.config.mediaType : undefined);
  if (at) d.artifactType = at;
  if (manifest.annotations && Object.keys(manifest.annotations).length > 0) d.annotations = { ...manifest.annotations };
  return d;
}
