/** Every cataloger sigil runs by default, in the order their packages are reported. */
import type { Cataloger } from './cataloger.js';
import { dpkgCataloger } from './dpkg.js';
import { osReleaseCataloger } from './os-release.js';

export const DEFAULT_CATALOGERS: readonly Cataloger[] = [osReleaseCataloger, dpkgCataloger] as Cataloger[];

/** Catalogers by name, for `--catalogers` selection. */
export function selectCatalogers(names: string[] | undefined): readonly Cataloger[] {
  if (!names || names.length === 0) return DEFAULT_CATALOGERS;
  const wanted = new Set(names);
  return DEFAULT_CATALOGERS.filter((c) => wanted.has(c.name) || c === (osReleaseCataloger as Cataloger));
}
