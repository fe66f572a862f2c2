/**
 * `docker save` archives: a tar holding `manifest.json` (`[{Config, RepoTags, Layers}]`), the
 * image configs and one uncompressed tar per layer (`<id>/layer.tar` before Docker 25,
 * `blobs/sha256/<hex>` since, next to an OCI `index.json`). A tar of an OCI layout (`skopeo copy
 * oci-archive:`) is read through its index.json.
 *
 * An uncompressed archive on disk is indexed by seeking over headers, then each layer is read from
 * its byte range in manifest order. A compressed archive cannot seek: a first pass collects the
 * small JSON files, and layers are then streamed in manifest order, one more pass whenever the
 * archive stores a layer before the one that must come first (Docker writes them in layer order,
 * so that is normally a single pass).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { basename } from 'node:path';
import { SigilError } from '../../core/errors.js';
import { isObject, parseJson } from '../../core/json.js';
import { digest as hashBytes } from '../../core/digest.js';
import type { Descriptor } from '../../oci/manifest.js';
import { OCI_INDEX } from '../../oci/media-types.js';
import type { ViewBuilder } from '../view.js';
import { normalizeEntryPath } from '../paths.js';
import { decompress, fileChunks, sniffCompression, walkTarStream, type LayerDigests } from './layer-stream.js';
import { indexTarFile, readTar, type TarBodySink } from './tar.js';
import { imageTarget, parseImageConfig, resolveImages, type BlobStore, type ImageConfig } from './image.js';
import { formatPlatform, parsePlatform, platformMatches, type Platform } from './platform.js';
import type { ProgressSink, ScanTarget, SourceInfo } from './source.js';
import { purl } from '../purl.js';

const MAX_JSON = 16 << 20;
const MAX_CAPTURED = 64 << 20;

interface DockerManifestEntry {
  config: string;
  repoTags: string[];
  layers: string[];
}

/** Random access to the archive's members: by byte range (seekable) or by captured content. */
interface Members {
  has(name: string): boolean;
  json(name: string): Buffer | undefined;
  /** Streams members `names` in that order into `each`. */
  streamInOrder(names: string[], each: (name: string, chunks: AsyncIterable<Buffer>) => Promise<void>): Promise<void>;
  size(name: string): number | undefined;
}

function bad(path: string, msg: string): SigilError {
  return new SigilError('MANIFEST_MALFORMED', `${path}: ${msg}`, { hint: 'the docker save archive is damaged or not one' });
}

function parseDockerManifest(bytes: Buffer, path: string): DockerManifestEntry[] {
  const doc = parseJson(bytes, `${path}:manifest.json`, 'MANIFEST_MALFORMED');
  if (!Array.isArray(doc) || doc.length === 0) throw bad(path, 'manifest.json must be a non-empty array');
  return doc.map((e, i) => {
    if (!isObject(e) || typeof e.Config !== 'string' || !Array.isArray(e.Layers) || !e.Layers.every((l) => typeof l === 'string')) {
      throw bad(path, `manifest.json entry ${i} needs Config and Layers`);
    }
    const tags = Array.isArray(e.RepoTags) ? e.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    return { config: e.Config, repoTags: tags, layers: e.Layers as string[] };
  });
}

function memberName(raw: string): string | undefined {
  const n = normalizeEntryPath(raw);
  return n === undefined || n === '' ? undefined : n;
}

/** Uncompressed archive: seek over headers once, read ranges afterwards. */
function seekableMembers(path: string): Members {
  const fd = openSync(path, 'r');
  try {
    const entries = indexTarFile(fd, fstatSync(fd).size, path);
    const byName = new Map<string, { offset: number; size: number }>();
    for (const e of entries) {
      const n = memberName(e.entry.name);
      if (n && e.entry.kind === 'file') byName.set(n, { offset: e.offset, size: e.entry.size });
    }
    const json = (name: string): Buffer | undefined => {
      const m = byName.get(name);
      if (!m || m.size > MAX_JSON) return undefined;
      const fd2 = openSync(path, 'r');
      try {
        const b = Buffer.alloc(m.size);
        readSync(fd2, b, 0, m.size, m.offset);
        return b;
      } finally {
        closeSync(fd2);
      }
    };
    return {
      has: (n) => byName.has(n),
      json,
      size: (n) => byName.get(n)?.size,
      async streamInOrder(names, each) {
        for (const n of names) {
          const m = byName.get(n)!;
          await each(n, m.size === 0 ? (async function* () {})() : fileChunks(path, m.offset, m.offset + m.size - 1));
        }
      },
    };
  } finally {
    closeSync(fd);
  }
}

