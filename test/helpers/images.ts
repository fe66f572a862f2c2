/**
 * Real container images for tests, built with the peer tools (../shared/peers/README.md §2):
 * tiny OCI layouts with umoci (~50 ms), a multi-arch index from two of them, and a Debian
 * bookworm image from `debootstrap --variant=minbase` (~30 s, so the rootfs and its OCI layout are
 * cached under ${SIGIL_TEST_CACHE:-$HOME/.cache/sigil-test} and shared by every test file that
 * asks, including the SBOM tests). Images are pushed with `skopeo copy`.
 *
 * The Debian cache is built under a lock directory (mkdir is atomic), so two test files asking at
 * once build it once: the second waits for the `.complete` marker. A lock left by a dead process
 * is taken over.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_CACHE = process.env.SIGIL_TEST_CACHE ?? join(homedir(), '.cache', 'sigil-test');

export interface LayoutImage {
  /** OCI image layout directory. */
  layout: string;
  /** Name of the image in the layout (`org.opencontainers.image.ref.name`). */
  tag: string;
  /** Manifest digest (skopeo keeps OCI manifests byte for byte, so it is also the pushed digest). */
  digest: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

interface LayoutIndex {
  schemaVersion: number;
  manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string>; platform?: { architecture: string; os: string } }[];
}

function readLayoutIndex(layout: string): LayoutIndex {
  return JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as LayoutIndex;
}

/** The manifest descriptor named `tag` in a layout. */
export function layoutDescriptor(layout: string, tag: string): LayoutIndex['manifests'][number] {
  const d = readLayoutIndex(layout).manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!d) throw new Error(`no image '${tag}' in OCI layout ${layout}`);
  return d;
}

/**
 * A tiny image: one layer holding /app/hello.txt with `content`, built by umoci in `layout`
 * (a new temp layout unless given). `architecture` sets the config's platform.
 */
