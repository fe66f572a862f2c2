/**
 * Files as SBOM sources: what a file is by its content (tar, compressed tar, image archive, ELF,
 * zip), the targets each kind becomes, and release directories made of such files.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { SigilError, isSigilError } from '../../core/errors.js';
import { archiveTarget } from './archive.js';
import { dockerArchiveTargets, looksLikeImageArchiveMember } from './docker-archive.js';
import { decompress, fileChunks, sniffCompression } from './layer-stream.js';
import { ociLayoutTargets } from './oci-layout.js';
import { isOciLayout } from './oci-layout-marker.js';
import { singleFileTarget } from './single-file.js';
import { indexTarFile, readTar } from './tar.js';
import type { ScanTarget } from './source.js';

export type FileClass = 'tar' | 'image-archive' | 'elf' | 'zip' | 'other';

const STOP = Symbol('stop');

function readHead(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(n);
    const got = readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function isTarHeader(h: Buffer): boolean {
  if (h.length < 512) return false;
  if (h.toString('latin1', 257, 262) === 'ustar') return true;
  const stored = parseInt(h.toString('latin1', 148, 156).replace(/[\0 ]+/g, ''), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return stored === sum;
}

/** What a file is, by content. */
export async function classifyFile(path: string): Promise<FileClass> {
  const head = readHead(path, 512);
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return 'elf';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x504b0304) return 'zip';
  const c = sniffCompression(head);
  if (c === 'none') {
    if (!isTarHeader(head)) return 'other';
    const fd = openSync(path, 'r');
    try {
      const names = indexTarFile(fd, fstatSync(fd).size, path).map((e) => e.entry.name.replace(/^\.\//, ''));
      return names.includes('manifest.json') || (names.includes('index.json') && names.includes('oci-layout')) ? 'image-archive' : 'tar';
    } finally {
      closeSync(fd);
    }
  }
  if (c !== 'gzip' && c !== 'zstd') return 'other';
  // Compressed: the first member's name tells a `docker save | gzip` archive from a rootfs tarball.
  let first: string | undefined;
  let inflated = 0;
  try {
    const { stream } = await decompress(fileChunks(path), path);
    const counted = async function* () {
      for await (const c of stream) {
        inflated += c.length;
        yield c;
      }
    };
    await readTar(
      counted(),
      (e) => {
        first = e.name;
        throw STOP;
      },
      path,
    );
  } catch (e) {
    // A compressed file that does not even decompress to one tar header is a damaged archive:
    // report that rather than "not an archive".
    if (e !== STOP && isSigilError(e) && inflated < 512) throw e;
    if (e !== STOP && first === undefined) return 'other';
  }
  if (first === undefined) return 'other';
  return looksLikeImageArchiveMember(first) ? 'image-archive' : 'tar';
}

/** Files and OCI layouts of a release directory (recursively, symlinks not followed). */
export async function releaseTargets(dir: string, platform: string, depth = 0): Promise<ScanTarget[]> {
  const out: ScanTarget[] = [];
  const names = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of names) {
    const p = join(dir, d.name);
    if (d.isDirectory()) {
      if (isOciLayout(p)) out.push(...(await ociLayoutTargets(p, undefined, platform)));
      else if (depth < 4) out.push(...(await releaseTargets(p, platform, depth + 1)));
    } else if (d.isFile()) {
      const t = await fileTargets(p, platform, true);
      out.push(...t);
    }
  }
  return out;
}

export async function fileTargets(path: string, platform: string, inRelease: boolean): Promise<ScanTarget[]> {
  switch (await classifyFile(path)) {
    case 'tar':
      return [archiveTarget(path)];
    case 'image-archive':
      return dockerArchiveTargets(path, platform);
    case 'elf':
      return [singleFileTarget(path, 'binary')];
    case 'zip':
      return [singleFileTarget(path, 'archive')];
    default:
      if (inRelease) return [];
      throw new SigilError('INPUT_UNREADABLE', `${path} is not a tar/tar.gz/tar.zst archive, an image archive, an ELF binary or a jar`, {
        hint: 'give a directory, an archive, an OCI layout or an image reference',
      });
  }
}

/** Every entry of a directory is an artifact (a file that is one, or an OCI layout), and there is one. */
export async function holdsOnlyArtifacts(dir: string, entries: Dirent[]): Promise<boolean> {
  let artifacts = 0;
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (isOciLayout(p)) artifacts++;
      else return false;
    } else if (e.isFile()) {
      const c = await classifyFile(p).catch(() => 'other' as const);
      if (c !== 'other') artifacts++;
    }
  }
  return artifacts > 0;
}