/** Feeds a member's bytes into a nested consumer that reads an async stream. */
function nestedSink(consume: (chunks: AsyncIterable<Buffer>) => Promise<void>): TarBodySink {
  const pt = new PassThrough({ highWaterMark: 1 << 20 });
  let failed: unknown;
  const done = consume(pt).catch((e: unknown) => {
    failed = e;
    pt.resume();
  });
  return {
    async write(chunk) {
      if (failed) return false;
      if (!pt.write(chunk)) await Promise.race([once(pt, 'drain'), done]);
      return failed === undefined;
    },
    async end() {
      pt.end();
      await done;
      if (failed) throw failed;
    },
  };
}

/** Compressed archive: one pass to collect JSON, then passes streaming members in order. */
async function streamedMembers(path: string): Promise<Members> {
  const captured = new Map<string, Buffer>();
  const sizes = new Map<string, number>();
  let total = 0;
  const { stream } = await decompress(fileChunks(path), path);
  await readTar(
    stream,
    (e) => {
      const n = memberName(e.name);
      if (!n || e.kind !== 'file') return undefined;
      sizes.set(n, e.size);
      if (e.size > MAX_JSON || total + e.size > MAX_CAPTURED) return undefined;
      const buf = Buffer.alloc(e.size);
      let fill = 0;
      return {
        write(c) {
          if (fill === 0 && c[0] !== 0x7b && c[0] !== 0x5b) return false; // not JSON: a layer
          c.copy(buf, fill);
          fill += c.length;
          return true;
        },
        end(truncated) {
          if (!truncated && fill === e.size) {
            captured.set(n, buf);
            total += e.size;
          }
        },
      };
    },
    path,
  );
  return {
    has: (n) => sizes.has(n),
    json: (n) => captured.get(n),
    size: (n) => sizes.get(n),
    async streamInOrder(names, each) {
      let next = 0;
      while (next < names.length) {
        const before = next;
        const { stream: s } = await decompress(fileChunks(path), path);
        await readTar(
          s,
          (e) => {
            if (next >= names.length || memberName(e.name) !== names[next] || e.kind !== 'file') return undefined;
            const name = names[next]!;
            next++;
            return nestedSink((chunks) => each(name, chunks));
          },
          path,
        );
        if (next === before) throw bad(path, `member ${names[next]} listed in the manifest is missing`);
      }
    },
  };
}

function platformOf(c: ImageConfig): Platform | undefined {
  return c.os && c.architecture ? { os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) } : undefined;
}

function dockerTarget(path: string, members: Members, entry: DockerManifestEntry, config: ImageConfig, configDigest: string): ScanTarget {
  const tag = entry.repoTags[0];
  const p = platformOf(config);
  const repo = tag ? tag.slice(0, tag.lastIndexOf(':') > tag.lastIndexOf('/') ? tag.lastIndexOf(':') : tag.length) : undefined;
  const info: SourceInfo = {
    kind: 'container',
    name: tag ?? basename(path),
    version: configDigest,
    purl: purl('oci', undefined, (repo ?? basename(path)).split('/').pop()!.toLowerCase().replace(/[^a-z0-9._-]/g, '-'), configDigest, {
      arch: p ? `${p.architecture}${p.variant ? `/${p.variant}` : ''}` : undefined,
      tag: tag && repo ? tag.slice(repo.length + 1) : undefined,
    }),
    location: path,
    properties: { 'sigil:config-digest': configDigest, ...(p ? { 'sigil:platform': formatPlatform(p) } : {}) },
  };
  return {
    info,
    async walk(view: ViewBuilder, progress: ProgressSink): Promise<void> {
      if (config.diffIds.length && config.diffIds.length !== entry.layers.length) {
        throw bad(path, `the config lists ${config.diffIds.length} diff ids for ${entry.layers.length} layers`);
      }
      const names = entry.layers.map((l) => {
        const n = memberName(l);
        if (!n || !members.has(n)) throw bad(path, `layer ${l} listed in manifest.json is missing`);
        return n;
      });
      progress.expect(
        names.reduce((s, n) => s + (members.size(n) ?? 0), 0),
        'bytes',
      );
      let i = 0;
      await members.streamInOrder(names, async (name, chunks) => {
        const index = i++;
        const label = `${path}:${name}`;
        progress.phase(`layer ${index + 1}/${names.length}`);
        view.beginLayer(index, `layer${index + 1}`, config.diffIds[index]);
        const got: LayerDigests = await walkTarStream(chunks, view, label, progress);
        const want = config.diffIds[index];
        if (want && want !== got.diffId) {
          throw new SigilError('DIGEST_MISMATCH', `${label}: uncompressed content hashes to ${got.diffId}, the config says ${want}`, {
            hint: 'the layer was altered or does not belong to this image',
          });
        }
      });
    },
  };
}

