/** Paths shared by tests: the repo root and the team's read-only corpus beside it. */
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CORPUS = process.env.SIGIL_CORPUS ?? join(REPO_ROOT, '..', 'shared', 'corpus');
export const corpusPath = (...p: string[]): string => join(CORPUS, ...p);
