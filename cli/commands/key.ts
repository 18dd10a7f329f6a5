/**
 * `relay key set|check`: the 1fichier key. `set` stores it in the local keystore (`.relay/keystore.json`,
 * read by `npm start` when `ONEFICHIER_API_KEY` is unset) or, for a deployed stack, in its Secrets Manager
 * secret (the stack's `SecretName` output). `check` asks 1fichier's user/info.cgi, which allows one call a
 * minute per IP and one per 5 minutes per key: the CLI records each check and answers from the record
 * instead of calling again within those limits.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readLocalKey, saveLocalKey } from '../../infra/local/keystore.js';
import { ENV } from '../../shared/config/env-names.js';
import { DEFAULT_PACING } from '../../shared/fichier/backoff.js';
import { createFichierClient, DEFAULT_FICHIER_API_URL } from '../../shared/fichier/client.js';
import { FichierApiError } from '../../shared/fichier/errors.js';
import { staticKeyProvider } from '../../shared/fichier/key-providers.js';
import { type CommandContext, type CommandSpec, str } from '../args.js';
import { configPath, localDataDir, readConfig } from '../connection.js';
import { CliError, EXIT, type ExitCode, usageError } from '../errors.js';
import { formatDuration, formatTime } from '../output.js';
import { readSecret } from '../prompt.js';

/** user/info.cgi: at most one call per 5 minutes per key (docs/1fichier-api.md). */
export const KEY_CHECK_PER_KEY_MS = 5 * 60_000;
/** user/info.cgi: at most one call per minute per IP. */
export const KEY_CHECK_PER_IP_MS = 60_000;

/** Where the key goes: a Secrets Manager secret, or the local keystore's data dir. */
type KeyHome = { kind: 'secret'; secretId: string } | { kind: 'local'; dataDir: string };

function keyHome(ctx: CommandContext, command: string): KeyHome {
  const env = ctx.out.io.env;
  const secretId = str(ctx.values, 'secret') ?? readConfig(env).secretName;
  if (secretId) return { kind: 'secret', secretId };
  const dataDir = localDataDir(env, ctx.out.io.cwd);
  if (dataDir) return { kind: 'local', dataDir };
  throw usageError(
    'outside the repo, say which secret holds the key: --secret <SecretName output of the stack> (or `relay login --secret …` once)',
    command,
  );
}

/** The SDK, loaded only by the commands that use it (it is most of the CLI's start-up time otherwise). */
async function secretsManager() {
  const sdk = await import('@aws-sdk/client-secrets-manager');
  // The SDK's own resolution: AWS_REGION, credentials, and AWS_ENDPOINT_URL_SECRETS_MANAGER.
  return { sdk, client: new sdk.SecretsManagerClient({}) };
}

function awsError(err: unknown, secretId: string): CliError {
  const name = (err as Error).name;
  if (name === 'ResourceNotFoundException')
    return new CliError(
      `no secret ${secretId}`,
      EXIT.usage,
      'use the stack’s SecretName output (docs/deploy.md)',
    );
  if (/AccessDenied|UnrecognizedClient|InvalidSignature|ExpiredToken|CredentialsProviderError/.test(name))
    return new CliError(
      `AWS refused access to ${secretId} (${name})`,
      EXIT.auth,
      'use AWS credentials allowed to read and write the secret (AWS_PROFILE, aws sso login)',
    );
  return new CliError(
    `Secrets Manager failed for ${secretId}: ${(err as Error).message}`,
    EXIT.unreachable,
    'check AWS_REGION and your network, then try again',
    undefined,
    { cause: err },
  );
}

