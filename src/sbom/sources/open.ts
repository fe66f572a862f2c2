/**
 * Turns the SOURCE argument of `sigil sbom` into scan targets. Explicit schemes pick the kind
 * (`dir:`, `file:`, `oci-dir:`, `docker-archive:`, `registry:`, `release:`); without one the kind is
 * detected from what is on disk (magic numbers, not file names), and a string that names nothing
 * on disk but parses as an image reference is pulled from its registry.
 */
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { SigilError } from '../../core/errors.js';
import type { RegistryClientOptions } from '../../oci/client.js';
import { directoryTarget } from './directory.js';
import { isOciLayout } from './oci-layout-marker.js';
import type { ScanTarget } from './source.js';

/**
 * Archive, image and release support (tar, gzip/zstd, image manifests) is loaded only for sources
 * that need it: a directory scan starts faster without it (bench/README.md, sbom).
 */
const artifacts = () => import('./artifacts.js');
const ociLayoutTargets = async (...a: Parameters<typeof import('./oci-layout.js').ociLayoutTargets>) => (await import('./oci-layout.js')).ociLayoutTargets(...a);

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

const PROJECT_MARKERS = ['package.json', 'go.mod', 'Cargo.toml', 'pom.xml', 'pyproject.toml', 'setup.py', 'requirements.txt', 'etc', 'usr', 'var'];

/**
 * A directory is a release when it holds artifacts (archives, binaries, jars, OCI layouts) and
 * nothing that makes it a project or a root filesystem. The marker test comes first and needs no
 * archive code: a project directory is told apart without loading it.
 */
export async function looksLikeRelease(dir: string): Promise<boolean> {
  const entries = readdirSync(dir, { withFileTypes: true });
  if (entries.some((e) => PROJECT_MARKERS.includes(e.name))) return false;
  return (await artifacts()).holdsOnlyArtifacts(dir, entries);
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
      return local(await (await import('./docker-archive.js')).dockerArchiveTargets(rest, opts.platform));
    case 'release':
      return local(await (await artifacts()).releaseTargets(rest, opts.platform));
    case 'file':
      return local(await (await artifacts()).fileTargets(rest, opts.platform, false));
    default:
      break;
  }
  let st;
  try {
    st = lstatSync(rest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      let isRef = false;
      const { parseReference } = await import('../../oci/reference.js');
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
    if (await looksLikeRelease(rest)) return local(await (await artifacts()).releaseTargets(rest, opts.platform));
    return local([directoryTarget(rest, { fullWalk: opts.fullWalk === true })]);
  }
  if (st.isFile()) return local(await (await artifacts()).fileTargets(rest, opts.platform, false));
  throw new SigilError('INPUT_UNREADABLE', `${rest} is not a directory or a regular file`, { hint: 'symlinks and devices are not scanned' });
}