export async function buildTinyImage(opts: { content?: string; architecture?: string; layout?: string; tag?: string } = {}): Promise<LayoutImage> {
  const layout = opts.layout ?? join(mkdtempSync(join(tmpdir(), 'sigil-img-')), 'layout');
  const tag = opts.tag ?? 'v1';
  if (!existsSync(join(layout, 'index.json'))) await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', `${layout}:${tag}`]);
  const bundle = mkdtempSync(join(tmpdir(), 'sigil-bundle-'));
  try {
    rmSync(bundle, { recursive: true });
    await run('umoci', ['unpack', '--rootless', '--image', `${layout}:${tag}`, bundle]);
    mkdirSync(join(bundle, 'rootfs', 'app'), { recursive: true });
    writeFileSync(join(bundle, 'rootfs', 'app', 'hello.txt'), (opts.content ?? 'hello from a sigil test image') + '\n');
    await run('umoci', ['repack', '--image', `${layout}:${tag}`, bundle]);
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
  await run('umoci', [
    'config',
    '--image',
    `${layout}:${tag}`,
    '--config.cmd=/app/hello.txt',
    '--config.workingdir=/app',
    '--author=sigil-test',
    ...(opts.architecture ? [`--architecture=${opts.architecture}`] : []),
  ]);
  await run('umoci', ['gc', '--layout', layout]);
  return { layout, tag, digest: layoutDescriptor(layout, tag).digest };
}

/** `skopeo copy` of a layout image (or index, with all its images) to `host/repo:tag` over plain HTTP. */
export async function pushLayout(img: { layout: string; tag: string }, dest: string, opts: { all?: boolean } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-push-'));
  try {
    const digestFile = join(dir, 'digest');
    await run('skopeo', [
      'copy',
      '--quiet',
      '--insecure-policy',
      '--dest-tls-verify=false',
      '--digestfile',
      digestFile,
      ...(opts.all ? ['--all', '--preserve-digests'] : []),
      `oci:${img.layout}:${img.tag}`,
      `docker://${dest}`,
    ]);
    return readFileSync(digestFile, 'utf8').trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds a tiny image and pushes it to `host/repo:tag`; returns the pushed manifest digest. */
export async function pushTinyImage(host: string, repo: string, tag: string, opts: { content?: string } = {}): Promise<{ ref: string; digest: string }> {
  const img = await buildTinyImage(opts);
  try {
    const digest = await pushLayout(img, `${host}/${repo}:${tag}`);
    return { ref: `${host}/${repo}:${tag}`, digest };
  } finally {
    rmSync(join(img.layout, '..'), { recursive: true, force: true });
  }
}

/**
 * A multi-arch image: two tiny images (amd64, arm64) in one layout and an OCI image index over
 * them, pushed with `skopeo copy --all --preserve-digests` so the index keeps its digest.
 */
export async function pushMultiArchIndex(host: string, repo: string, tag: string): Promise<{ ref: string; digest: string; platforms: { architecture: string; digest: string }[] }> {
  const root = mkdtempSync(join(tmpdir(), 'sigil-multi-'));
  const layout = join(root, 'layout');
  try {
    const platforms: { architecture: string; digest: string; size: number }[] = [];
    for (const architecture of ['amd64', 'arm64']) {
      const img = await buildTinyImage({ layout, tag: architecture, architecture, content: `hello from ${architecture}` });
      platforms.push({ architecture, digest: img.digest, size: layoutDescriptor(layout, architecture).size });
    }
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: platforms.map((p) => ({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: p.digest,
          size: p.size,
          platform: { architecture: p.architecture, os: 'linux' },
        })),
      }),
    );
    const hex = createHash('sha256').update(index).digest('hex');
    writeFileSync(join(layout, 'blobs', 'sha256', hex), index);
    const li = readLayoutIndex(layout);
    li.manifests.push({
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: `sha256:${hex}`,
      size: index.length,
      annotations: { 'org.opencontainers.image.ref.name': 'multi' },
    });
    writeFileSync(join(layout, 'index.json'), JSON.stringify(li));
    const digest = await pushLayout({ layout, tag: 'multi' }, `${host}/${repo}:${tag}`, { all: true });
    return { ref: `${host}/${repo}:${tag}`, digest, platforms: platforms.map(({ architecture, digest: d }) => ({ architecture, digest: d })) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Builds `final` once across processes: the builder holds `<final>.lock` (a directory with its
 * pid), builds into a temp dir beside it and renames it into place with a `.complete` marker.
 */
export async function buildCachedOnce(final: string, build: (tmp: string) => Promise<void>, timeoutMs = 15 * 60_000): Promise<string> {
  const marker = join(final, '.complete');
  const lock = `${final}.lock`;
  const deadline = Date.now() + timeoutMs;
  mkdirSync(join(final, '..'), { recursive: true });
  while (!existsSync(marker)) {
    let owner = false;
    try {
      mkdirSync(lock);
      owner = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (owner) {
      writeFileSync(join(lock, 'pid'), String(process.pid));
      const tmp = `${final}.tmp-${process.pid}`;
      try {
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { recursive: true });
        await build(tmp);
        writeFileSync(join(tmp, '.complete'), new Date().toISOString());
        rmSync(final, { recursive: true, force: true });
        renameSync(tmp, final);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
        rmSync(lock, { recursive: true, force: true });
      }
      continue;
    }
    // Someone else builds it. Take the lock over if its owner died (or never wrote its pid in 30 s).
    let pid = NaN;
    try {
      pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    } catch {
      /* not written yet */
    }
    let stale = Number.isFinite(pid) ? !pidAlive(pid) : false;
    if (!Number.isFinite(pid)) {
      try {
        stale = Date.now() - statSync(lock).mtimeMs > 30_000;
      } catch {
        /* lock vanished: loop */
      }
    }
    if (stale) rmSync(lock, { recursive: true, force: true });
    else {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${final} (lock ${lock} held by pid ${pid})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return final;
}

/**
 * A Debian bookworm minbase root file system (88 packages), cached. Returns the rootfs directory;
 * treat it as read-only (other test files read it at the same time).
 */
export async function debianRootfs(): Promise<string> {
  const dir = await buildCachedOnce(join(TEST_CACHE, 'debian-bookworm-minbase'), async (tmp) => {
    const rootfs = join(tmp, 'rootfs');
    await run('debootstrap', ['--variant=minbase', 'bookworm', rootfs], { timeoutMs: 20 * 60_000 });
    // The same clean-up as the peer recipe: 206 MB → 127 MB, no package archives or lists.
    await run('sh', ['-c', `rm -f "${rootfs}"/var/cache/apt/archives/*.deb; rm -rf "${rootfs}"/var/lib/apt/lists/*`]);
  });
  return join(dir, 'rootfs');
}

/** The Debian rootfs as a one-layer OCI image (tag `bookworm`), cached. */
export async function debianImageLayout(): Promise<LayoutImage> {
  const rootfs = await debianRootfs();
  const dir = await buildCachedOnce(join(TEST_CACHE, 'debian-bookworm-oci'), async (tmp) => {
    const layout = join(tmp, 'layout');
    const tar = join(tmp, 'layer.tar');
    await run('tar', ['--numeric-owner', '--xattrs', '-C', rootfs, '--exclude=./dev/*', '--exclude=./proc/*', '--exclude=./sys/*', '-cf', tar, '.']);
    await run('umoci', ['init', '--layout', layout]);
    await run('umoci', ['new', '--image', `${layout}:bookworm`]);
    await run('umoci', ['raw', 'add-layer', '--image', `${layout}:bookworm`, tar]);
    await run('umoci', ['config', '--image', `${layout}:bookworm`, '--config.cmd=/bin/bash', '--config.env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    await run('umoci', ['gc', '--layout', layout]);
    rmSync(tar);
  });
  const layout = join(dir, 'layout');
  return { layout, tag: 'bookworm', digest: layoutDescriptor(layout, 'bookworm').digest };
}

/** Pushes the cached Debian image to `host/repo:tag`. */
export async function pushDebianImage(host: string, repo: string, tag: string): Promise<{ ref: string; digest: string }> {
  const img = await debianImageLayout();
  const digest = await pushLayout(img, `${host}/${repo}:${tag}`);
  return { ref: `${host}/${repo}:${tag}`, digest };
}
