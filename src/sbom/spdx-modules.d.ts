// Type declarations for the two SPDX helper packages, which ship no types of their own.
declare module 'spdx-expression-parse' {
  export type SpdxLicenseNode = { license: string; plus?: boolean; exception?: string };
  export type SpdxConjunctionNode = { left: SpdxNode; conjunction: 'and' | 'or'; right: SpdxNode };
  export type SpdxNode = SpdxLicenseNode | SpdxConjunctionNode;
  /** Parses an SPDX license expression; throws on anything that is not one. */
  export default function parse(expression: string): SpdxNode;
}

declare module 'spdx-correct' {
  /** Best-effort correction of a license name to an SPDX id; null when it has no guess. */
  export default function correct(identifier: string, options?: { upgrade?: boolean }): string | null;
}
