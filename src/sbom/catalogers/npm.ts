/**
 * npm packages of JavaScript projects: what is installed (`node_modules/<name>/package.json` and
 * `node_modules/@scope/<name>/package.json`, at any depth) and what the lockfile records
 * (`package-lock.json` / `npm-shrinkwrap.json` v1–v3, or the hidden `node_modules/.package-lock.json`).
 * When a project has node_modules, the installed packages are the truth (a lockfile also lists
 * optional packages for other platforms that were never installed) and the lockfile adds
 * integrity hashes and dev flags; without node_modules the lockfile is used alone.
 * Dependency edges follow Node's module resolution: from a package's directory upwards to the
 * nearest node_modules that holds the dependency.
 */
import type { Cataloger, FileMeta } from './cataloger.js';
import { wholeContent } from './cataloger.js';
import type { CatalogerOutput, FoundEdge, FoundPackage } from '../model.js';
import type { Checksum, Supplier } from '../../formats/sbom-model.js';
import { normalizeLicenses } from '../license.js';
import { parentOf } from '../paths.js';
import { purl } from '../purl.js';

interface Manifest {
  name?: string;
  version?: string;
  license?: string;
  author?: Supplier;
  homepage?: string;
  description?: string;
  deps: string[];
  optionalDeps: string[];
  /** Peer dependencies resolve to what the installing project provides (npm ≥ 7 installs them). */
  peerDeps: string[];
  devDeps: string[];
}

interface LockPackage {
  /** Install path relative to the project, e.g. `node_modules/a/node_modules/b`. */
  path: string;
  name: string;
  version: string;
  integrity?: string;
  resolved?: string;
  license?: string;
  dev: boolean;
  optional: boolean;
  deps: string[];
}

type NpmRecord = { kind: 'manifest'; m: Manifest } | { kind: 'lock'; packages: LockPackage[]; root?: { name?: string; version?: string } };

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function licenseOf(doc: Record<string, unknown>): string | undefined {
  const l = doc.license;
  if (typeof l === 'string') return l;
  const lo = obj(l);
  if (lo && typeof lo.type === 'string') return lo.type;
  if (Array.isArray(doc.licenses)) {
    const types = doc.licenses.map((x) => (typeof x === 'string' ? x : str(obj(x)?.type))).filter((x): x is string => !!x);
    if (types.length) return types.length === 1 ? types[0] : `(${types.join(' OR ')})`;
  }
  return undefined;
}

/** `author`: "Name <email> (url)" or {name, email}. */
function authorOf(v: unknown): Supplier | undefined {
  if (typeof v === 'string') {
    const m = /^\s*([^<(]*?)\s*(?:<([^>]*)>)?\s*(?:\(([^)]*)\))?\s*$/.exec(v);
    const name = m?.[1]?.trim();
    return name ? { kind: 'Person', name, ...(m?.[2] ? { email: m[2] } : {}) } : undefined;
  }
  const o = obj(v);
  const name = str(o?.name);
  return name ? { kind: 'Person', name, ...(str(o?.email) ? { email: str(o?.email)! } : {}) } : undefined;
}

const keysOf = (v: unknown): string[] => Object.keys(obj(v) ?? {});

export function parsePackageJson(text: string): Manifest | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const d = obj(doc);
  if (!d) return undefined;
  const homepage = str(d.homepage);
  const author = authorOf(d.author);
  return {
    ...(str(d.name) ? { name: str(d.name) } : {}),
    ...(str(d.version) ? { version: str(d.version) } : {}),
    ...(licenseOf(d) ? { license: licenseOf(d) } : {}),
    ...(author ? { author } : {}),
    ...(homepage ? { homepage } : {}),
    ...(str(d.description) ? { description: str(d.description)!.slice(0, 300) } : {}),
    deps: keysOf(d.dependencies),
    optionalDeps: keysOf(d.optionalDependencies),
    peerDeps: keysOf(d.peerDependencies),
    devDeps: keysOf(d.devDependencies),
  };
}

/** Name of the package installed at a lockfile/node_modules path: the part after the last node_modules/. */
function nameFromPath(p: string): string | undefined {
  const i = p.lastIndexOf('node_modules/');
  return i < 0 ? undefined : p.slice(i + 'node_modules/'.length);
}

