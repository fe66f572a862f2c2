/** `sigil demo`: placeholder replaced below once signing exists. */
import type { Command } from '../command.js';

export const demoCommand: Command = {
  path: ['demo'],
  summary: 'end-to-end demo: generate a key, sign a file, verify it, tamper with it, watch verification fail',
  flags: {},
  async run(_flags, _pos, io) {
    io.stdout.write('demo\n');
    return 0;
  },
};
