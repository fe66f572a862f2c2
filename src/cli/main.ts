/**
 * Command dispatch: finds the longest command path matching argv, parses its flags with
 * node:util parseArgs, prints help, and maps errors to exit codes (0 ok, 1 verification failed,
 * 2 bad usage or input). Never prints a stack trace for a SigilError.
 */
import { parseArgs } from 'node:util';
import { isSigilError } from '../core/errors.js';
import { EXIT_OK, EXIT_USAGE, EXIT_VERIFY_FAILED, type Command, type CommandEntry, type Io, type ParsedFlags } from './command.js';

export function formatHelp(prog: string, cmd: Command): string {
  const lines = [`Usage: ${prog} ${cmd.path.join(' ')}${Object.keys(cmd.flags).length ? ' [flags]' : ''}${cmd.args ? ' ' + cmd.args : ''}`, '', cmd.summary, ''];
  const entries = Object.entries(cmd.flags);
  if (entries.length) {
    lines.push('Flags:');
    for (const [name, spec] of entries) {
      const left = `  ${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
      const def = spec.default !== undefined && spec.default !== false ? ` (default ${String(spec.default)})` : '';
      lines.push(`${left.padEnd(44)} ${spec.description}${def}${spec.multiple ? ' (repeatable)' : ''}`);
    }
    lines.push(`  -h, --help${' '.repeat(34)} show this help`);
  }
  if (cmd.details) lines.push('', cmd.details);
  return lines.join('\n') + '\n';
}

export function formatCommandList(prog: string, commands: Command[]): string {
  const lines = [`Usage: ${prog} COMMAND [flags]`, '', 'Commands:'];
  for (const c of commands) lines.push(`  ${c.path.join(' ').padEnd(28)} ${c.summary}`);
  lines.push('', `Run '${prog} COMMAND --help' for a command's flags.`);
  return lines.join('\n') + '\n';
}

type AnyCommand = Command | CommandEntry;

async function loadCommand(c: AnyCommand): Promise<Command> {
  return 'run' in c ? c : c.load();
}

function findCommand<C extends AnyCommand>(commands: C[], argv: string[]): { cmd: C; rest: string[] } | undefined {
  let best: C | undefined;
  for (const c of commands) {
    if (c.path.every((w, i) => argv[i] === w) && (!best || c.path.length > best.path.length)) best = c;
  }
  return best ? { cmd: best, rest: argv.slice(best.path.length) } : undefined;
}

export async function runCli(prog: string, commands: AnyCommand[], argv: string[], io: Io): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(formatCommandList(prog, await Promise.all(commands.map(loadCommand))));
    return argv.length === 0 ? EXIT_USAGE : EXIT_OK;
  }
  if (argv[0] === '--version' || argv[0] === 'version') {
    io.stdout.write('sigil 0.1.0\n');
    return EXIT_OK;
  }
  const found = findCommand(commands, argv);
  if (!found) {
    io.stderr.write(`${prog}: unknown command '${argv.join(' ')}'. Run '${prog} --help' for the list.\n`);
    return EXIT_USAGE;
  }
  const { rest } = found;
  const cmd = await loadCommand(found.cmd);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(formatHelp(prog, cmd));
    return EXIT_OK;
  }
  let flags: ParsedFlags;
  let positionals: string[];
  try {
    const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
    for (const [name, spec] of Object.entries(cmd.flags)) {
      options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
    }
    const parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    flags = { ...parsed.values } as ParsedFlags;
    for (const [name, spec] of Object.entries(cmd.flags)) {
      if (flags[name] === undefined && spec.default !== undefined) flags[name] = spec.default;
    }
    positionals = parsed.positionals;
  } catch (e) {
    io.stderr.write(`${prog} ${cmd.path.join(' ')}: ${(e as Error).message}\nRun '${prog} ${cmd.path.join(' ')} --help' for usage.\n`);
    return EXIT_USAGE;
  }
  if (flags.output !== undefined && flags.output !== 'text' && flags.output !== 'json') {
    io.stderr.write(`${prog} ${cmd.path.join(' ')}: --output must be text or json\n`);
    return EXIT_USAGE;
  }
  try {
    return await cmd.run(flags, positionals, io);
  } catch (e) {
    if (isSigilError(e)) {
      io.stderr.write(`Error: ${e.toLine()}\n`);
      return e.kind === 'verification' ? EXIT_VERIFY_FAILED : EXIT_USAGE;
    }
    // A bug, not bad input: say so plainly, with the message but without a stack trace.
    io.stderr.write(`Error: internal error: ${(e as Error)?.message ?? String(e)} (please report this)\n`);
    if (io.env.SIGIL_DEBUG) io.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    return EXIT_USAGE;
  }
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
