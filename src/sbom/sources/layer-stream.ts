/**
 * One tar stream (a tarball, an image layer) into the view, in one pass: bytes are hashed as they
 * arrive (the compressed digest the layout or registry names, and the uncompressed "diff id" the
 * image config names), decompressed by their magic number (gzip through node:zlib on the thread
 * pool, zstd through fzstd), and parsed as tar without ever holding a whole layer.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { SigilError } from '../../core/errors.js';
import type { ViewBuilder } from '../view.js';
import { readTar, type TarBodySink, type TarEntry } from './tar.js';
import type { ProgressSink } from './source.js';

export type Compression = 'gzip' | 'zstd' | 'none';

const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export function sniffCompression(head: Buffer): Compression | 'bzip2' | 'xz' {
  if (head.subarray(0, 2).equals(GZIP)) return 'gzip';
  if (head.subarray(0, 4).equals(ZSTD)) return 'zstd';
  if (head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** Reads a file in 1 MiB chunks (2× the throughput of the 64 KiB default, ../shared/LIMITS.md §4). */
export function fileChunks(path: string, start?: number, end?: number): AsyncIterable<Buffer> {
  return createReadStream(path, { highWaterMark: 1 << 20, ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) });
}

/** Passes chunks through while hashing them and counting progress. */
export async function* tap(source: AsyncIterable<Buffer>, hash: Hash | undefined, progress?: ProgressSink): AsyncIterable<Buffer> {
  for await (const chunk of source) {
    hash?.update(chunk);
    progress?.advance(chunk.length);
    yield chunk;
  }
}

async function* gunzip(source: AsyncIterable<Buffer>, label: string): AsyncIterable<Buffer> {
  const gz = createGunzip({ chunkSize: 256 << 10 });
  const input = Readable.from(source, { objectMode: false });
  input.on('error', (e) => gz.destroy(e));
  input.pipe(gz);
  try {
    for await (const c of gz) yield c as Buffer;
  } catch (e) {
    if (e instanceof SigilError) throw e;
    throw new SigilError('ARCHIVE_MALFORMED', `${label}: gzip data is corrupt or truncated (${(e as Error).message})`, {
      hint: 'the archive or layer is damaged; download it again',
    });
  } finally {
    input.destroy();
    gz.destroy();
  }
}

async function* unzstd(source: AsyncIterable<Buffer>, label: string): AsyncIterable<Buffer> {
  const out: Buffer[] = [];
  let finished = false;
  const d = new Decompress((data, final) => {
    out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (final) finished = true;
  });
  const fail = (e: unknown): never => {
    throw new SigilError('ARCHIVE_MALFORMED', `${label}: zstd data is corrupt (${(e as Error).message})`, { hint: 'the archive or layer is damaged' });
  };
  for await (const chunk of source) {
    try {
      d.push(chunk);
    } catch (e) {
      fail(e);
    }
    while (out.length) yield out.shift()!;
  }
  if (!finished) {
    try {
      d.push(new Uint8Array(0), true);
    } catch (e) {
      fail(e);
    }
  }
  while (out.length) yield out.shift()!;
  if (!finished) throw new SigilError('ARCHIVE_MALFORMED', `${label}: zstd stream is truncated`, { hint: 'the archive or layer is damaged' });
}

/** Reads the first bytes to pick a decompressor, then yields the decompressed stream. */
export async function decompress(source: AsyncIterable<Buffer>, label: string): Promise<{ compression: Compression; stream: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < 6) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    have += r.value.length;
  }
  const first = Buffer.concat(head);
  async function* replay(): AsyncIterable<Buffer> {
    if (first.length) yield first;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const c = sniffCompression(first);
  if (c === 'bzip2' || c === 'xz') {
    throw new SigilError('ARCHIVE_MALFORMED', `${label}: ${c} compression is not supported`, { hint: 'use a tar, tar.gz or tar.zst archive' });
  }
  if (c === 'gzip') return { compression: c, stream: gunzip(replay(), label) };
  if (c === 'zstd') return { compression: c, stream: unzstd(replay(), label) };
  return { compression: 'none', stream: replay() };
}

/** Adapts a tar entry to the view: metadata to `view.entry`, the body to the file sink. */
export function viewEntryHandler(view: ViewBuilder): (e: TarEntry) => TarBodySink | undefined {
  return (e) => {
    if (e.typeflag === 'S') {
      view.addWarning(e.name, 'GNU sparse file; not catalogued');
      return undefined;
    }
    const sink = view.entry({ name: e.name, kind: e.kind, size: e.size, mode: e.mode, ...(e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}) });
    if (!sink) return undefined;
    return { write: (c) => sink.write(c), end: (t) => sink.end(t) };
  };
}

export interface LayerDigests {
  /** Digest of the bytes as stored (compressed), `alg:hex`. */
  stored: string;
  /** sha256 of the uncompressed tar (the image config's diff id). */
  diffId: string;
  compression: Compression;
}

/** Streams one (possibly compressed) tar into the view and returns its digests. */
export async function walkTarStream(
  source: AsyncIterable<Buffer>,
  view: ViewBuilder,
  label: string,
  progress?: ProgressSink,
  storedAlgorithm: 'sha256' | 'sha512' = 'sha256',
): Promise<LayerDigests> {
  const stored = createHash(storedAlgorithm);
  const diff = createHash('sha256');
  const { compression, stream } = await decompress(tap(source, stored, progress), label);
  await readTar(tap(stream, diff), viewEntryHandler(view), label);
  return { stored: `${storedAlgorithm}:${stored.digest('hex')}`, diffId: `sha256:${diff.digest('hex')}`, compression };
}
