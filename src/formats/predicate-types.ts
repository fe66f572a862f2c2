/**
 * The `--type` names of cosign's attest / verify-attestation commands and the in-toto predicate
 * type URIs they stand for (cosign cmd/cosign/cli/options/predicate.go PredicateTypeMap), so a
 * script written for cosign picks the same predicateType with sigil. Any other value must itself
 * be an absolute URI and is used as given.
 */
import { SigilError } from '../core/errors.js';

export const PREDICATE_TYPES: Readonly<Record<string, string>> = {
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  cyclonedxxml: 'https://cyclonedx.org/bom',
  link: 'https://in-toto.io/Link/v1',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
};

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** Maps a `--type` value to its predicate type URI; throws USAGE for a value that is neither a known name nor an absolute URI. */
export function predicateTypeUri(type: string): string {
  const known = PREDICATE_TYPES[type];
  if (known !== undefined && Object.prototype.hasOwnProperty.call(PREDICATE_TYPES, type)) return known;
  let ok = SCHEME_RE.test(type) && !/\s/.test(type);
  if (ok) {
    try {
      new URL(type);
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    throw new SigilError('USAGE', `invalid predicate type ${JSON.stringify(type)}`, {
      hint: `use one of ${Object.keys(PREDICATE_TYPES).join(', ')} or an absolute URI`,
    });
  }
  return type;
}

/** The short name for a predicate type URI when there is one (first match in PREDICATE_TYPES), else the URI. */
export function predicateTypeName(uri: string): string {
  return Object.entries(PREDICATE_TYPES).find(([, u]) => u === uri)?.[0] ?? uri;
}
