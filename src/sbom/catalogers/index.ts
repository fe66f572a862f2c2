/**
 * Every cataloger sigil runs by default. os-release and npm are loaded with this module; the others
 * load when a file they select turns up (a Node project needs none of them: ~12 ms of start-up).
 */
import type { Cataloger, CatalogerRef, LazyCataloger } from './cataloger.js';
import { npmCataloger } from './npm.js';
import { osReleaseCataloger } from './os-release.js';
import { selectApk, selectCargo, selectDpkg, selectGoBinary, selectGoMod, selectJava, selectPnpm, selectPython, selectRpm, selectYarn } from './selectors.js';

function lazy<R>(name: string, select: LazyCataloger['select'], load: () => Promise<Cataloger<R>>): LazyCataloger {
  // The view keeps each cataloger's records apart, so the record type is erased here as in the list.
  return { name, select, load: load as unknown as () => Promise<Cataloger> };
}

export const DEFAULT_CATALOGERS: readonly CatalogerRef[] = [
  osReleaseCataloger as Cataloger,
  lazy('dpkg', selectDpkg, async () => (await import('./dpkg.js')).dpkgCataloger),
  lazy('apk', selectApk, async () => (await import('./apk.js')).apkCataloger),
  lazy('rpm', selectRpm, async () => (await import('./rpm.js')).rpmCataloger),
  npmCataloger as Cataloger,
  lazy('yarn', selectYarn, async () => (await import('./yarn.js')).yarnCataloger),
  lazy('pnpm', selectPnpm, async () => (await import('./pnpm.js')).pnpmCataloger),
  lazy('go-mod', selectGoMod, async () => (await import('./go-mod.js')).goModCataloger),
  lazy('go-binary', selectGoBinary, async () => (await import('./go-binary.js')).goBinaryCataloger),
  lazy('python', selectPython, async () => (await import('./python.js')).pythonCataloger),
  lazy('cargo', selectCargo, async () => (await import('./cargo.js')).cargoCataloger),
  lazy('java', selectJava, async () => (await import('./java.js')).javaCataloger),
];
