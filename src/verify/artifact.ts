/**
 * The artifact side of verification: its digests under the algorithms the bundle needs, and its
 * bytes when they are cheap to have (node:crypto verifies ECDSA over a message, not over a
 * digest; keeping small files in memory avoids the slower pre-hashed path).
 *
 * Files up to IN_MEMORY_LIMIT are read whole in one call; larger ones are hashed in 1 MiB reads
 * (1.37 GiB/s here, LIMITS.md §4) and their signature is checked over the digest.
 */
import { openSync, fstatSync, readSync, closeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { SigilError } from '../core/errors.js';
import { digest, digestFileSync, DIGEST_LENGTHS, type DigestAlgorithm } from '../core/digest.js';
import type { ArtifactInput } from './types.js';

export const IN_MEMORY_LIMIT = 64 << 20;

export interface PreparedArtifact {
  /** The bytes, when the artifact was given as bytes or is a small file. */
  bytes?: Buffer;
  digests: Partial<Record<DigestAlgorithm, Buffer>>;
  describe: string;
}

function fromBytes(bytes: Buffer, algs: readonly DigestAlgorithm[], describe: string): PreparedArtifact {
  const digests: Partial<Record<DigestAlgorithm, Buffer>> = {};
  for (const a of algs) digests[a] = digest(a, bytes);
  return { bytes, digests, describe };
}

function unreadable(path: string, e: unknown): SigilError {
  return new SigilError('INPUT_UNREADABLE', `cannot read artifact ${path}: ${(e as Error).message}`, { cause: e });
}

/** Prepares an artifact synchronously (worker threads, benchmarks, small files). */
export function prepareArtifactSync(a: ArtifactInput, algs: readonly DigestAlgorithm[]): PreparedArtifact {
  if ('digest' in a) return fromDigest(a.digest);
  if ('bytes' in a) return fromBytes(Buffer.from(a.bytes.buffer, a.bytes.byteOffset, a.bytes.byteLength), algs, 'artifact bytes');
  let fd: number;
  try {
    fd = openSync(a.path, 'r');
  } catch (e) {
    throw unreadable(a.path, e);
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= IN_MEMORY_LIMIT) {
      const buf = Buffer.allocUnsafe(size);
      let off = 0;
      while (off < size) {
        const n = readSync(fd, buf, off, size - off, off);
        if (n === 0) break;
        off += n;
      }
      return fromBytes(buf.subarray(0, off), algs, a.path);
    }
  } catch (e) {
    throw unreadable(a.path, e);
  } finally {
    closeSync(fd);
  }
  return { digests: digestFileSync(a.path, [...algs]), describe: a.path };
}

/** Asynchronous variant for the CLI and servers: large files do not block the event loop. */
export async function prepareArtifact(a: ArtifactInput, algs: readonly DigestAlgorithm[]): Promise<PreparedArtifact> {
  if (!('path' in a)) return prepareArtifactSync(a, algs);
  let fh;
  try {
    fh = await open(a.path, 'r');
  } catch (e) {
    throw unreadable(a.path, e);
  }
  try {
    const size = (await fh.stat()).size;
    if (size <= IN_MEMORY_LIMIT) return fromBytes(await fh.readFile(), algs, a.path);
    const hashes = algs.map((x) => createHash(x));
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      for (const h of hashes) h.update(buf.subarray(0, bytesRead));
    }
    const digests: Partial<Record<DigestAlgorithm, Buffer>> = {};
    algs.forEach((x, i) => (digests[x] = hashes[i]!.digest()));
    return { digests, describe: a.path };
  } catch (e) {
    throw e instanceof SigilError ? e : unreadable(a.path, e);
  } finally {
    await fh.close();
  }
}

function fromDigest(d: { alg: DigestAlgorithm; value: Uint8Array }): PreparedArtifact {
  const value = Buffer.from(d.value.buffer, d.value.byteOffset, d.value.byteLength);
  if (value.length !== DIGEST_LENGTHS[d.alg]) {
    throw new SigilError('USAGE', `artifact digest is ${value.length} bytes, not a ${d.alg} digest`);
  }
  return { digests: { [d.alg]: value }, describe: `${d.alg}:${value.toString('hex')}` };
}
