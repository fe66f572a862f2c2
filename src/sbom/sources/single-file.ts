/**
 * One file as the whole filesystem: a Go binary, a jar, any executable handed to `sigil sbom`
 * directly or found in a release. Catalogers see it under its own name at the root.
 */
import { lstatSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { SigilError } from '../../core/errors.js';
import { digestFileSync } from '../../core/digest.js';
import type { PackageKind } from '../../formats/sbom-model.js';
import type { ViewBuilder } from '../view.js';
import { feedFile } from './directory.js';
import type { ProgressSink, ScanTarget, SourceInfo } from './source.js';

export function singleFileTarget(path: string, kind: PackageKind, display?: string): ScanTarget {
  const info: SourceInfo = { kind, name: display ?? basename(path), location: path };
  return {
    info,
    awaitsFileSinks: true,
    async walk(view: ViewBuilder, progress: ProgressSink): Promise<void> {
      let st;
      try {
        st = lstatSync(path);
      } catch (e) {
        throw new SigilError('INPUT_UNREADABLE', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (!st.isFile()) throw new SigilError('INPUT_UNREADABLE', `${path} is not a regular file`);
      const d = digestFileSync(path, ['sha256']);
      info.checksums = [{ algorithm: 'SHA256', value: d.sha256.toString('hex') }];
      view.beginLayer(0);
      progress.advance(1);
      // Executable bit forced: the file was named explicitly, so it is meant to be examined.
      await feedFile(view, resolve(path), basename(path), () => ({ size: st.size, mode: st.mode | 0o100 }), (m) => view.addWarning(basename(path), m));
    },
  };
}