async function set(ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length)
    throw usageError(
      'the key is never an argument (it would land in shell history): type it at the prompt or pipe it on stdin',
      'key set',
    );
  const home = keyHome(ctx, 'key set');
  const key = await readSecret(ctx.out.io, '1fichier API key (hidden): ', '1fichier key');
  if (/\s/.test(key) || key.length > 256)
    throw new CliError(
      'that does not look like a 1fichier API key (spaces, or too long)',
      EXIT.usage,
      'copy it again from 1fichier’s console (Parameters → API key)',
    );
  let where: string;
  if (home.kind === 'secret') {
    const { sdk, client } = await secretsManager();
    try {
      await client.send(new sdk.PutSecretValueCommand({ SecretId: home.secretId, SecretString: key }));
    } catch (err) {
      throw awsError(err, home.secretId);
    } finally {
      client.destroy();
    }
    where = `secret ${home.secretId}`;
  } else {
    mkdirSync(home.dataDir, { recursive: true });
    where = saveLocalKey(home.dataDir, key);
  }
  const next =
    home.kind === 'secret'
      ? 'The functions pick it up within 5 minutes (at once after 1fichier refuses the old one).'
      : `Restart \`npm start\` to use it${ctx.out.io.env[ENV.fichierApiKey] ? ` (${ENV.fichierApiKey} is set in this shell and wins over the keystore)` : ''}.`;
  if (ctx.out.json) ctx.out.printJson({ stored: home.kind, where, fingerprint: fingerprint(key) });
  else
    ctx.out.line(
      `1fichier key stored in ${where} (fingerprint ${fingerprint(key)}). ${next} Check it: relay key check`,
    );
  return EXIT.ok;
}

/** A short, non-reversible name for a key (for records and messages; never the key). */
function fingerprint(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

interface CheckResult {
  checkedAt: number;
  ok: boolean;
  exitCode: ExitCode;
  message: string;
  offer?: number;
  subscriptionEnd?: string;
}

interface CheckRecord {
  /** Epoch ms of the last user/info.cgi call from this machine. */
  lastCallAt?: number;
  results: Record<string, CheckResult>;
}

function recordPath(home: KeyHome, env: NodeJS.ProcessEnv): string {
  return home.kind === 'local'
    ? join(home.dataDir, 'key-check.json')
    : join(dirname(configPath(env)), 'key-check.json');
}

function readRecord(file: string): CheckRecord {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as CheckRecord;
    return { ...r, results: r.results ?? {} };
  } catch {
    return { results: {} };
  }
}

function writeRecord(file: string, r: CheckRecord): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(r)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

async function keyFor(home: KeyHome, env: NodeJS.ProcessEnv): Promise<string> {
  if (home.kind === 'local') {
    const key = env[ENV.fichierApiKey]?.trim() || readLocalKey(home.dataDir);
    if (!key)
      throw new CliError(
        'no 1fichier key is set for the local relay (it uses the sandbox)',
        EXIT.usage,
        'store one with `relay key set`',
      );
    return key;
  }
  const { sdk, client } = await secretsManager();
  try {
    const res = await client.send(new sdk.GetSecretValueCommand({ SecretId: home.secretId }));
    if (!res.SecretString)
      throw new CliError(
        `secret ${home.secretId} is empty`,
        EXIT.usage,
        'store the key with `relay key set`',
      );
    const { keyFromSecretString } = await import('../../shared/aws/secrets-key-provider.js');
    return keyFromSecretString(home.secretId, res.SecretString);
  } catch (err) {
    if (err instanceof CliError) throw err;
    if ((err as Error).name === 'KeyUnavailableError')
      throw new CliError((err as Error).message, EXIT.usage, 'store the key with `relay key set`');
    throw awsError(err, home.secretId);
  } finally {
    client.destroy();
  }
}

const OFFERS: Record<number, string> = { 0: 'no subscription', 1: 'Premium', 2: 'Access' };

async function callUserInfo(key: string, baseUrl: string, now: number): Promise<CheckResult> {
  // No retries: each call counts against user/info.cgi's limits.
  const client = createFichierClient({
    keyProvider: staticKeyProvider(key),
    baseUrl,
    policy: { ...DEFAULT_PACING, maxRetries: 0 },
    timeoutMs: 20_000,
  });
  try {
    const info = await client.userInfo();
    const offer = Number(info.offer);
    const name = OFFERS[offer] ?? `offer ${offer}`;
    if (offer !== 1 && offer !== 2)
      return {
        checkedAt: now,
        ok: false,
        exitCode: EXIT.failed,
        offer,
        message: `1fichier accepts the key, but the account has ${name}: remote uploads need Premium or Access`,
      };
    return {
      checkedAt: now,
      ok: true,
      exitCode: EXIT.ok,
      offer,
      ...(info.subscription_end ? { subscriptionEnd: String(info.subscription_end) } : {}),
      message: `1fichier accepts the key: ${name}${info.subscription_end ? ` until ${info.subscription_end}` : ''}`,
    };
  } catch (err) {
    if (!(err instanceof FichierApiError)) throw err;
    const text = err.apiMessage ?? err.message;
    const [exitCode, what]: [ExitCode, string] =
      err.kind === 'auth'
        ? [EXIT.auth, 'store the right key with `relay key set` (1fichier console → Parameters → API key)']
        : err.kind === 'flood'
          ? [EXIT.rateLimited, 'wait: 1fichier locked this IP or key for a while']
          : err.kind === 'transient'
            ? [EXIT.unreachable, 'check the network and try again later']
            : [EXIT.failed, 'see the message; 1fichier support may help'];
    return { checkedAt: now, ok: false, exitCode, message: `1fichier refused: ${text} — ${what}` };
  } finally {
    await client.close();
  }
}

