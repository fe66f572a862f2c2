/**
 * Package URLs (https://github.com/package-url/purl-spec). packageurl-js does the percent-encoding
 * and per-type normalization; it is loaded only for components that need either. Most purls of a
 * scan (npm, deb, apk, rpm, cargo, pypi, maven names and versions made of letters, digits and
 * `.-_+~:`) are written directly: for those every normalization and encoding step of the spec is
 * the identity (apart from npm's `@` scope, which becomes `%40`), and test/sbom/purl.test.ts holds
 * the direct form to the library's output. Loading the library costs ~10–15 ms (it builds an
 * Intl.Collator at import), a tenth of a `sigil sbom` run on a Node project (bench/README.md).
 *
 * Distro packages carry the `distro` qualifier as `<os-release ID>-<VERSION_ID>` (the purl-spec
 * deb/rpm/apk examples), so the same package name in Debian 11 and 12 gets different purls.
 */
import { createRequire } from 'node:module';
import type { PackageURL as PackageURLClass } from 'packageurl-js';
import type { OsIdentity } from './model.js';

let PackageURL: typeof PackageURLClass | undefined;

/** The same purl through packageurl-js (also the reference the direct form is tested against). */
export function purlViaLibrary(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
  qualifiers?: Record<string, string>,
  subpath?: string,
): string | undefined {
  // CommonJS: `require` spares the ESM loader's scan of its sources for exports.
  PackageURL ??= (createRequire(import.meta.url)('packageurl-js') as { PackageURL: typeof PackageURLClass }).PackageURL;
  try {
    return new PackageURL(type, namespace, name, version, qualifiers && Object.keys(qualifiers).length ? qualifiers : undefined, subpath).toString();
  } catch {
    return undefined;
  }
}

/** Types whose rules the direct form knows: whether name and namespace must be lower case. */
const DIRECT_TYPES: Record<string, { lowerName: boolean; lowerNamespace: boolean }> = {
  npm: { lowerName: true, lowerNamespace: true },
  deb: { lowerName: true, lowerNamespace: true },
  apk: { lowerName: true, lowerNamespace: true },
  rpm: { lowerName: false, lowerNamespace: true },
  cargo: { lowerName: false, lowerNamespace: false },
  pypi: { lowerName: true, lowerNamespace: true },
  maven: { lowerName: false, lowerNamespace: false },
};

// Characters that no encoder of the spec changes in that component (RFC 3986 unreserved, minus
// `~` where form encoding of qualifiers would escape it; versions keep `:` and `+`).
const NAME_CHARS = /^[A-Za-z0-9._~-]+$/;
const NAMESPACE_CHARS = /^@?[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;
const VERSION_CHARS = /^[A-Za-z0-9._~:+-]+$/;
const QUALIFIER_KEY = /^[a-z._-][a-z0-9._-]*$/;
const QUALIFIER_VALUE = /^[A-Za-z0-9._-]+$/;

function direct(type: string, namespace: string | undefined, name: string, version: string | undefined, q: Record<string, string>): string | undefined {
  const rules = DIRECT_TYPES[type];
  if (!rules || !NAME_CHARS.test(name) || (rules.lowerName && name !== name.toLowerCase())) return undefined;
  if (type === 'pypi' && name.includes('_')) return undefined; // normalized to '-'
  if (type === 'maven' && !namespace) return undefined; // required: the library refuses it
  if (namespace) {
    if (!NAMESPACE_CHARS.test(namespace) || (rules.lowerNamespace && namespace !== namespace.toLowerCase())) return undefined;
    if (namespace.startsWith('@') && type !== 'npm') return undefined;
  }
  if (version && !VERSION_CHARS.test(version)) return undefined;
  const keys = Object.keys(q).sort();
  if (keys.some((k) => !QUALIFIER_KEY.test(k) || !QUALIFIER_VALUE.test(q[k]!))) return undefined;
  const ns = namespace ? `${namespace.startsWith('@') ? `%40${namespace.slice(1)}` : namespace}/` : '';
  const qs = keys.length ? `?${keys.map((k) => `${k}=${q[k]!}`).join('&')}` : '';
  return `pkg:${type}/${ns}${name}${version ? `@${version}` : ''}${qs}`;
}

export function purl(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
  qualifiers?: Record<string, string | undefined>,
  subpath?: string,
): string | undefined {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(qualifiers ?? {})) if (v) q[k] = v;
  return (subpath ? undefined : direct(type, namespace || undefined, name, version || undefined, q)) ?? purlViaLibrary(type, namespace, name, version, q, subpath);
}

export function distroQualifier(os: OsIdentity | undefined): string | undefined {
  if (!os) return undefined;
  return os.versionId ? `${os.id}-${os.versionId}` : os.id;
}
