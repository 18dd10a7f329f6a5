/**
 * Reading secrets without echoing them: a hidden prompt on a TTY (raw mode, nothing written back), or the
 * first line of stdin when it is piped.
 */

import { CliError, EXIT } from './errors.js';
import type { Io } from './output.js';

/** All of stdin as text. */
export async function readStdin(stdin: Io['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A secret: typed at a hidden prompt on a TTY, else the first line of stdin. Never echoed.
 * Fails with exit 2 when nothing was given.
 */
export async function readSecret(io: Io, prompt: string, what: string): Promise<string> {
  let value: string;
  if (io.stdin.isTTY && io.stdin.setRawMode) value = await hiddenPrompt(io, prompt);
  else value = (await readStdin(io.stdin)).split(/\r?\n/)[0] ?? '';
  value = value.trim();
  if (!value)
    throw new CliError(
      `no ${what} given`,
      EXIT.usage,
      `type it at the prompt, or pipe it: printf %s "$VALUE" | relay …`,
    );
  return value;
}

function hiddenPrompt(io: Io, prompt: string): Promise<string> {
  const { stdin, stderr } = io;
  stderr.write(prompt);
  stdin.setRawMode?.(true);
  stdin.resume();
  let value = '';
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      stdin.setRawMode?.(false);
      stdin.pause();
      stdin.off('data', onData);
      stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError('cancelled', EXIT.usage));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
