/** Runs sigil's CLI in-process with captured stdout/stderr (the real dispatcher and commands). */
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { commands } from '../../src/cli/registry.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A Writable that keeps what is written, for asserting on a command's output. */
export class Capture extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export interface RunOptions {
  /** Working directory the command sees (default: the test process's). */
  cwd?: string;
  /** Answers to interactive prompts, in order; without it the command has no terminal. */
  answers?: string[];
}

export async function runSigil(args: string[], env: NodeJS.ProcessEnv = {}, options: RunOptions = {}): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const queue = options.answers ? [...options.answers] : undefined;
  const code = await runCli('sigil', commands, args, {
    stdout,
    stderr,
    env: { ...env },
    cwd: options.cwd ?? process.cwd(),
    ...(queue ? { prompt: async () => queue.shift() ?? '' } : {}),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
