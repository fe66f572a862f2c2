/**
 * npm packages of JavaScript projects: what is installed (`node_modules/<name>/package.json` and
 * `node_modules/@scope/<name>/package.json`, at any depth) and what the lockfile records
 * (`package-lock.json` / `npm-shrinkwrap.json` v1–v3, or the hidden `node_modules/.package-lock.json`).
 * When a project has node_modules, the installed packages are the truth (a lockfile also lists
 * optional packages for other platforms that were never installed) and the lockfile adds
 * integrity hashes and dev flags; without node_modules the lockfile is used alone.
 * Dependency edges follow Node's module resolution: from a package's directory upwards to the
 * nearest node_modules that holds the dependency.
 *
 * On a directory source, npm's hidden lockfile stands in for reading every package of
 * node_modules when npm itself would trust it (see `hiddenLockCurrent`): then the walk skips
 * node_modules, which holds most of a project's files. What the hidden lockfile lacks (author,
 * description, homepage of each package) is then missing from the SBOM; `--full-walk` reads them.
 */
import type { Cataloger, FileMeta, FsProbe } from './cataloger.js';
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
  /** Ships or builds native executables (`os`/`cpu` constraints or an install script). */
  native?: boolean;
}

/** What a hidden lockfile is good for: `trusted` once checked against node_modules on disk. */
type HiddenState = { malformed?: string; unsupported?: string; trusted?: boolean };

type NpmRecord =
  | { kind: 'manifest'; m: Manifest }
  | { kind: 'lock'; packages: LockPackage[]; root?: { name?: string; version?: string }; hidden?: HiddenState };

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

/** The top-level object of a JSON text: 'invalid' when the text is not JSON, undefined when it is JSON but no object. */
function jsonObject(text: string): Record<string, unknown> | 'invalid' | undefined {
  try {
    return obj(JSON.parse(text));
  } catch {
    return 'invalid';
  }
}

export function parsePackageJson(text: string): Manifest | undefined {
  const d = jsonObject(text);
  if (d === undefined || d === 'invalid') return undefined;
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
  const d = jsonObject(text);
  return d === undefined || d === 'invalid' ? undefined : lockFromDoc(d);
}

