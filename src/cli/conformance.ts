#!/usr/bin/env node
/**
 * `sigil-conformance`: the CLI the sigstore-conformance suite drives (docs/cli_protocol.md).
 * Each subcommand is one file under src/cli/conformance/; sign-bundle joins with keyless signing.
 */
import { runCli, processIo } from './main.js';
import type { Command } from './command.js';
import { conformanceVerifyBundle } from './conformance/verify-bundle.js';
import { conformanceSignBundle } from './conformance/sign-bundle.js';

const conformanceCommands: Command[] = [conformanceVerifyBundle, conformanceSignBundle];

process.exitCode = await runCli('sigil-conformance', conformanceCommands, process.argv.slice(2), processIo());
