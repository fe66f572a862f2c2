/**
 * Finds what is attached to an image under both storage schemes the ecosystem uses: OCI 1.1
 * referrers (cosign v3, sigstore-js; through the API or its tag-schema fallback) and cosign's
 * `sha256-<hex>.sig/.att/.sbom` tags. Lookups run in parallel; the whole answer can be cached
 * for a while so repeated verification of the same image costs only the content fetches.
 */
import { isSigilError } from '../core/errors.js';
import type { RegistryClient, RepositoryRef } from './client.js';
import type { Descriptor } from './manifest.js';
import { attachmentTag, tagSchemeLayers, type TagSuffix } from './tag-scheme.js';
import {
  ANNOTATION_BUNDLE_CONTENT,
  ANNOTATION_BUNDLE_PREDICATE_TYPE,
  COSIGN_SIGN_PREDICATE_TYPE,
  CYCLONEDX_JSON,
  SIGSTORE_BUNDLE_PREFIX,
  SPDX_JSON,
} from './media-types.js';

/** 'bundle': a Sigstore bundle whose annotations do not say whether it signs or attests (sigstore-js attach). */
export type AttachmentKind = 'signature' | 'attestation' | 'sbom' | 'bundle' | 'other';

export interface ReferrerAttachment {
  scheme: 'referrer';
  kind: AttachmentKind;
  descriptor: Descriptor;
  predicateType?: string;
}

export interface TagAttachment {
  scheme: 'tag';
  kind: 'signature' | 'attestation' | 'sbom';
  tag: string;
  manifestDigest: string;
  layers: Descriptor[];
}

export interface Attachments {
  digest: string;
  referrersSource: 'api' | 'tag-schema';
  referrers: ReferrerAttachment[];
  tags: TagAttachment[];
}

const SBOM_TYPES = new Set([SPDX_JSON, CYCLONEDX_JSON, 'application/spdx+json', 'text/spdx', 'application/vnd.cyclonedx+xml', 'application/vnd.syft+json']);
const TAG_KIND: Record<TagSuffix, TagAttachment['kind']> = { sig: 'signature', att: 'attestation', sbom: 'sbom' };

export function classifyReferrer(d: Descriptor): ReferrerAttachment {
  const at = d.artifactType ?? '';
  const predicateType = d.annotations?.[ANNOTATION_BUNDLE_PREDICATE_TYPE];
  let kind: AttachmentKind = 'other';
  if (at.startsWith(SIGSTORE_BUNDLE_PREFIX)) {
    const content = d.annotations?.[ANNOTATION_BUNDLE_CONTENT];
    if (predicateType === COSIGN_SIGN_PREDICATE_TYPE || content === 'message-signature') kind = 'signature';
    else if (predicateType) kind = 'attestation';
    else kind = 'bundle';
  } else if (SBOM_TYPES.has(at)) kind = 'sbom';
  return { scheme: 'referrer', kind, descriptor: d, ...(predicateType ? { predicateType } : {}) };
}

/** Caches discovery results per image digest for `ttlMs` (the lists change only when someone signs). */
export class AttachmentCache {
  private readonly entries = new Map<string, { at: number; value: Promise<Attachments> }>();
  constructor(readonly ttlMs: number) {}

  get(key: string, load: () => Promise<Attachments>): Promise<Attachments> {
    const e = this.entries.get(key);
    if (e && Date.now() - e.at < this.ttlMs) return e.value;
    const value = load();
    this.entries.set(key, { at: Date.now(), value });
    value.catch(() => this.entries.delete(key));
    return value;
  }

  invalidate(key: string): void {
    this.entries.delete(key);
  }
}

export function attachmentKey(repo: RepositoryRef, digest: string): string {
  return `${repo.registry}/${repo.repository}@${digest}`;
}

async function tagAttachment(client: RegistryClient, repo: RepositoryRef, digest: string, suffix: TagSuffix): Promise<TagAttachment | undefined> {
  const tag = attachmentTag(digest, suffix);
  try {
    const m = await client.getManifest({ registry: repo.registry, repository: repo.repository, tag });
    return { scheme: 'tag', kind: TAG_KIND[suffix], tag, manifestDigest: m.digest, layers: tagSchemeLayers(m, tag) };
  } catch (e) {
    if (isSigilError(e) && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

/** Everything attached to `digest` in `repo`, under both schemes (`suffixes` limits the tag lookups). */
export async function discoverAttachments(
  client: RegistryClient,
  repo: RepositoryRef,
  digest: string,
  opts: { suffixes?: readonly TagSuffix[]; cache?: AttachmentCache } = {},
): Promise<Attachments> {
  const suffixes = opts.suffixes ?? (['sig', 'att', 'sbom'] as const);
  const load = async (): Promise<Attachments> => {
    const [refs, ...tags] = await Promise.all([client.referrers(repo, digest), ...suffixes.map((s) => tagAttachment(client, repo, digest, s))]);
    return {
      digest,
      referrersSource: refs.source,
      referrers: refs.descriptors.map(classifyReferrer),
      tags: tags.filter((t): t is TagAttachment => t !== undefined),
    };
  };
  return opts.cache ? opts.cache.get(`${attachmentKey(repo, digest)}#${suffixes.join(',')}`, load) : load();
}
