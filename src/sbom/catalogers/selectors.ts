/**
 * Which files each cataloger reads, apart from how it reads them: these tests run for every file
 * of a scan, while a cataloger's parsing code is loaded only when one of its files turns up
 * (catalogers/index.ts; a Node project needs none of the OS, Go, Java or Python parsers, and
 * loading them was ~12 ms of every `sigil sbom` start, bench/README.md).
 */
import type { Capture, FileMeta } from './cataloger.js';
import { baseName, parentOf } from '../paths.js';

type Select = (f: FileMeta) => Capture | undefined;

export const selectApk: Select = (f) => (f.path === 'lib/apk/db/installed' ? { kind: 'bytes', max: 64 << 20 } : undefined);

export const selectCargo: Select = (f) => (baseName(f.path) === 'Cargo.lock' ? { kind: 'bytes', max: 32 << 20 } : undefined);

const DPKG_STATUS = 'var/lib/dpkg/status';
const DPKG_STATUS_D = 'var/lib/dpkg/status.d/';

export const selectDpkg: Select = (f) => {
  if (f.path === DPKG_STATUS) return { kind: 'bytes', max: 64 << 20 };
  if (f.path.startsWith(DPKG_STATUS_D) && !f.path.endsWith('.md5sums') && !f.path.slice(DPKG_STATUS_D.length).includes('/')) {
    return { kind: 'bytes', max: 16 << 20 };
  }
  if (f.path.startsWith('usr/share/doc/') && f.path.endsWith('/copyright') && f.path.split('/').length === 5) {
    return { kind: 'bytes', max: 8 << 20 };
  }
  return undefined;
};

/** Names that are never executables worth opening (tested before the mode, which may need a stat). */
const NOT_BINARY = /\.(js|cjs|mjs|ts|mts|cts|jsx|tsx|json|map|md|markdown|txt|css|scss|html?|ya?ml|toml|xml|svg|png|jpe?g|gif|py|pyc|rb|pl|pm|sh|bash|c|h|cc|cpp|hpp|go|rs|java|class|jar|properties|lock|gz|tgz|zip|conf|cfg|ini|log|csv|pem|crt|key|snap|d\.ts)$/i;

export const selectGoBinary: Select = (f) => (!NOT_BINARY.test(f.path) && (f.mode & 0o111) !== 0 && f.size >= 1024 ? { kind: 'random', maxBuffered: 0 } : undefined);

export const selectGoMod: Select = (f) => {
  const b = baseName(f.path);
  if ((b === 'go.mod' || b === 'go.sum') && !f.path.includes('/vendor/') && !f.path.startsWith('vendor/')) return { kind: 'bytes', max: 16 << 20 };
  return undefined;
};

export const JAVA_ARCHIVE_EXT = /\.(jar|war|ear|jpi|hpi|par|sar|nar|kar)$/i;
export const MAX_JAVA_ARCHIVE = 128 << 20;

export const selectJava: Select = (f) => (JAVA_ARCHIVE_EXT.test(f.path) ? { kind: 'random', maxBuffered: MAX_JAVA_ARCHIVE } : undefined);

export const selectPython: Select = (f) => {
  const p = f.path;
  const b = baseName(p);
  const dir = baseName(parentOf(p));
  if ((b === 'METADATA' && dir.endsWith('.dist-info')) || (b === 'PKG-INFO' && dir.endsWith('.egg-info'))) return { kind: 'bytes', max: 8 << 20 };
  if (b.endsWith('.egg-info')) return { kind: 'bytes', max: 8 << 20 };
  if (/^requirements.*\.txt$/.test(b) || b === 'poetry.lock') return { kind: 'bytes', max: 16 << 20 };
  return undefined;
};

const RPM_DBS = ['var/lib/rpm/rpmdb.sqlite', 'usr/lib/sysimage/rpm/rpmdb.sqlite'];

export const selectRpm: Select = (f) => {
  if (RPM_DBS.includes(f.path)) return { kind: 'bytes', max: 128 << 20 };
  // A non-empty write-ahead log holds transactions not yet in the main file: say so.
  if (RPM_DBS.some((p) => f.path === `${p}-wal`) && f.size > 0) return { kind: 'random', maxBuffered: 0 };
  return undefined;
};

export const selectYarn: Select = (f) => (baseName(f.path) === 'yarn.lock' && !f.path.includes('node_modules/') ? { kind: 'bytes', max: 64 << 20 } : undefined);

export const selectPnpm: Select = (f) => (baseName(f.path) === 'pnpm-lock.yaml' && !f.path.includes('node_modules/') ? { kind: 'bytes', max: 64 << 20 } : undefined);
