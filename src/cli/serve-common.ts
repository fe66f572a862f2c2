/**
 * What the keyless service commands (`up`, `ca serve`, `tsa serve`, `oidc serve`, `oidc token`)
 * share: the state directory, address flags, and running until SIGINT/SIGTERM.
 */
import { isAbsolute, resolve } from 'node:path';
import { SigilError } from '../core/errors.js';
import { DEFAULT_STATE_DIR } from '../services/state.js';
import type { Flags, Io, ParsedFlags } from './command.js';

export const stateFlag: Flags = {
  state: { type: 'string', description: `state directory with keys, databases and published trust files (default ${DEFAULT_STATE_DIR})`, value: 'DIR' },
};

export function addressFlags(defaultPort: number): Flags {
  return {
    host: { type: 'string', description: 'address to listen on', value: 'HOST', default: '127.0.0.1' },
    port: { type: 'string', description: `port to listen on (0 = any free port)`, value: 'PORT', default: String(defaultPort) },
  };
}

export function stateDirOf(io: Io, flags: ParsedFlags): string {
  const s = typeof flags.state === 'string' && flags.state !== '' ? flags.state : DEFAULT_STATE_DIR;
  return isAbsolute(s) ? s : resolve(io.cwd, s);
}

export function portOf(flags: ParsedFlags): number {
  const p = String(flags.port ?? '');
  if (!/^\d{1,5}$/.test(p) || Number(p) > 65535) throw new SigilError('USAGE', `--port must be a number from 0 to 65535, got ${JSON.stringify(p)}`);
  return Number(p);
}

export function hostOf(flags: ParsedFlags): string {
  return typeof flags.host === 'string' && flags.host !== '' ? flags.host : '127.0.0.1';
}

/** Resolves on SIGINT or SIGTERM (then the caller closes its servers and returns 0). */
export function waitForShutdown(): Promise<string> {
  return new Promise((resolveSignal) => {
    const stop = (sig: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveSignal(sig);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
