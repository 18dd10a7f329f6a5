/**
 * Command specs over `node:util` `parseArgs`, and the help generated from them: each command declares its
 * options once, with a description, and `--help` prints them.
 */
import { parseArgs } from 'node:util';
import type { Connection } from './connection.js';
import { usageError } from './errors.js';
import type { Out } from './output.js';

/** One option of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in help, e.g. `<url>`. */
  value?: string;
  description: string;
}

/** What a command's `run` gets. */
export interface CommandContext {
  out: Out;
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** Resolves where to connect (lazily: `login` and `--dry-run` paths may not need it). */
  connect(): Promise<Connection>;
  /** Aborted on Ctrl-C (watch and follow end cleanly). */
  signal: AbortSignal;
}

/** A command: `relay <name> [args]`. */
export interface CommandSpec {
  /** `submit`, or `feeds add` for a group's subcommand. */
  name: string;
  summary: string;
  /** After the name in the usage line, e.g. `<url…>`. */
  args?: string;
  /** Longer help text. */
  details?: string;
  options?: Record<string, OptionSpec>;
  run(ctx: CommandContext): Promise<number>;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  api: {
    type: 'string',
    value: '<url>',
    description: 'relay API base URL (else RELAY_API_URL, the local relay, or the config file)',
  },
  token: {
    type: 'string',
    value: '<token>',
    description: 'client token (else RELAY_TOKEN, the local relay, or the config file)',
  },
  json: { type: 'boolean', description: 'print JSON for scripts (no colours, no progress)' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

/** A job id that begins with "-" (`jobIdFor`: 22 characters of base64url). */
const JOB_ID_LIKE = /^-[A-Za-z0-9_-]{21}$/;
/** Prefix that makes parseArgs take a token as a value; never typed (a NUL cannot be in argv). */
const VALUE_MARK = '\u0000';

/** Parses a command's arguments; unknown options and bad values are usage errors (exit 2). */
export function parseCommandArgs(
  spec: CommandSpec,
  argv: string[],
): { values: CommandContext['values']; positionals: string[] } {
  const options = { ...GLOBAL_OPTIONS, ...spec.options };
  // A job id is 22 base64url characters and 1 in 64 starts with "-": `relay status -Ab…` would otherwise be
  // read as options. Such a token (never one of our options) is marked as a value, then unmarked.
  const marked = argv.map((a) =>
    JOB_ID_LIKE.test(a) && !(a.startsWith('--') && a.slice(2) in options) ? `${VALUE_MARK}${a}` : a,
  );
  const unmark = (v: unknown): unknown =>
    typeof v === 'string' && v.startsWith(VALUE_MARK)
      ? v.slice(VALUE_MARK.length)
      : Array.isArray(v)
        ? v.map(unmark)
        : v;
  try {
    const parsed = parseArgs({
      args: marked,
      options: Object.fromEntries(
        Object.entries(options).map(([k, o]) => [
          k,
          { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
    return {
      values: Object.fromEntries(
        Object.entries(parsed.values).map(([k, v]) => [k, unmark(v)]),
      ) as CommandContext['values'],
      positionals: parsed.positionals.map((p) => unmark(p) as string),
    };
  } catch (err) {
    throw usageError((err as Error).message.split('\n')[0] ?? 'bad arguments', spec.name);
  }
}

/** The help of one command. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: relay ${spec.name}${spec.args ? ` ${spec.args}` : ''} [options]`, '', spec.summary];
  if (spec.details) lines.push('', spec.details);
  lines.push(
    '',
    'Options:',
    ...optionLines(spec.options ?? {}),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
  );
  return lines.join('\n');
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`;
    return [flag, `${o.description}${o.multiple ? ' (repeatable)' : ''}`] as const;
  });
  if (rows.length === 0) return ['  (none)'];
  const width = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

/** A string option's value, or undefined. */
export function str(values: CommandContext['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string option's values. */
export function strs(values: CommandContext['values'], name: string): string[] {
  const v = values[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

/** A non-negative integer option, or undefined; anything else is a usage error. */
export function intOption(
  values: CommandContext['values'],
  name: string,
  command: string,
  min = 0,
): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw usageError(`--${name} must be an integer >= ${min}, got "${v}"`, command);
  return Number(v);
}

/** A positive number of seconds (decimals allowed) as ms, or the default. */
export function secondsOption(
  values: CommandContext['values'],
  name: string,
  command: string,
  defMs: number,
): number {
  const v = str(values, name);
  if (v === undefined) return defMs;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw usageError(`--${name} must be a positive number of seconds, got "${v}"`, command);
  return Math.round(n * 1000);
}
