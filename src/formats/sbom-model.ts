/**
 * The format-neutral SBOM that sigil's catalogers produce and the SPDX 2.3 / CycloneDX 1.6 writers
 * serialize. It carries only what both formats can express, so each writer is a pure mapping and
 * the same scan gives equivalent documents in either format.
 */

/** Ecosystem of a package; drives the purl type, SPDX purpose and CycloneDX component type. */
export type PackageKind =
  | 'deb'
  | 'apk'
  | 'rpm'
  | 'npm'
  | 'golang'
  | 'pypi'
  | 'cargo'
  | 'maven'
  | 'operating-system'
  /** A release artifact or scanned source itself: a tarball, a binary, an image, a directory. */
  | 'archive'
  | 'container'
  | 'binary'
  | 'directory';

export type ChecksumAlgorithm = 'SHA1' | 'SHA256' | 'SHA512' | 'MD5';

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** Lower-case hex. */
  value: string;
}

export interface Supplier {
  kind: 'Person' | 'Organization';
  name: string;
  email?: string;
}

export interface SbomPackage {
  /**
   * Unique inside one document and stable across runs on the same input (derived from the purl or
   * from kind, name, version and location), so both writers can use it for SPDXID / bom-ref.
   */
  id: string;
  kind: PackageKind;
  name: string;
  version?: string;
  purl?: string;
  /** SPDX license expression; may contain `LicenseRef-…` ids declared in `SbomDocument.extractedLicenses`. */
  license?: string;
  supplier?: Supplier;
  description?: string;
  homepage?: string;
  checksums?: Checksum[];
  /** Paths (absolute inside the scanned filesystem, `/`-separated) where the package was found, sorted. */
  locations: string[];
  /** Extra facts as name → value, e.g. `sigil:arch`, `sigil:layer`; written sorted by name. */
  properties?: Record<string, string>;
}

export type RelationshipType = 'DESCRIBES' | 'CONTAINS' | 'DEPENDS_ON' | 'DEV_DEPENDENCY_OF' | 'OPTIONAL_DEPENDENCY_OF';

export interface SbomRelationship {
  /** Package id, or the reserved id `DOCUMENT`. */
  from: string;
  type: RelationshipType;
  to: string;
}

/** A license that is not on the SPDX list: referenced as `LicenseRef-<id>` in expressions. */
export interface ExtractedLicense {
  /** Full `LicenseRef-…` identifier. */
  id: string;
  name: string;
  text: string;
}

export interface SbomDocument {
  /** Document name: what was scanned (an image reference, a directory name, …). */
  name: string;
  /** Creation time; callers pass SOURCE_DATE_EPOCH or a flag for reproducible output. */
  created: Date;
  tool: { name: string; version: string };
  /** Ids of the packages the document describes (the scanned source(s)). */
  roots: string[];
  packages: SbomPackage[];
  relationships: SbomRelationship[];
  extractedLicenses: ExtractedLicense[];
}
