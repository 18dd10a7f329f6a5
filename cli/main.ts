/**
 * The `relay` CLI: `relay <command> [subcommand] [options]` over the relay's public HTTP API, so it works
 * the same against `npm start` and a deployed stack. `bin/relay.js` runs this file through tsx.
 */
import { pathToFileURL } from 'node:url';
import { type CommandSpec, commandHelp, GLOBAL_OPTIONS, parseCommandArgs, str } from './args.js';
import { adminCommands } from './commands/admin.js';
import { feedCommands } from './commands/feeds.js';
import { jobCommands } from './commands/jobs.js';
import { keyCommands } from './commands/key.js';
import { loginCommands } from './commands/login.js';
import { notifyCommands } from './commands/notify.js';
import { tokenCommands } from './commands/tokens.js';
import { type Connection, resolveConnection } from './connection.js';
import { CliError, EXIT } from './errors.js';
import { createOut, type Io } from './output.js';

/** Every command, in help order. */
export const COMMANDS: CommandSpec[] = [
  ...jobCommands,
  ...feedCommands,
  ...tokenCommands,
  ...notifyCommands,
  ...keyCommands,
  ...adminCommands,
  ...loginCommands,
];

const EXIT_HELP = `Exit codes:
  0  ok
  1  a job failed (submit --follow, status), or the command could not do what was asked
  2  usage: bad arguments, or input the API refused
  3  auth: token missing, wrong, revoked or without the scope (key check: 1fichier refused the key)
  4  unreachable: no relay (or 1fichier) answered
  5  rate limited: wait and try again`;

/** `relay --help`. */
export function mainHelp(): string {
  const rows = COMMANDS.map((c) => [`${c.name}${c.args ? ` ${c.args}` : ''}`, c.summary] as const);
  const width = Math.max(...rows.map(([n]) => n.length));
  const globals = Object.entries(GLOBAL_OPTIONS).map(
    ([k, o]) => `  --${k}${o.value ? ` ${o.value}` : ''}`.padEnd(width + 4) + o.description,
  );
  return [
    'Usage: relay <command> [options]',
    '',
    'Drive fichier-relay from a terminal or a script: submit URLs, follow jobs, retry, feeds, tokens,',
    'notifications, the 1fichier key. Inside the repo it finds the local relay (`npm start`) by itself.',
    '',
    'Commands:',
    ...rows.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`),
    '',
    'Global options:',
    ...globals,
    '',
    'Connection: --api / RELAY_API_URL / the local relay of this checkout / `relay login`’s config file;',
    '            --token / RELAY_TOKEN likewise.',
    'Colours are off with NO_COLOR or when stdout is not a terminal; progress shows only on a terminal.',
    '',
    EXIT_HELP,
    '',
    'Run `relay <command> --help` for a command’s options.',
  ].join('\n');
}

/** Finds the command named by the first one or two words. */
function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | { group: string } | undefined {
  const [a, b] = argv;
  if (!a) return undefined;
  const two = COMMANDS.find((c) => c.name === `${a} ${b}`);
  if (two) return { spec: two, rest: argv.slice(2) };
  const one = COMMANDS.find((c) => c.name === a);
  if (one) return { spec: one, rest: argv.slice(1) };
  if (COMMANDS.some((c) => c.name.startsWith(`${a} `))) return { group: a };
  return undefined;
}

/** Runs the CLI; returns the exit code. Never throws. */
export async function run(
  argv: string[],
  io: Io,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  const wantsJson = argv.includes('--json');
  let out = createOut(io, wantsJson);
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      out.line(mainHelp());
      return argv.length === 0 ? EXIT.usage : EXIT.ok;
    }
    if (argv[0] === '--version') {
      out.line('relay (fichier-relay) 0.1.0');
      return EXIT.ok;
    }
    const found = findCommand(argv);
    if (!found)
      throw new CliError(`unknown command "${argv[0]}"`, EXIT.usage, 'see `relay --help` for the commands');
    if ('group' in found) {
      const subs = COMMANDS.filter((c) => c.name.startsWith(`${found.group} `)).map((c) =>
        c.name.slice(found.group.length + 1),
      );
      const asked = argv[1];
      if (asked === '--help' || asked === '-h' || asked === undefined) {
        out.line(`Usage: relay ${found.group} <${subs.join('|')}> [options]`);
        for (const c of COMMANDS.filter((x) => x.name.startsWith(`${found.group} `)))
          out.line(`  ${c.name.padEnd(16)} ${c.summary}`);
        return asked === undefined ? EXIT.usage : EXIT.ok;
      }
      throw new CliError(
        `unknown command "${found.group} ${asked}"`,
        EXIT.usage,
        `use one of: ${subs.map((s) => `relay ${found.group} ${s}`).join(', ')}`,
      );
    }
    const { spec, rest } = found;
    const { values, positionals } = parseCommandArgs(spec, rest);
    out = createOut(io, values.json === true);
    if (values.help) {
      out.line(commandHelp(spec));
      return EXIT.ok;
    }
    let conn: Connection | undefined;
    return await spec.run({
      out,
      values,
      positionals,
      signal,
      connect: async () => {
        conn ??= resolveConnection({ api: str(values, 'api'), token: str(values, 'token') }, io.env, io.cwd);
        return conn;
      },
    });
  } catch (err) {
    if (err instanceof CliError) {
      if (out.json)
        io.stdout.write(
          `${JSON.stringify({ error: { message: err.message, ...(err.code ? { code: err.code } : {}), ...(err.hint ? { hint: err.hint } : {}), exitCode: err.exitCode } })}\n`,
        );
      io.stderr.write(`relay: ${err.message}\n${err.hint ? `  → ${err.hint}\n` : ''}`);
      return err.exitCode;
    }
    io.stderr.write(
      `relay: unexpected error: ${(err as Error)?.stack ?? String(err)}\n  → please report it with the command you ran\n`,
    );
    return EXIT.failed;
  }
}

/** Entry point when run as a program (through bin/relay.js). */
export async function main(): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const argv = process.argv.slice(2);
  // `watch` and `--follow` end cleanly on the first Ctrl-C (their normal end); anything else, or a second
  // Ctrl-C, exits at once.
  const graceful = argv[0] === 'watch' || argv.includes('--follow');
  process.on('SIGINT', () => {
    if (!graceful || ++interrupts > 1) process.exit(130);
    controller.abort();
  });
  const code = await run(
    argv,
    {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      env: process.env,
      cwd: process.cwd(),
    },
    controller.signal,
  );
  process.exitCode = code;
  // Don't wait for idle keep-alive sockets.
  setTimeout(() => process.exit(code), 50).unref();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