/** package-lock.json v1 (`dependencies` tree), v2/v3 (`packages` map keyed by install path). */
export function parsePackageLock(text: string): { packages: LockPackage[]; root?: { name?: string; version?: string } } | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const d = obj(doc);
  if (!d) return undefined;
  const out: LockPackage[] = [];
  const pk = obj(d.packages);
  if (pk) {
    for (const [path, v] of Object.entries(pk)) {
      const e = obj(v);
      if (!e || path === '' || e.link === true) continue;
      const name = str(e.name) ?? nameFromPath(path);
      const version = str(e.version);
      if (!name || !version || !path.includes('node_modules/')) continue;
      out.push({
        path,
        name,
        version,
        ...(str(e.integrity) ? { integrity: str(e.integrity) } : {}),
        ...(str(e.resolved) ? { resolved: str(e.resolved) } : {}),
        ...(licenseOf(e) ? { license: licenseOf(e) } : {}),
        dev: e.dev === true || e.devOptional === true,
        optional: e.optional === true,
        deps: [...keysOf(e.dependencies), ...keysOf(e.optionalDependencies), ...keysOf(e.peerDependencies)],
      });
    }
  } else {
    const walk = (deps: Record<string, unknown>, prefix: string, depth: number): void => {
      if (depth > 64) return;
      for (const [name, v] of Object.entries(deps)) {
        const e = obj(v);
        const version = str(e?.version);
        if (!e || !version) continue;
        const path = `${prefix}node_modules/${name}`;
        out.push({
          path,
          name,
          version,
          ...(str(e.integrity) ? { integrity: str(e.integrity) } : {}),
          ...(str(e.resolved) ? { resolved: str(e.resolved) } : {}),
          dev: e.dev === true,
          optional: e.optional === true,
          deps: keysOf(e.requires),
        });
        const nested = obj(e.dependencies);
        if (nested) walk(nested, `${path}/`, depth + 1);
      }
    };
    const deps = obj(d.dependencies);
    if (deps) walk(deps, '', 0);
  }
  return { packages: out, root: { ...(str(d.name) ? { name: str(d.name) } : {}), ...(str(d.version) ? { version: str(d.version) } : {}) } };
}

/** Subresource Integrity (`sha512-<base64>`) → checksum. */
function integrityChecksums(sri: string | undefined): Checksum[] | undefined {
  if (!sri) return undefined;
  const out: Checksum[] = [];
  for (const part of sri.split(/\s+/)) {
    const m = /^(sha1|sha256|sha512)-([A-Za-z0-9+/=]+)$/.exec(part);
    if (!m) continue;
    const hex = Buffer.from(m[2]!, 'base64').toString('hex');
    const alg = m[1] === 'sha1' ? 'SHA1' : m[1] === 'sha256' ? 'SHA256' : 'SHA512';
    const len = alg === 'SHA1' ? 40 : alg === 'SHA256' ? 64 : 128;
    if (hex.length === len) out.push({ algorithm: alg, value: hex });
  }
  return out.length ? out : undefined;
}

function npmPurl(name: string, version: string | undefined): string | undefined {
  if (name.startsWith('@')) {
    const i = name.indexOf('/');
    return i > 0 ? purl('npm', name.slice(0, i), name.slice(i + 1), version) : undefined;
  }
  return purl('npm', undefined, name, version);
}

