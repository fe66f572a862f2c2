/**
 * A tar, tar.gz or tar.zst archive of a filesystem (a rootfs tarball, a release tarball) as one
 * layer. The archive's sha256 is computed in the same pass and becomes the root package checksum.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { SigilError } from '../../core/errors.js';
import type { ViewBuilder } from '../view.js';
import { fileChunks, walkTarStream } from './layer-stream.js';
import type { ProgressSink, ScanTarget, SourceInfo } from './source.js';

export function archiveTarget(path: string, display?: string): ScanTarget {
  const info: SourceInfo = { kind: 'archive', name: display ?? basename(path), location: path };
  return {
    info,
    async walk(view: ViewBuilder, progress: ProgressSink): Promise<void> {
      let size: number;
      try {
        size = statSync(path).size;
      } catch (e) {
        throw new SigilError('INPUT_UNREADABLE', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      progress.expect(size, 'bytes');
      view.beginLayer(0);
      const d = await walkTarStream(fileChunks(path), view, path, progress);
      info.checksums = [{ algorithm: 'SHA256', value: d.stored.slice(7) }];
      info.properties = { ...info.properties, 'sigil:compression': d.compression };
    },
  };
}
