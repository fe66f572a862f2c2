/**
 * A synthetic ~2 GiB OCI image for the SBOM memory benchmark, written straight into an OCI layout
 * (no docker, no unpacking): four layers of ~512 MiB — the Debian dpkg database plus filler, 2000
 * npm packages plus compressible filler (gzip), one 400 MiB ELF executable that must be scanned
 * while streaming, and a layer of whiteouts plus filler. Cached under the test cache.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, constants as zc } from 'node:zlib';
import { TEST_CACHE } from '../test/helpers/images.js';

const MiB = 1 << 20;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, type = '0', mode = 0o644): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(0, 12), 136, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}

/** Builds one tar layer by calling `add` for each entry; returns the tar as chunks via `sink`. */
class TarWriter {
  constructor(private readonly sink: (b: Buffer) => void) {}
  file(name: string, size: number, fill: (remaining: number) => Buffer, mode = 0o644): void {
    this.sink(header(name, size, '0', mode));
    let left = size;
    while (left > 0) {
      const b = fill(left);
      const n = Math.min(left, b.length);
      this.sink(n === b.length ? b : b.subarray(0, n));
      left -= n;
    }
    const pad = (512 - (size % 512)) % 512;
    if (pad) this.sink(Buffer.alloc(pad));
  }
  text(name: string, text: string | Buffer): void {
    const b = Buffer.isBuffer(text) ? text : Buffer.from(text);
    this.file(name, b.length, () => b);
  }
  end(): void {
    this.sink(Buffer.alloc(1024));
  }
}

interface Layer {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

function writeLayer(blobs: string, gzip: boolean, build: (t: TarWriter) => void): Layer {
  const tmp = join(blobs, `tmp-${process.pid}`);
  const fd = openSync(tmp, 'w');
  const stored = createHash('sha256');
  const diff = createHash('sha256');
  let size = 0;
  const out = (b: Buffer) => {
    stored.update(b);
    writeSync(fd, b);
    size += b.length;
  };
  let pending: Buffer[] = [];
  let pendingLen = 0;
  const flush = () => {
    if (!pendingLen) return;
    const raw = Buffer.concat(pending);
    pending = [];
    pendingLen = 0;
    // Independent gzip members concatenate into one valid gzip stream (RFC 1952 §2.2).
    out(gzipSync(raw, { level: 1, strategy: zc.Z_DEFAULT_STRATEGY }));
  };
  const t = new TarWriter((b) => {
    diff.update(b);
    if (!gzip) return out(b);
    pending.push(Buffer.from(b));
    pendingLen += b.length;
    if (pendingLen >= 16 * MiB) flush();
  });
  build(t);
  t.end();
  flush();
  closeSync(fd);
  const hex = stored.digest('hex');
  renameSync(tmp, join(blobs, hex));
  return {
    digest: `sha256:${hex}`,
    diffId: `sha256:${diff.digest('hex')}`,
    size,
    mediaType: gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
  };
}

function putJson(blobs: string, doc: unknown): { digest: string; size: number } {
  const b = Buffer.from(JSON.stringify(doc));
  const hex = createHash('sha256').update(b).digest('hex');
  writeFileSync(join(blobs, hex), b);
  return { digest: `sha256:${hex}`, size: b.length };
}

export interface SyntheticImage {
  layout: string;
  bytes: number;
  npmPackages: number;
}

/** Builds (once) the synthetic image from the Debian rootfs's dpkg status. */
export function syntheticImage(debianRootfs: string): SyntheticImage {
  const dir = join(TEST_CACHE, 'sbom-synthetic-2g');
  const layout = join(dir, 'layout');
  const NPM = 2000;
  if (existsSync(join(dir, '.complete'))) {
    const bytes = JSON.parse(readFileSync(join(dir, '.complete'), 'utf8')) as number;
    return { layout, bytes, npmPackages: NPM };
  }
  rmSync(dir, { recursive: true, force: true });
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const random = createHash('sha512');
  const noise = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += 64) random.copy().update(String(i)).digest().copy(noise, i);
  const text = Buffer.alloc(MiB, 'the quick brown fox jumps over the lazy dog\n');
  const fillNoise = () => noise;
  const fillText = () => text;
  const layers: Layer[] = [];
  layers.push(
    writeLayer(blobs, false, (t) => {
      t.text('var/lib/dpkg/status', readFileSync(join(debianRootfs, 'var/lib/dpkg/status')));
      t.text('usr/lib/os-release', readFileSync(join(debianRootfs, 'usr/lib/os-release')));
      for (let i = 0; i < 500; i++) t.file(`usr/share/filler/a${i}.bin`, MiB, fillNoise);
    }),
  );
  layers.push(
    writeLayer(blobs, true, (t) => {
      t.text('app/package.json', JSON.stringify({ name: 'synthetic-app', version: '1.0.0' }));
      for (let i = 0; i < NPM; i++) t.text(`app/node_modules/synthetic-pkg-${i}/package.json`, JSON.stringify({ name: `synthetic-pkg-${i}`, version: `1.0.${i}`, license: 'MIT' }));
      for (let i = 0; i < 500; i++) t.file(`usr/share/filler/b${i}.txt`, MiB, fillText);
    }),
  );
  layers.push(
    writeLayer(blobs, false, (t) => {
      // An executable that is not a Go binary: it must be streamed through, never buffered.
      const elf = Buffer.from(noise);
      elf.write('\x7fELF\x02\x01\x01', 0, 'latin1');
      t.file('usr/bin/huge-tool', 400 * MiB, () => elf, 0o755);
      for (let i = 0; i < 110; i++) t.file(`usr/share/filler/c${i}.bin`, MiB, fillNoise);
    }),
  );
  layers.push(
    writeLayer(blobs, false, (t) => {
      for (let i = 0; i < 100; i++) t.text(`usr/share/filler/.wh.a${i}.bin`, '');
      for (let i = 0; i < 500; i++) t.file(`usr/share/filler/d${i}.bin`, MiB, fillNoise);
    }),
  );
  const config = putJson(blobs, {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    config: {},
  });
  const manifest = putJson(blobs, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  });
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'synthetic' } }],
    }),
  );
  const bytes = layers.reduce((n, l) => n + l.size, 0);
  writeFileSync(join(dir, '.complete'), JSON.stringify(bytes));
  return { layout, bytes, npmPackages: NPM };
}
