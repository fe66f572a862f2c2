#!/usr/bin/env node
import { runCli, processIo } from './main.js';
import { commands } from './registry.js';

process.exitCode = await runCli('sigil', commands, process.argv.slice(2), processIo());
