/** `relay login`: checks a URL and token against the API, then writes the config file (0600). */
import { RelayApi } from '../api.js';
import { type CommandContext, type CommandSpec, str } from '../args.js';
import { type CliConfig, readConfig, resolveConnection, writeConfig } from '../connection.js';
import { CliError, EXIT } from '../errors.js';
import { readSecret } from '../prompt.js';

async function login(ctx: CommandContext): Promise<number> {
  const { io } = ctx.out;
  const apiFlag = str(ctx.values, 'api') ?? ctx.positionals[0];
  // The URL as the other commands would find it, unless given; the token is asked for unless given.
  const base = resolveConnection(
    {
      ...(apiFlag ? { api: apiFlag } : {}),
      ...(str(ctx.values, 'token') ? { token: str(ctx.values, 'token') } : {}),
    },
    io.env,
    io.cwd,
  );
  const token =
    str(ctx.values, 'token') ??
    (io.stdin.isTTY || !base.token ? await readSecret(io, 'Relay token (hidden): ', 'token') : base.token);
  const api = new RelayApi({ apiUrl: base.apiUrl, token, source: base.source });
  // An authenticated read proves the token: 401 → exit 3 with the hint; 403 is a known token whose
  // scope cannot list jobs (a submit-only token), which is still a valid login.
  let note = '';
  try {
    await api.request({ path: '/jobs', query: { limit: 1 } });
  } catch (err) {
    if (!(err instanceof CliError) || err.httpStatus !== 403) throw err;
    note = ' (this token cannot list jobs: its scope is narrower than read)';
  }
  const config: CliConfig = { ...readConfig(io.env), apiUrl: base.apiUrl, token };
  const secret = str(ctx.values, 'secret');
  if (secret) config.secretName = secret;
  const user = str(ctx.values, 'user') ?? (base.source === 'local' ? base.local?.user : undefined);
  if (user) config.user = user;
  else if (config.apiUrl !== readConfig(io.env).apiUrl) delete config.user;
  const file = writeConfig(io.env, config);
  if (ctx.out.json)
    ctx.out.printJson({
      apiUrl: base.apiUrl,
      config: file,
      ...(config.secretName ? { secretName: config.secretName } : {}),
    });
  else ctx.out.line(`Logged in to ${base.apiUrl}${note}; saved to ${file} (mode 0600).`);
  return EXIT.ok;
}

/** The login command. */
export const loginCommands: CommandSpec[] = [
  {
    name: 'login',
    summary: 'Check a relay URL and token, and save them for later commands.',
    args: '[api-url]',
    details:
      'The token is asked for at a hidden prompt (or read from stdin when piped) unless --token is given.\n' +
      'Saved to $XDG_CONFIG_HOME/fichier-relay/config.json (default ~/.config/…), mode 0600.',
    options: {
      secret: {
        type: 'string',
        value: '<name>',
        description: 'the stack’s SecretName output, for `relay key set|check`',
      },
      user: {
        type: 'string',
        value: '<id>',
        description: 'the token’s user id (lets `submit --dry-run` check dedupe)',
      },
    },
    run: login,
  },
];
