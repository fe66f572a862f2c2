/** Every cataloger sigil runs by default. */
import type { Cataloger } from './cataloger.js';
import { apkCataloger } from './apk.js';
import { cargoCataloger } from './cargo.js';
import { dpkgCataloger } from './dpkg.js';
import { goBinaryCataloger } from './go-binary.js';
import { goModCataloger } from './go-mod.js';
import { javaCataloger } from './java.js';
import { npmCataloger } from './npm.js';
import { osReleaseCataloger } from './os-release.js';
import { pnpmCataloger } from './pnpm.js';
import { pythonCataloger } from './python.js';
import { rpmCataloger } from './rpm.js';
import { yarnCataloger } from './yarn.js';

export const DEFAULT_CATALOGERS: readonly Cataloger[] = [
  osReleaseCataloger,
  dpkgCataloger,
  apkCataloger,
  rpmCataloger,
  npmCataloger,
  yarnCataloger,
  pnpmCataloger,
  goModCataloger,
  goBinaryCataloger,
  pythonCataloger,
  cargoCataloger,
  javaCataloger,
] as Cataloger[];
