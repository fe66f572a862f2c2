/**
 * Where a key password comes from, in cosign's order: the environment (SIGIL_PASSWORD, then
 * cosign's COSIGN_PASSWORD, so the same CI secrets work), else a prompt on the terminal with echo
 * off. Without either there is nothing to ask: a clear error rather than a hang on a closed stdin.
 * An empty variable is an empty password (cosign allows empty passwords), not "unset".
 */
import { SigilError } from '../core/errors.js';
import type { Io } from './command.js';

export const PASSWORD_ENV = ['SIGIL_PASSWORD', 'COSIGN_PASSWORD'] as const;

export interface PasswordRequest {
  /** Shown in the prompt, e.g. "Enter password for private key: ". */
  prompt: string;
  /** Ask twice and require the same answer (creating a key). */
  confirm?: boolean;
}

export function passwordFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of PASSWORD_ENV) {
    const v = env[name];
    if (v !== undefined) return v;
  }
  return undefined;
}

export async function readPassword(io: Io, req: PasswordRequest): Promise<string> {
  const fromEnv = passwordFromEnv(io.env);
  if (fromEnv !== undefined) return fromEnv;
  const ask = io.prompt ?? terminalPrompt();
  if (!ask) {
    throw new SigilError('USAGE', 'a key password is needed but none was given and there is no terminal to ask on', {
      hint: 'set SIGIL_PASSWORD (or COSIGN_PASSWORD); it may be empty',
    });
  }
  const first = await ask(req.prompt);
  if (req.confirm) {
    const second = await ask('Enter password again: ');
    if (first !== second) throw new SigilError('USAGE', 'the two passwords differ', { hint: 'run the command again' });
  }
  return first;
}

/** A no-echo prompt on the controlling terminal, or undefined when stdin/stderr are not a TTY. */
function terminalPrompt(): ((question: string) => Promise<string>) | undefined {
  const stdin = process.stdin;
  if (!stdin.isTTY || !process.stderr.isTTY) return undefined;
  return (question) =>
    new Promise<string>((resolvePw, reject) => {
      process.stderr.write(question);
      const chars: string[] = [];
      stdin.setRawMode(true);
      stdin.resume();
      stdin.setEncoding('utf8');
      const done = (err?: Error) => {
        stdin.setRawMode(false);
        stdin.pause();
        stdin.removeListener('data', onData);
        process.stderr.write('\n');
        if (err) reject(err);
        else resolvePw(chars.join(''));
      };
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n') return done();
          if (ch === '\u0003') return done(new SigilError('USAGE', 'interrupted at the password prompt'));
          if (ch === '\u0004') return done();
          if (ch === '\u007f' || ch === '\b') chars.pop();
          else chars.push(ch);
        }
      };
      stdin.on('data', onData);
    });
}
