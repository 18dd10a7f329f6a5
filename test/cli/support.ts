/**
 * Drives the real `relay` CLI (`bin/relay.js`) as a child process: with arguments, an environment cleared
 * of the caller's relay settings, optional stdin, and either to its end (`runCli`) or while it runs
 * (`spawnCli`, for `watch`). `runInTty` runs it under a pseudo-terminal with util-linux `script`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repo (or worktree) root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RELAY_BIN = fileURLToPath(new URL('../../bin/relay.js', import.meta.url));

/** What a finished run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of a run. */
export interface CliOptions {
  /** Added to a clean environment (PATH, HOME, and no RELAY_*, ONEFICHIER_*, NO_COLOR, AWS_* of the caller). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Written to stdin, then stdin is closed (default: closed at once). */
  input?: string;
}

/** The caller's environment without anything that would steer the CLI. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(RELAY_|ONEFICHIER_|FICHIER_|NO_COLOR$|AWS_|XDG_CONFIG_HOME$|FORCE_COLOR$)/.test(k)) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts the CLI; the caller reads `output()` and ends it. */
export function spawnCli(
  args: string[],
  opts: CliOptions = {},
): {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  exited: Promise<CliResult>;
} {
  const child = spawn(process.execPath, [RELAY_BIN, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: cleanEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.stdin?.end(opts.input ?? '');
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Runs the CLI to its end. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, opts).exited;
}

/** Runs the CLI to its end and parses its stdout as JSON. */
export async function runCliJson<T = unknown>(
  args: string[],
  opts: CliOptions = {},
): Promise<{ code: number; json: T; stderr: string }> {
  const r = await runCli([...args, '--json'], opts);
  let json: T;
  try {
    json = JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(
      `relay ${args.join(' ')} --json printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`,
    );
  }
  return { code: r.code, json, stderr: r.stderr };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI under a pseudo-terminal (`script -qec <cmd> /dev/null`): stdout and stdin are a TTY, as in
 * a terminal. Returns everything the terminal received, and the CLI's exit code (`-e`).
 */
export function runInTty(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const cmd = [process.execPath, RELAY_BIN, ...args].map(shellQuote).join(' ');
  const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: cleanEnv({ TERM: 'xterm-256color', ...opts.env }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  // Kept open: `script` ends its session when its stdin ends.
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** An ANSI escape sequence (colour, line clear) anywhere in the text. */
export const ANSI = new RegExp(`${String.fromCharCode(27)}\\[`);
/** A foreground colour sequence (SGR 30-39). */
export const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[3\\dm`);
