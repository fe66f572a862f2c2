/**
 * What every CLI command is: a name, help text, its flags, and a run function that takes parsed
 * flags and an IO object and returns an exit code. Commands never call process.exit themselves,
 * so tests run them in-process.
 */
import type { Writable } from 'node:stream';

export interface Io {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Reads a secret from the terminal; undefined when there is no terminal. */
  prompt?: (question: string) => Promise<string>;
}

export type FlagSpec = {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
  description: string;
  /** Shown in help as the value's name, e.g. FILE. */
  value?: string;
};

export type Flags = Record<string, FlagSpec>;

export type ParsedFlags = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  /** Words that select the command, e.g. ['log', 'serve']. */
  path: string[];
  summary: string;
  /** Positional arguments shown in the usage line, e.g. 'FILE'. */
  args?: string;
  flags: Flags;
  /** Extra help text after the flags. */
  details?: string;
  run(flags: ParsedFlags, positionals: string[], io: Io): Promise<number>;
}

/** A command known by its path, imported only when it is run (or when the full help list is printed). */
export interface CommandEntry {
  path: string[];
  load: () => Promise<Command>;
}

export const EXIT_OK = 0;
export const EXIT_VERIFY_FAILED = 1;
export const EXIT_USAGE = 2;
