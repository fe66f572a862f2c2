/** Runs sigil's CLI in-process with captured stdout/stderr (the real dispatcher and commands). */
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { commands } from '../../src/cli/registry.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

class Capture extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export async function runSigil(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli('sigil', commands, args, { stdout, stderr, env: { ...env }, cwd: process.cwd() });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
