/**
 * Package URLs (https://github.com/package-url/purl-spec) through packageurl-js, which does the
 * percent-encoding and per-type normalization. Distro packages carry the `distro` qualifier as
 * `<os-release ID>-<VERSION_ID>` (the purl-spec deb/rpm/apk examples), so the same package name in
 * Debian 11 and 12 gets different purls.
 */
import { PackageURL } from 'packageurl-js';
import type { OsIdentity } from './model.js';

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
  try {
    return new PackageURL(type, namespace, name, version, Object.keys(q).length ? q : undefined, subpath).toString();
  } catch {
    return undefined;
  }
}

export function distroQualifier(os: OsIdentity | undefined): string | undefined {
  if (!os) return undefined;
  return os.versionId ? `${os.id}-${os.versionId}` : os.id;
}
