/**
 * Where the CLI connects, and with which token. Each of the two is taken from the first that has it:
 * the flag (`--api`, `--token`), the variable (`RELAY_API_URL`, `RELAY_TOKEN`), the local runtime when
 * run inside the repo (`<RELAY_DATA_DIR>/runtime.json`, written by `npm start`), then the config file
 * written by `relay login` (`$XDG_CONFIG_HOME/fichier-relay/config.json`, else `~/.config/…`).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { type RuntimeInfo, readRuntimeInfo } from '../infra/local/runtime-info.js';
import { ENV } from '../shared/config/env-names.js';
import { CliError, EXIT } from './errors.js';

/** What `relay login` stores. */
export interface CliConfig {
  apiUrl?: string;
  token?: string;
  /** The stack's `SecretName` output, for `relay key set` / `key check` on a deployed relay. */
  secretName?: string;
  /** The token's user id, when known (lets `submit --dry-run` compute job ids). */
  user?: string;
}

/** Where the CLI talks to. */
export interface Connection {
  apiUrl: string;
  token: string | undefined;
  /** Where `apiUrl` came from, for messages. */
  source: 'flag' | 'env' | 'local' | 'config';
  /** The local runtime's record, when `apiUrl` is the local runtime. */
  local?: RuntimeInfo & { dataDir: string };
  /** The token's user, when known. */
  user?: string;
  config: CliConfig;
}

/** The config file's path, honouring `XDG_CONFIG_HOME`. */
export function configPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(homedir(), '.config');
  return join(base, 'fichier-relay', 'config.json');
}

/** Reads the config file (missing → empty). A malformed file is an error that says where it is. */
export function readConfig(env: NodeJS.ProcessEnv): CliConfig {
  const file = configPath(env);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CliConfig;
  } catch (err) {
    throw new CliError(
      `cannot read ${file}: ${(err as Error).message}`,
      EXIT.usage,
      'fix or delete it, then run `relay login` again',
      undefined,
      { cause: err },
    );
  }
}

/** Writes the config file with mode 0600 (it holds a token), creating its directory (0700). */
export function writeConfig(env: NodeJS.ProcessEnv, config: CliConfig): string {
  const file = configPath(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The repo's root when `cwd` is inside the fichier-relay checkout. */
export function findRepoRoot(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'fichier-relay') return dir;
      } catch {
        // not ours; keep looking upwards
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The local runtime's data dir: `RELAY_DATA_DIR` (relative to the repo root) or `<repo>/.relay`. */
export function localDataDir(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const given = env[ENV.relayDataDir]?.trim();
  if (given && isAbsolute(given)) return given;
  const root = findRepoRoot(cwd);
  if (!root) return given ? resolve(cwd, given) : undefined;
  return resolve(root, given || '.relay');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running local runtime's record, if one is running for this repo (or `RELAY_DATA_DIR`). */
export function findLocalRuntime(
  env: NodeJS.ProcessEnv,
  cwd: string,
): (RuntimeInfo & { dataDir: string }) | undefined {
  const dataDir = localDataDir(env, cwd);
  if (!dataDir) return undefined;
  const info = readRuntimeInfo(dataDir);
  if (!info || !alive(info.pid)) return undefined;
  return { ...info, dataDir };
}

/** Resolves the connection; fails (exit 4 inside the repo, 2 outside) with what to do when none is known. */
export function resolveConnection(
  flags: { api?: string; token?: string },
  env: NodeJS.ProcessEnv,
  cwd: string,
): Connection {
  const config = readConfig(env);
  const envApi = env[ENV.relayApiUrl]?.trim();
  const envToken = env[ENV.relayToken]?.trim();
  const local = flags.api || envApi ? undefined : findLocalRuntime(env, cwd);
  let apiUrl: string | undefined;
  let source: Connection['source'];
  if (flags.api) [apiUrl, source] = [flags.api, 'flag'];
  else if (envApi) [apiUrl, source] = [envApi, 'env'];
  else if (local) [apiUrl, source] = [local.url, 'local'];
  else [apiUrl, source] = [config.apiUrl, 'config'];
  if (!apiUrl) {
    const inRepo = findRepoRoot(cwd) !== undefined;
    throw new CliError(
      inRepo ? 'no local relay is running for this checkout' : 'no relay to talk to',
      inRepo ? EXIT.unreachable : EXIT.usage,
      inRepo
        ? 'start it with `npm start` (in another terminal), or pass --api <url> / set RELAY_API_URL'
        : 'pass --api <url>, set RELAY_API_URL, or run `relay login --api <url>` once',
    );
  }
  try {
    const u = new URL(apiUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new CliError(
      `the API URL "${apiUrl}" (from ${source}) is not an http(s) URL`,
      EXIT.usage,
      'give the base URL, e.g. http://127.0.0.1:3000',
    );
  }
  const token =
    flags.token ||
    envToken ||
    (source === 'local' ? local?.token : undefined) ||
    (source === 'config' || config.apiUrl === apiUrl ? config.token : undefined);
  const user = source === 'local' ? local?.user : config.apiUrl === apiUrl ? config.user : undefined;
  return {
    apiUrl: apiUrl.replace(/\/+$/, ''),
    token,
    source,
    ...(local ? { local } : {}),
    ...(user ? { user } : {}),
    config,
  };
}