/** Node's lookup: `<dir>/node_modules/<dep>`, then each enclosing package's node_modules, then the project's. */
function resolveDep(fromPath: string, dep: string, installed: ReadonlySet<string>): string | undefined {
  let dir = fromPath;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${dep}` : `node_modules/${dep}`;
    if (installed.has(candidate)) return candidate;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

const MANIFEST_RE = /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/;

function projectOf(path: string): string {
  const i = path.indexOf('node_modules/');
  return i <= 0 ? '' : path.slice(0, i - 1);
}

export const npmCataloger: Cataloger<NpmRecord> = {
  name: 'npm',
  select(f: FileMeta) {
    const p = f.path;
    if (p.endsWith('/package.json') || p === 'package.json') {
      if (MANIFEST_RE.test(p) || !p.includes('node_modules/')) return { kind: 'bytes', max: 4 << 20 };
      return undefined;
    }
    if ((p.endsWith('package-lock.json') || p.endsWith('npm-shrinkwrap.json')) && !p.includes('node_modules/')) return { kind: 'bytes', max: 64 << 20 };
    if (p.endsWith('node_modules/.package-lock.json') && (p.match(/node_modules\//g) ?? []).length === 1) return { kind: 'bytes', max: 64 << 20 };
    return undefined;
  },
  parse(f, content, ctx) {
    const text = wholeContent(content).toString('utf8');
    if (f.path.endsWith('package.json')) {
      const m = parsePackageJson(text);
      if (!m) ctx.warn('not valid JSON; skipped');
      return m ? { kind: 'manifest', m } : undefined;
    }
    const lock = parsePackageLock(text);
    if (!lock) ctx.warn('not valid JSON; skipped');
    return lock ? { kind: 'lock', ...lock } : undefined;
  },
  finish(records, ctx): CatalogerOutput {
    // Group by project directory.
    const projects = new Map<string, { root?: Manifest; rootPath?: string; installed: Map<string, Manifest>; lock?: LockPackage[]; lockPath?: string }>();
    const proj = (dir: string) => {
      let p = projects.get(dir);
      if (!p) projects.set(dir, (p = { installed: new Map() }));
      return p;
    };
    for (const [path, rec] of records) {
      if (rec.kind === 'manifest') {
        if (path.includes('node_modules/')) {
          const dir = projectOf(path);
          const rel = dir ? path.slice(dir.length + 1) : path;
          proj(dir).installed.set(parentOf(rel), rec.m);
        } else {
          const p = proj(parentOf(path));
          p.root = rec.m;
          p.rootPath = path;
        }
      } else {
        const hidden = path.endsWith('node_modules/.package-lock.json');
        const dir = hidden ? projectOf(path) : parentOf(path);
        const p = proj(dir);
        // A real lockfile wins over the hidden one.
        if (!p.lock || !hidden) {
          p.lock = rec.packages;
          p.lockPath = path;
        }
      }
    }
    const packages: FoundPackage[] = [];
    const edges: FoundEdge[] = [];
    for (const [dir, p] of [...projects].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const abs = (rel: string) => `/${dir ? `${dir}/` : ''}${rel}`;
      const lockByPath = new Map((p.lock ?? []).map((l) => [l.path, l]));
      const useInstalled = p.installed.size > 0;
      const installedPaths = new Set(useInstalled ? p.installed.keys() : lockByPath.keys());
      const keyOf = (installPath: string) => `${dir}#${installPath}`;
      for (const installPath of [...installedPaths].sort()) {
        const m = useInstalled ? p.installed.get(installPath)! : undefined;
        const l = lockByPath.get(installPath);
        const name = m?.name ?? l?.name ?? nameFromPath(installPath);
        const version = m?.version ?? l?.version;
        if (!name || !version) {
          ctx.warn(abs(`${installPath}/package.json`), 'package.json without name or version; skipped');
          continue;
        }
        const lic = normalizeLicenses([m?.license ?? l?.license].filter((x): x is string => !!x));
        const sums = integrityChecksums(l?.integrity);
        packages.push({
          key: keyOf(installPath),
          kind: 'npm',
          name,
          version,
          purl: npmPurl(name, version),
          ...(lic ? { license: lic } : {}),
          ...(m?.author ? { supplier: m.author } : {}),
          ...(m?.description ? { description: m.description } : {}),
          ...(m?.homepage ? { homepage: m.homepage } : {}),
          ...(sums ? { checksums: sums } : {}),
          locations: [useInstalled ? abs(`${installPath}/package.json`) : `/${p.lockPath!}`],
          properties: {
            ...(l?.dev ? { 'sigil:npm-dev': 'true' } : {}),
            ...(l?.optional ? { 'sigil:npm-optional': 'true' } : {}),
            ...(l?.resolved ? { 'sigil:npm-resolved': l.resolved } : {}),
          },
        });
      }
      const depsOf = (installPath: string): string[] => {
        const m = useInstalled ? p.installed.get(installPath) : undefined;
        return m ? [...m.deps, ...m.optionalDeps, ...m.peerDeps] : (lockByPath.get(installPath)?.deps ?? []);
      };
      for (const installPath of installedPaths) {
        for (const dep of new Set(depsOf(installPath))) {
          const target = resolveDep(installPath, dep, installedPaths);
          if (target && target !== installPath) edges.push({ from: keyOf(installPath), to: keyOf(target), type: 'DEPENDS_ON' });
        }
      }
      if (p.root?.name) {
        const rootKey = `${dir}#`;
        const rootLicense = p.root.license ? normalizeLicenses([p.root.license]) : undefined;
        packages.push({
          key: rootKey,
          kind: 'npm',
          name: p.root.name,
          ...(p.root.version ? { version: p.root.version } : {}),
          purl: npmPurl(p.root.name, p.root.version),
          ...(rootLicense ? { license: rootLicense } : {}),
          locations: [`/${p.rootPath!}`],
          properties: { 'sigil:npm-project-root': 'true' },
        });
        for (const dep of new Set([...p.root.deps, ...p.root.optionalDeps])) {
          const target = resolveDep('', dep, installedPaths);
          if (target) edges.push({ from: rootKey, to: keyOf(target), type: 'DEPENDS_ON' });
        }
        for (const dep of new Set(p.root.devDeps)) {
          const target = resolveDep('', dep, installedPaths);
          if (target) edges.push({ from: keyOf(target), to: rootKey, type: 'DEV_DEPENDENCY_OF' });
        }
      }
    }
    return { packages, edges };
  },
};