function lockFromDoc(d: Record<string, unknown>): { packages: LockPackage[]; root?: { name?: string; version?: string } } {
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
        ...(e.os !== undefined || e.cpu !== undefined || e.hasInstallScript === true ? { native: true } : {}),
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

/** `node_modules/<name>` or `node_modules/@scope/<name>`, nested through each package's node_modules. */
const INSTALL_PATH_RE = /^node_modules\/(?:@[^/]+\/)?[^/]+(?:\/node_modules\/(?:@[^/]+\/)?[^/]+)*$/;

/**
 * Whether a hidden lockfile (`node_modules/.package-lock.json`, written by npm ≥ 7) can describe
 * node_modules on its own. The file is input like any other, so it is checked strictly: a key that
 * is not an install path inside node_modules (`..`, absolute, empty segments) or an entry of the
 * wrong shape makes it `malformed` (a warning; node_modules is then read package by package).
 * Layouts the fast path does not cover (links, workspaces, npm's linked `.store`) are `unsupported`.
 */
function hiddenLockState(d: Record<string, unknown>): HiddenState {
  const v = d.lockfileVersion;
  if (v !== 2 && v !== 3) return { malformed: `lockfileVersion ${JSON.stringify(v) ?? 'missing'} (npm writes 2 or 3 here)` };
  const pk = d.packages;
  if (!obj(pk)) return { malformed: '"packages" is not an object' };
  const isMap = (x: unknown) => x === undefined || obj(x) !== undefined;
  const isBool = (x: unknown) => x === undefined || typeof x === 'boolean';
  let unsupported: string | undefined;
  for (const [key, value] of Object.entries(pk as Record<string, unknown>)) {
    const e = obj(value);
    if (!e) return { malformed: `entry "${key}" is not an object` };
    const segs = key.split('/');
    if (key.startsWith('/') || key.includes('\\') || key.includes('\0') || segs.some((x) => x === '' || x === '.' || x === '..')) {
      return { malformed: `entry "${key}" is not a path inside the project` };
    }
    if (!isBool(e.link)) return { malformed: `entry "${key}": flags must be booleans` };
    if (e.link === true) {
      unsupported ??= `link entry "${key}"`; // links carry no version; their targets are entries of their own
      continue;
    }
    if (typeof e.version !== 'string' || e.version === '') return { malformed: `entry "${key}" has no version` };
    if ((e.name !== undefined && typeof e.name !== 'string') || (e.license !== undefined && typeof e.license !== 'string')) {
      return { malformed: `entry "${key}": name and license must be strings` };
    }
    if (!isMap(e.dependencies) || !isMap(e.optionalDependencies) || !isMap(e.peerDependencies)) {
      return { malformed: `entry "${key}": dependencies must be objects` };
    }
    if (!isBool(e.dev) || !isBool(e.optional) || !isBool(e.devOptional) || !isBool(e.hasInstallScript)) {
      return { malformed: `entry "${key}": flags must be booleans` };
    }
    if (unsupported) continue;
    if (!INSTALL_PATH_RE.test(key)) unsupported = `entry "${key}" is not under node_modules`;
    else if (segs.some((x) => x.startsWith('.'))) unsupported = `entry "${key}" is in a hidden folder`;
  }
  return unsupported ? { unsupported } : {};
}

/**
 * npm's own rule for trusting its hidden lockfile (Arborist, shrinkwrap.js: the lockfile is used
 * instead of reading node_modules only when nothing there is newer than it and the two list the
 * same package folders): node_modules, every scope folder and every package folder must exist as
 * a directory with an mtime not after the lockfile's (+10 ms, npm's allowance for timestamp
 * jitter), every package folder found must be listed and every listed one found. A folder's mtime
 * changes when an entry is added, removed or renamed in it, which is how npm installs, removes and
 * updates packages. Any symlink among the packages (npm link, workspaces) falls back to the walk,
 * which does not follow symlinks either.
 */
export function hiddenLockCurrent(fs: FsProbe, lockPath: string, listed: ReadonlySet<string>): boolean {
  const lock = fs.lstat(lockPath);
  if (lock?.kind !== 'file') return false;
  const lockTime = lock.mtimeMs + 10;
  const nm = parentOf(lockPath);
  const prefix = nm.slice(0, nm.length - 'node_modules'.length); // '' or '<project>/'
  const seen = new Set<string>();
  const notNewerDir = (rel: string) => {
    const st = fs.lstat(prefix + rel);
    return st?.kind === 'dir' && st.mtimeMs <= lockTime;
  };
  const pkg = (rel: string): boolean => {
    if (!listed.has(rel) || !notNewerDir(rel)) return false;
    seen.add(rel);
    const nested = `${rel}/node_modules`;
    const st = fs.lstat(prefix + nested);
    if (st === undefined) return true;
    return st.kind === 'dir' && children(nested);
  };
  const children = (nmRel: string): boolean => {
    const entries = fs.list(prefix + nmRel);
    if (!entries) return false;
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // .bin, .cache, the lockfile itself
      if (e.kind === 'symlink') return false;
      if (e.kind !== 'dir') continue;
      const rel = `${nmRel}/${e.name}`;
      if (!e.name.startsWith('@')) {
        if (!pkg(rel)) return false;
        continue;
      }
      if (!notNewerDir(rel)) return false;
      for (const s of fs.list(prefix + rel) ?? []) {
        if (s.name.startsWith('.')) continue;
        if (s.kind === 'symlink') return false;
        if (s.kind === 'dir' && !pkg(`${rel}/${s.name}`)) return false;
      }
    }
    return true;
  };
  if (!notNewerDir('node_modules') || !children('node_modules')) return false;
  return seen.size === listed.size;
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

/** What a hidden lockfile entry says about an installed package (npm copies it from its package.json). */
function manifestOfLock(l: LockPackage): Manifest {
  return { name: l.name, version: l.version, ...(l.license ? { license: l.license } : {}), deps: l.deps, optionalDeps: [], peerDeps: [], devDeps: [] };
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
    const doc = jsonObject(text);
    if (doc === 'invalid') {
      ctx.warn('not valid JSON; skipped');
      return undefined;
    }
    if (!doc) {
      ctx.warn('not a JSON object; skipped');
      return undefined;
    }
    const hidden = f.path.endsWith('node_modules/.package-lock.json') ? { hidden: hiddenLockState(doc) } : {};
    return { kind: 'lock', ...lockFromDoc(doc), ...hidden };
  },
  claim(f, rec, fs, ctx) {
    if (rec.kind !== 'lock' || !rec.hidden) return undefined;
    if (rec.hidden.malformed) {
      ctx.warn(`hidden lockfile not used: ${rec.hidden.malformed}; reading node_modules package by package`);
      return undefined;
    }
    if (rec.hidden.unsupported || !hiddenLockCurrent(fs, f.path, new Set(rec.packages.map((p) => p.path)))) return undefined;
    const prefix = f.path.slice(0, f.path.length - 'node_modules/.package-lock.json'.length);
    // npm copies only a `license` string into the lockfile; a package declaring the legacy
    // `licenses` array has none there, so its package.json is read as the walk would.
    const packages = rec.packages.map((p) => {
      if (p.license) return p;
      const bytes = fs.read(`${prefix}${p.path}/package.json`, 4 << 20);
      const license = bytes ? parsePackageJson(bytes.toString('utf8'))?.license : undefined;
      return license ? { ...p, license } : p;
    });
    // Packages that ship or build executables stay visible to the binary catalogers.
    const visit = rec.packages.filter((p) => p.native).map((p) => prefix + p.path);
    return {
      record: { ...rec, packages, hidden: { trusted: true } },
      claim: { skip: [`${prefix}node_modules`, ...visit.map((v) => `${v}/node_modules`)], visit },
    };
  },
  finish(records, ctx): CatalogerOutput {
    // Group by project directory.
    const projects = new Map<
      string,
      { root?: Manifest; rootPath?: string; installed: Map<string, Manifest>; lock?: LockPackage[]; lockPath?: string; trusted?: LockPackage[] }
    >();
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
        if (rec.hidden?.trusted) p.trusted = rec.packages;
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
      // A hidden lockfile checked against the disk describes node_modules; the walk did not read it
      // (the few package.json files of packages visited for their executables are not used, so the
      // result does not depend on which packages those are).
      if (p.trusted) p.installed = new Map(p.trusted.map((l) => [l.path, manifestOfLock(l)]));
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