/** An OCI layout inside the tar (index.json + blobs/), for archives without manifest.json. */
function archiveStore(path: string, members: Members): BlobStore {
  const name = (d: Descriptor) => `blobs/${d.digest.replace(':', '/')}`;
  return {
    async read(d) {
      const b = members.json(name(d));
      if (!b) throw bad(path, `blob ${d.digest} is missing`);
      const alg = d.digest.startsWith('sha512:') ? 'sha512' : 'sha256';
      if (`${alg}:${hashBytes(alg, b).toString('hex')}` !== d.digest) {
        throw new SigilError('DIGEST_MISMATCH', `${path}: blob ${d.digest} does not match its digest`, { hint: 'the archive was altered' });
      }
      return b;
    },
    stream(d) {
      const n = name(d);
      if (!members.has(n)) throw bad(path, `layer blob ${d.digest} is missing`);
      const out = new PassThrough({ highWaterMark: 1 << 20 });
      members
        .streamInOrder([n], async (_n, chunks) => {
          for await (const c of chunks) if (!out.write(c)) await once(out, 'drain');
        })
        .then(
          () => out.end(),
          (e: unknown) => out.destroy(e as Error),
        );
      return out;
    },
  };
}

/** True when the first member names look like a `docker save` or OCI archive. */
export function looksLikeImageArchiveMember(name: string): boolean {
  const n = name.replace(/^\.\//, '');
  return /^(manifest\.json|index\.json|oci-layout|repositories|blobs\/|[0-9a-f]{64}(\/|\.json))/.test(n);
}

export async function dockerArchiveTargets(path: string, platform: string): Promise<ScanTarget[]> {
  const head = Buffer.alloc(8);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
  const members = sniffCompression(head) === 'none' ? seekableMembers(path) : await streamedMembers(path);
  const manifestJson = members.json('manifest.json');
  if (!manifestJson) {
    const index = members.json('index.json');
    if (!index) throw bad(path, 'no manifest.json or index.json: not a docker save or OCI archive');
    const store = archiveStore(path, members);
    const images = await resolveImages(store, { bytes: index, mediaType: OCI_INDEX, digest: 'index.json' }, platform, path);
    return images.map((img) => imageTarget(store, img, { name: basename(path), location: path }));
  }
  const entries = parseDockerManifest(manifestJson, path);
  const withConfigs = entries.map((e) => {
    const n = memberName(e.config);
    const bytes = n ? members.json(n) : undefined;
    if (!bytes) throw bad(path, `config ${e.config} is missing`);
    return { e, config: parseImageConfig(bytes, `${path}:${e.config}`), digest: `sha256:${hashBytes('sha256', bytes).toString('hex')}` };
  });
  let chosen = withConfigs;
  if (platform !== 'all' && withConfigs.length > 1) {
    const want = parsePlatform(platform);
    const match = want ? withConfigs.filter((c) => platformMatches(want, platformOf(c.config))) : [];
    chosen = match.length ? match : withConfigs.slice(0, 1);
  }
  return chosen.map((c) => dockerTarget(path, members, c.e, c.config, c.digest));
}
