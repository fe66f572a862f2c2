/**
 * What catalogers report before the scan engine assigns document ids: packages keyed inside one
 * cataloger's output, the edges between them, and the operating system identity.
 */
import type { Checksum, PackageKind, Supplier } from '../formats/sbom-model.js';
import type { NormalizedLicense } from './license.js';

export interface FoundPackage {
  /** Unique inside one cataloger's output; dependency edges refer to it. */
  key: string;
  kind: PackageKind;
  name: string;
  version?: string;
  purl?: string;
  license?: NormalizedLicense;
  supplier?: Supplier;
  description?: string;
  homepage?: string;
  checksums?: Checksum[];
  /** Absolute paths inside the scanned filesystem (leading `/`). */
  locations: string[];
  properties?: Record<string, string>;
}

export interface FoundEdge {
  from: string;
  to: string;
  type: 'DEPENDS_ON' | 'DEV_DEPENDENCY_OF' | 'OPTIONAL_DEPENDENCY_OF';
}

/** `/etc/os-release` (os-release(5)). */
export interface OsIdentity {
  id: string;
  versionId?: string;
  versionCodename?: string;
  name?: string;
  prettyName?: string;
  idLike: string[];
  location: string;
}

export interface CatalogerOutput {
  packages: FoundPackage[];
  edges: FoundEdge[];
}

/** A problem with one file that did not stop the scan. */
export interface ScanWarning {
  path: string;
  message: string;
}
