/**
 * `sigil log monitor --url U --state FILE [--log-key PUB] [--origin NAME]` fetches the newest
 * checkpoint, checks its signature and that it extends the one recorded in FILE (consistency
 * proof), then records it. A rollback or fork exits 1 and leaves FILE untouched as evidence.
 * The first run pins the key (--log-key, else the one the log serves: trust on first use).
 */
import { existsSync, readFileSync } from 'node:fs';
import { SigilError } from '../../core/errors.js';
import { LogReader } from '../../services/log/reader.js';
import { monitorOnce, parseMonitorState } from '../../services/log/monitor.js';
import { EXIT_OK, type Command } from '../command.js';
import { outputFlag } from '../options.js';
import { resolveIn, writeFileAtomic } from '../files.js';
import { requireFlag, stringFlag } from '../signing-key.js';
import { logKey, logReadFlags, logUrl } from '../log-common.js';

export const logMonitorCommand: Command = {
  path: ['log', 'monitor'],
  summary: 'check that the log only grows: verify the newest checkpoint against the last one seen',
  flags: {
    ...logReadFlags,
    state: { type: 'string', description: 'state file holding the pinned key and last checkpoint', value: 'FILE' },
    ...outputFlag,
  },
  async run(flags, positionals, io) {
    if (positionals.length) throw new SigilError('USAGE', `unexpected argument ${positionals[0]}`);
    const url = logUrl(flags);
    const statePath = resolveIn(io, requireFlag(flags, 'state', 'give a file to keep the monitor state in, e.g. --state log-monitor.json'));
    const state = existsSync(statePath) ? parseMonitorState(readFileSync(statePath, 'utf8')) : undefined;
    if (state && state.url !== url.replace(/\/+$/, '')) {
      throw new SigilError('USAGE', `${statePath} monitors ${state.url}, not ${url}`, { hint: 'use one state file per log' });
    }
    const pinned = logKey(io, flags);
    const origin = stringFlag(flags, 'origin');
    const r = await monitorOnce(new LogReader(url), state, { ...(pinned ? { publicKey: pinned } : {}), ...(origin ? { origin } : {}) });
    writeFileAtomic(statePath, JSON.stringify(r.state, null, 2) + '\n');
    const out = { url: r.state.url, origin: r.state.origin, previousSize: r.previousSize ?? null, size: r.size, firstRun: state === undefined };
    if (flags.output === 'json') io.stdout.write(JSON.stringify(out) + '\n');
    else
      io.stdout.write(
        state === undefined
          ? `Pinned ${out.origin} at tree size ${r.size} (key ${pinned ? 'from --log-key' : 'from the log, trust on first use'})\n`
          : `OK: ${out.origin} grew from ${String(r.previousSize)} to ${r.size} consistently\n`,
      );
    return EXIT_OK;
  },
};
