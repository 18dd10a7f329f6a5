/**
 * The relay's configuration, read once from the environment, validated, failing fast with the variable's name.
 * Names come from `ENV`; which function reads which is declared in `FUNCTION_ENV`.
 */
import { ENV } from '../config/env-names.js';
import { type PacingPolicy, pacingFromEnv } from '../fichier/backoff.js';
import { DEFAULT_JOB_RETRY_POLICY, type JobRetryPolicy } from '../jobs/retry-policy.js';

/** Everything the use-cases and adapters need to know about their environment. */
export interface RelayConfig {
  /** DynamoDB table holding jobs, dedupe, tokens, pacer state and reports (`RELAY_TABLE_NAME`). */
  tableName: string;
  /** SQS jobs queue URL (`RELAY_QUEUE_URL`). */
  queueUrl: string;
  /**
   * SQS queue of delayed poll triggers (`RELAY_POLL_QUEUE_URL`, AWS). Unset: the poller runs only on its
   * schedule (the local runtime plans its cycles with its own timer).
   */
  pollQueueUrl?: string;
  /** 1fichier API base URL (`ONEFICHIER_API_URL`). @default 'https://api.1fichier.com/v1' */
  fichierApiUrl: string;
  /** Secrets Manager id of the 1fichier key (`ONEFICHIER_SECRET_ID`, AWS). */
  fichierSecretId?: string;
  /** The 1fichier key itself (`ONEFICHIER_API_KEY`, local mode only). */
  fichierApiKey?: string;
  /** Most URLs in one remote/request.cgi (`FICHIER_BATCH_MAX_URLS`). @default 10 */
  batchMaxUrls: number;
  /** Pacing of 1fichier calls (`FICHIER_MIN_INTERVAL_MS`, `FICHIER_FLOOD_PAUSE_MS`). */
  pacing: PacingPolicy;
  /** A `submitted` job 1fichier has not finished after this long fails as stuck (`RELAY_STUCK_AFTER_S`). @default 21600 */
  stuckAfterS: number;
  /** How long a worker owns a `submitting` job before it is reconciled. @default 120 */
  submittingLeaseS: number;
  /** Longest wait for a pacer slot inside one invocation; longer waits go back to SQS. @default 1000 */
  maxPacerWaitMs: number;
  /** Claims of one job before a transient failure becomes final. @default 8 */
  maxAttempts: number;
  /** A `queued` job untouched this long is sent to the queue again by the poller. @default 600 */
  requeueAfterS: number;
  /** Terminal jobs (and with them their dedupe window) expire after this many days. @default 30 */
  jobTtlDays: number;
  /** Cache lifetime of the key read from Secrets Manager. @default 300 */
  secretMaxAgeS: number;
  /**
   * The poll cycle (`POLL_INTERVAL_S`): reconciliation believes a request absent only after two readings
   * at least this far apart. @default 30
   */
  pollIntervalS: number;
  /** What jobs do after failed calls (`FICHIER_UNKNOWN_BACKOFF_MS`, `FICHIER_UNKNOWN_GIVE_UP_S`). */
  retry: JobRetryPolicy;
  /** An open auth circuit is probed with user/info.cgi this long after it opened (`FICHIER_CIRCUIT_PROBE_S`). @default 900 */
  circuitProbeS: number;
  /**
   * `RELAY_ALLOW_PRIVATE_URLS=1`: callbacks, feeds and notification targets may name loopback and private
   * hosts (local testing only). @default false
   */
  allowPrivateUrls: boolean;
  /** Requests a minute one client token may make, over all API instances (`RELAY_TOKEN_RATE_PER_MIN`). @default 120 */
  tokenRatePerMin: number;
  /** Largest feed document read (`FEEDS_MAX_BYTES`). @default 5242880 (5 MiB) */
  feedsMaxBytes: number;
  /** Days a feed item's dedupe key outlives the item's last sighting (`FEEDS_SEEN_DAYS`). @default 90 */
  feedsSeenDays: number;
  /** Notifications, callbacks and REST hooks (`NOTIFY_*`). */
  notify: NotifyConfig;
}

/** The delivery path's settings. */
export interface NotifyConfig {
  /** The deliveries queue (`NOTIFY_QUEUE_URL`); unset means deliveries are not enabled in this process. */
  queueUrl?: string;
  /** First retry after this many ms (`NOTIFY_RETRY_BASE_MS`). @default 10000 */
  retryBaseMs: number;
  /** Messages per target and hour (`NOTIFY_MAX_PER_HOUR`). @default 30 */
  maxPerHour: number;
  /** Secrets Manager id of the encryption key (`NOTIFY_KEY_SECRET_ID`, AWS). */
  keySecretId?: string;
  /** File holding the encryption key (`NOTIFY_KEY_FILE`, local). */
  keyFile?: string;
  /** Stand-ins for the fixed service hosts (`NOTIFY_IFTTT_URL`, `NOTIFY_TELEGRAM_URL`), local testing. */
  iftttUrl?: string;
  telegramUrl?: string;
}