async function check(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const env = out.io.env;
  const home = keyHome(ctx, 'key check');
  const key = await keyFor(home, env);
  const fp = fingerprint(key);
  const file = recordPath(home, env);
  const record = readRecord(file);
  const now = Date.now();
  const previous = record.results[fp];
  let result: CheckResult;
  let cached = false;
  if (previous && now - previous.checkedAt < KEY_CHECK_PER_KEY_MS) {
    result = previous;
    cached = true;
  } else if (record.lastCallAt && now - record.lastCallAt < KEY_CHECK_PER_IP_MS) {
    const wait = KEY_CHECK_PER_IP_MS - (now - record.lastCallAt);
    throw new CliError(
      `user/info.cgi was called ${formatDuration(now - record.lastCallAt)} ago (1fichier allows one call a minute per IP)`,
      EXIT.rateLimited,
      `try again in ${formatDuration(wait)}`,
    );
  } else {
    const baseUrl = env[ENV.fichierApiUrl]?.trim() || DEFAULT_FICHIER_API_URL;
    record.lastCallAt = now;
    writeRecord(file, record);
    result = await callUserInfo(key, baseUrl, now);
    record.results[fp] = result;
    for (const [k, r] of Object.entries(record.results))
      if (now - r.checkedAt > 24 * 3600_000) delete record.results[k];
    writeRecord(file, record);
  }
  const nextAt = new Date(result.checkedAt + KEY_CHECK_PER_KEY_MS).toISOString();
  if (out.json) {
    out.printJson({
      ok: result.ok,
      message: result.message,
      fingerprint: fp,
      checkedAt: new Date(result.checkedAt).toISOString(),
      cached,
      nextCheckAt: nextAt,
      ...(result.offer !== undefined ? { offer: result.offer } : {}),
    });
  } else {
    const line = result.ok ? out.paint.green(result.message) : out.paint.red(result.message);
    out.line(`${line} (key ${fp})`);
    if (cached)
      out.line(
        out.paint.dim(
          `Last checked ${formatDuration(now - result.checkedAt)} ago, at ${formatTime(new Date(result.checkedAt).toISOString())}; user/info.cgi allows one call per 5 minutes per key, so the next check is possible at ${formatTime(nextAt)}.`,
        ),
      );
  }
  return result.exitCode;
}

const secretOption = {
  secret: {
    type: 'string',
    value: '<name>',
    description:
      'the deployed stack’s secret (its SecretName output); else the config file’s, else the local keystore',
  },
} as const;

/** The key commands. */
export const keyCommands: CommandSpec[] = [
  {
    name: 'key set',
    summary: 'Store the 1fichier API key (hidden prompt, or stdin); never echoed.',
    details:
      'Inside the repo: the local keystore .relay/keystore.json (0600), used by `npm start` when ONEFICHIER_API_KEY is unset.\nFor a deployed stack: its Secrets Manager secret (--secret, or `relay login --secret`), with your AWS credentials.',
    options: secretOption,
    run: set,
  },
  {
    name: 'key check',
    summary:
      'Ask 1fichier (user/info.cgi) whether the key works; answers from the last check within 5 minutes.',
    details:
      'user/info.cgi allows one call a minute per IP and one per 5 minutes per key: the CLI records each check\n(key-check.json next to the keystore or the config file, holding a fingerprint, never the key).',
    options: secretOption,
    run: check,
  },
];
