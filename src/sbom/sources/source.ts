/**
 * A source is something the scan engine can walk once into a ViewBuilder: a directory, an archive,
 * an image (one ViewBuilder layer per image layer). Sources describe themselves as the root
 * package of the SBOM (name, digests, platform).
 */
import type { Checksum, PackageKind } from '../../formats/sbom-model.js';
import type { ViewBuilder } from '../view.js';

export interface SourceInfo {
  kind: PackageKind;
  /** Display name: image reference, archive file name, directory name. */
  name: string;
  version?: string;
  purl?: string;
  checksums?: Checksum[];
  properties?: Record<string, string>;
  /** Where the source is, as the user named it. */
  location: string;
}

/** Progress of a walk in bytes (of compressed layers, archives) or files (directories). */
export interface ProgressSink {
  /** Adds to the expected total; called before or during the walk. */
  expect(units: number, unit: 'bytes' | 'files'): void;
  advance(units: number): void;
  /** A new phase ("layer 2/5 sha256:…"). */
  phase(label: string): void;
}

export const NO_PROGRESS: ProgressSink = { expect() {}, advance() {}, phase() {} };

export interface ScanTarget {
  /** Known before the walk for images; completed during the walk for archives (their digest). */
  readonly info: SourceInfo;
  walk(view: ViewBuilder, progress: ProgressSink): Promise<void>;
  /**
   * The walk awaits `FileSink.ready`, so catalogers can load when their first file turns up;
   * without it every cataloger is loaded before the walk (streamed sources cannot pause mid-entry).
   */
  readonly awaitsFileSinks?: boolean;
}