/** Reads the `NOTIFY_*` variables. */
export function loadNotifyConfig(env: NodeJS.ProcessEnv = process.env): NotifyConfig {
  const url = (name: string) => {
    const v = optionalString(env, name);
    return v === undefined ? undefined : httpUrl(name, v);
  };
  return {
    queueUrl: url(ENV.notifyQueueUrl),
    retryBaseMs: intInRange(env, ENV.notifyRetryBaseMs, 10_000, 10, 3_600_000),
    maxPerHour: intInRange(env, ENV.notifyMaxPerHour, 30, 1, 10_000),
    keySecretId: optionalString(env, ENV.notifyKeySecretId),
    keyFile: optionalString(env, ENV.notifyKeyFile),
    iftttUrl: url(ENV.notifyIftttUrl),
    telegramUrl: url(ENV.notifyTelegramUrl),
  };
}

/** Raised when a variable is missing or malformed; the message names it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const DEFAULT_API_URL = 'https://api.1fichier.com/v1';
/**
 * `FEEDS_MAX_BYTES` default, equal to `FEED_MAX_BODY_BYTES` of shared/net/guarded-fetch.ts (not imported:
 * that module brings the outbound client and ipaddr.js into every bundle that reads the config); a unit
 * test keeps them equal.
 */
export const DEFAULT_FEEDS_MAX_BYTES = 5 * 1024 * 1024;

function optionalString(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function requiredString(env: NodeJS.ProcessEnv, name: string): string {
  const v = optionalString(env, name);
  if (!v) throw new ConfigError(`${name} is required but not set`);
  return v;
}

function intInRange(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = optionalString(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function httpUrl(name: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, '');
}

/**
 * Reads and validates the configuration.
 * @example
 * const config = loadConfig(); // throws ConfigError('RELAY_TABLE_NAME is required but not set') when unset
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  opts: {
    /** The deliveries function never touches the jobs queue: `RELAY_QUEUE_URL` may be unset there. @default true */
    jobsQueue?: boolean;
  } = {},
): RelayConfig {
  let pacing: PacingPolicy;
  try {
    pacing = pacingFromEnv(env);
  } catch (err) {
    throw new ConfigError((err as Error).message, { cause: err });
  }
  return {
    tableName: requiredString(env, ENV.tableName),
    queueUrl:
      opts.jobsQueue === false && !optionalString(env, ENV.queueUrl)
        ? ''
        : httpUrl(ENV.queueUrl, requiredString(env, ENV.queueUrl)),
    ...(optionalString(env, ENV.pollQueueUrl)
      ? { pollQueueUrl: httpUrl(ENV.pollQueueUrl, optionalString(env, ENV.pollQueueUrl) as string) }
      : {}),
    fichierApiUrl: httpUrl(ENV.fichierApiUrl, optionalString(env, ENV.fichierApiUrl) ?? DEFAULT_API_URL),
    fichierSecretId: optionalString(env, ENV.fichierSecretId),
    fichierApiKey: optionalString(env, ENV.fichierApiKey),
    batchMaxUrls: intInRange(env, ENV.batchMaxUrls, 10, 1, 100),
    pacing,
    stuckAfterS: intInRange(env, ENV.stuckAfterS, 6 * 3600, 60, 30 * 24 * 3600),
    submittingLeaseS: 120,
    maxPacerWaitMs: 1000,
    maxAttempts: 8,
    requeueAfterS: 600,
    jobTtlDays: 30,
    secretMaxAgeS: 300,
    pollIntervalS: intInRange(env, ENV.pollIntervalS, 30, 1, 3600),
    retry: {
      ...DEFAULT_JOB_RETRY_POLICY,
      unknownBackoffMs: intInRange(
        env,
        ENV.unknownBackoffMs,
        DEFAULT_JOB_RETRY_POLICY.unknownBackoffMs,
        0,
        12 * 3_600_000,
      ),
      unknownGiveUpS: intInRange(
        env,
        ENV.unknownGiveUpS,
        DEFAULT_JOB_RETRY_POLICY.unknownGiveUpS,
        0,
        30 * 86_400,
      ),
    },
    // user/info.cgi allows one call per 5 minutes per user (docs/1fichier-api.md): never probe faster.
    circuitProbeS: intInRange(env, ENV.circuitProbeS, 900, 300, 7 * 86_400),
    allowPrivateUrls: optionalString(env, ENV.allowPrivateUrls) === '1',
    tokenRatePerMin: intInRange(env, ENV.tokenRatePerMin, 120, 1, 100_000),
    feedsMaxBytes: intInRange(env, ENV.feedsMaxBytes, DEFAULT_FEEDS_MAX_BYTES, 1024, 50 * 1024 * 1024),
    feedsSeenDays: intInRange(env, ENV.feedsSeenDays, 90, 1, 3650),
    notify: loadNotifyConfig(env),
  };
}
