/**
 * Turns the SOURCE argument of `sigil sbom` into scan targets. Explicit schemes pick the kind
 * (`dir:`, `file:`, `oci-dir:`, `docker-archive:`, `registry:`, `release:`); without one the kind is
 * detected from what is on disk (magic numbers, not file names), and a string that names nothing
 * on disk but parses as an image reference is pulled from its registry.
 */
import { closeSync, existsSync, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { SigilError, isSigilError } from '../../core/errors.js';
import type { RegistryClientOptions } from '../../oci/client.js';
import { parseReference } from '../../oci/reference.js';
import { directoryTarget } from './directory.js';
import { archiveTarget } from './archive.js';
import { dockerArchiveTargets, looksLikeImageArchiveMember } from './docker-archive.js';
import { decompress, fileChunks, sniffCompression } from './layer-stream.js';
import { isOciLayout, ociLayoutTargets } from './oci-layout.js';
import { singleFileTarget } from './single-file.js';
import { indexTarFile, readTar } from './tar.js';
import type { ScanTarget } from './source.js';

export interface OpenOptions {
  /** `os/arch[/variant]`, or 'all' for every platform of a multi-arch index. */
  platform: string;
  registry?: RegistryClientOptions;
  /** Directories: list every subdirectory, even those a cataloger described from a checked index file. */
  fullWalk?: boolean;
}

export interface OpenedSource {
  targets: ScanTarget[];
  /** Release of network clients; call when the scan is over. */
  close(): void;
}

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
async function releaseTargets(dir: string, platform: string, depth = 0): Promise<ScanTarget[]> {
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

async function fileTargets(path: string, platform: string, inRelease: boolean): Promise<ScanTarget[]> {
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

const PROJECT_MARKERS = ['package.json', 'go.mod', 'Cargo.toml', 'pom.xml', 'pyproject.toml', 'setup.py', 'requirements.txt', 'etc', 'usr', 'var'];

/**
 * A directory is a release when it holds artifacts (archives, binaries, jars, OCI layouts) and
 * nothing that makes it a project or a root filesystem.
 */
export async function looksLikeRelease(dir: string): Promise<boolean> {
  const entries = readdirSync(dir, { withFileTypes: true });
  if (entries.some((e) => PROJECT_MARKERS.includes(e.name))) return false;
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

function notFound(arg: string, e: unknown): SigilError {
  return new SigilError('INPUT_UNREADABLE', `cannot read ${arg}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
    hint: 'give a directory, an archive, an OCI layout or an image reference',
  });
}

const NOTHING = (): void => {};

/** The registry client (HTTP stack, auth) is loaded only when an image is pulled. */
async function registryTargets(reference: string, platform: string, options: RegistryClientOptions | undefined): Promise<{ targets: ScanTarget[]; close(): void }> {
  const m = await import('./registry.js');
  return m.registryTargets(reference, platform, options);
}

export async function openSource(arg: string, opts: OpenOptions): Promise<OpenedSource> {
  const m = /^(dir|file|oci-dir|docker-archive|registry|release):(.*)$/.exec(arg);
  const scheme = m?.[1];
  const rest = m ? m[2]! : arg;
  const local = (targets: ScanTarget[]): OpenedSource => ({ targets, close: NOTHING });
  switch (scheme) {
    case 'dir':
      return local([directoryTarget(rest, { fullWalk: opts.fullWalk === true })]);
    case 'registry': {
      const r = await registryTargets(rest, opts.platform, opts.registry);
      return { targets: r.targets, close: r.close };
    }
    case 'oci-dir': {
      // oci-dir:PATH[:TAG] — the tag after the last ':' when PATH itself does not exist.
      const i = rest.lastIndexOf(':');
      const [dir, tag] = !existsSync(rest) && i > 0 ? [rest.slice(0, i), rest.slice(i + 1)] : [rest, undefined];
      if (!isOciLayout(dir)) throw new SigilError('INPUT_UNREADABLE', `${dir} is not an OCI image layout (no oci-layout / index.json)`);
      return local(await ociLayoutTargets(dir, tag, opts.platform));
    }
    case 'docker-archive':
      return local(await dockerArchiveTargets(rest, opts.platform));
    case 'release':
      return local(await releaseTargets(rest, opts.platform));
    case 'file':
      return local(await fileTargets(rest, opts.platform, false));
    default:
      break;
  }
  let st;
  try {
    st = lstatSync(rest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      let isRef = false;
      try {
        parseReference(rest);
        isRef = /[/:@]/.test(rest);
      } catch {
        /* not a reference either */
      }
      if (isRef) {
        const r = await registryTargets(rest, opts.platform, opts.registry);
        return { targets: r.targets, close: r.close };
      }
    }
    throw notFound(rest, e);
  }
  if (st.isDirectory()) {
    if (isOciLayout(rest)) return local(await ociLayoutTargets(rest, undefined, opts.platform));
    if (await looksLikeRelease(rest)) return local(await releaseTargets(rest, opts.platform));
    return local([directoryTarget(rest, { fullWalk: opts.fullWalk === true })]);
  }
  if (st.isFile()) return local(await fileTargets(rest, opts.platform, false));
  throw new SigilError('INPUT_UNREADABLE', `${rest} is not a directory or a regular file`, { hint: 'symlinks and devices are not scanned' });
}
