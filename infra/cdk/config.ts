import type { Node } from 'constructs';

/**
 * Deployment settings, read once from CDK context (`cdk.json`, or `-c relay:key=value` on the CLI)
 * and validated: a bad value fails the synth with a message naming the key.
 */
export interface RelayConfig {
  /** Stage name; part of the stack name (`FichierRelay-<stage>`) and of the API stage. */
  readonly stage: string;
  /** The slow safety-net schedule of the poller (the poll plan runs it seconds after submissions). */
  readonly pollRateMinutes: number;
  /** `POLL_INTERVAL_S`: the longest wait of the poll plan while a young request is open. */
  readonly pollIntervalSeconds: number;
  /** 1fichier API base URL written to the functions. */
  readonly fichierApiUrl: string;
  /** Minimum spacing between two 1fichier calls for one key (`FICHIER_MIN_INTERVAL_MS`). */
  readonly fichierMinIntervalMs: number;
  /** First pause after a flood answer (`FICHIER_FLOOD_PAUSE_MS`). */
  readonly fichierFloodPauseMs: number;
  /** Most URLs in one remote/request.cgi (`FICHIER_BATCH_MAX_URLS`). */
  readonly fichierBatchMaxUrls: number;
  /** A job still `submitted` after this many seconds is reported stuck (`RELAY_STUCK_AFTER_S`). */
  readonly stuckAfterSeconds: number;
  /** SQS records per worker invocation (1–10 for a standard queue with our batching window). */
  readonly workerBatchSize: number;
  /** How long the event source gathers records before invoking the worker, seconds (0–300). */
  readonly workerMaxBatchingWindowSeconds: number;
  /** Most concurrent worker invocations the event source starts (2–1000): protects the 1fichier key. */
  readonly workerMaxConcurrency: number;
  /** Receives before a message moves to the DLQ (at least 5). */
  readonly maxReceiveCount: number;
  /** HTTP API steady-state requests per second (stage default route throttling). */
  readonly apiThrottleRateLimit: number;
  /** HTTP API burst (stage default route throttling). */
  readonly apiThrottleBurstLimit: number;
  /** Address subscribed to the alarm topic; empty for none. */
  readonly alarmEmail: string;
  /** DynamoDB deletion protection on the jobs table. */
  readonly deletionProtection: boolean;
  /** Retention of every log group, days (must be a value CloudWatch Logs accepts). */
  readonly logRetentionDays: number;
  /**
   * X-Ray tracing of every function. `off`: no `TracingConfig` and no X-Ray permission, nothing is traced
   * or billed. `active`: Lambda samples its own invocations at a fixed 1 request/s plus 5 % of the rest
   * (not configurable for Lambda, and no X-Ray sampling rule changes it), $5 per million traces.
   */
  readonly tracing: TracingMode;
  /** `POWERTOOLS_LOG_LEVEL` of every function: `INFO` writes one line per job state change. */
  readonly logLevel: LogLevel;
}

/** Values of `relay:tracing`. */
export const TRACING_MODES = ['off', 'active'] as const;
export type TracingMode = (typeof TRACING_MODES)[number];

/** Values of `relay:logLevel` (Powertools Logger levels). */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Context key of each setting: `relay:<name>`. */
export const CONTEXT_PREFIX = 'relay:';

/** The values `cdk.json` ships with; also the fallback when a key is absent. */
export const DEFAULT_CONFIG: RelayConfig = {
  stage: 'prod',
  pollRateMinutes: 5,
  pollIntervalSeconds: 30,
  fichierApiUrl: 'https://api.1fichier.com/v1',
  fichierMinIntervalMs: 1000,
  fichierFloodPauseMs: 60_000,
  fichierBatchMaxUrls: 10,
  // Same default as shared/app/config.ts (the local runtime).
  stuckAfterSeconds: 21_600,
  workerBatchSize: 10,
  workerMaxBatchingWindowSeconds: 5,
  workerMaxConcurrency: 2,
  maxReceiveCount: 10,
  apiThrottleRateLimit: 10,
  apiThrottleBurstLimit: 20,
  alarmEmail: '',
  deletionProtection: true,
  logRetentionDays: 30,
  // Observability that costs less than the pipeline it watches (docs/deploy.md, "Tracing and logs").
  tracing: 'off',
  logLevel: 'INFO',
};

// CloudWatch Logs only accepts these retention values (PutRetentionPolicy).
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

type Bounds = readonly [min: number, max: number];

const NUMBER_BOUNDS: { [K in keyof RelayConfig as RelayConfig[K] extends number ? K : never]: Bounds } = {
  // A safety net only: at least 5 minutes, so an idle relay is polled at most that often.
  pollRateMinutes: [5, 1440],
  pollIntervalSeconds: [5, 3600],
  fichierMinIntervalMs: [100, 600_000],
  fichierFloodPauseMs: [1000, 86_400_000],
  fichierBatchMaxUrls: [1, 100],
  stuckAfterSeconds: [60, 30 * 86_400],
  workerBatchSize: [1, 10],
  workerMaxBatchingWindowSeconds: [0, 300],
  // Lambda's ScalingConfig.MaximumConcurrency accepts 2..1000.
  workerMaxConcurrency: [2, 1000],
  maxReceiveCount: [5, 1000],
  apiThrottleRateLimit: [1, 10_000],
  apiThrottleBurstLimit: [1, 5_000],
  logRetentionDays: [1, 3653],
};

/** Thrown when a context value is missing its expected type or range. */
export class RelayConfigError extends Error {
  override readonly name = 'RelayConfigError';
}

function parseNumber(key: string, raw: unknown, [min, max]: Bounds): number {
  // Values given with `-c key=value` arrive as strings.
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RelayConfigError(`${key} must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function parseBoolean(key: string, raw: unknown): boolean {
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new RelayConfigError(`${key} must be true or false, got ${JSON.stringify(raw)}`);
}

function parseChoice<T extends string>(key: string, raw: unknown, choices: readonly T[]): T {
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) {
    throw new RelayConfigError(`${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

function parseString(key: string, raw: unknown, pattern: RegExp, what: string): string {
  if (typeof raw !== 'string' || !pattern.test(raw)) {
    throw new RelayConfigError(`${key} must be ${what}, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** Reads and validates every `relay:*` context key from the app's construct node. */
export function readRelayConfig(node: Node): RelayConfig {
  const get = <K extends keyof RelayConfig>(name: K): unknown =>
    node.tryGetContext(`${CONTEXT_PREFIX}${name}`) ?? DEFAULT_CONFIG[name];
  const key = (name: keyof RelayConfig): string => `${CONTEXT_PREFIX}${name}`;

  const numbers = Object.fromEntries(
    (Object.keys(NUMBER_BOUNDS) as (keyof typeof NUMBER_BOUNDS)[]).map((name) => [
      name,
      parseNumber(key(name), get(name), NUMBER_BOUNDS[name]),
    ]),
  ) as Pick<RelayConfig, keyof typeof NUMBER_BOUNDS>;

  if (!LOG_RETENTION_DAYS.includes(numbers.logRetentionDays)) {
    throw new RelayConfigError(`${key('logRetentionDays')} must be one of ${LOG_RETENTION_DAYS.join(', ')}`);
  }
  if (numbers.apiThrottleBurstLimit < numbers.apiThrottleRateLimit) {
    throw new RelayConfigError(
      `${key('apiThrottleBurstLimit')} must be at least ${key('apiThrottleRateLimit')}`,
    );
  }

  const alarmEmail = get('alarmEmail');
  return {
    ...numbers,
    stage: parseString(key('stage'), get('stage'), /^[a-z][a-z0-9-]{0,19}$/, 'lower-case letters, digits, -'),
    fichierApiUrl: parseString(key('fichierApiUrl'), get('fichierApiUrl'), /^https:\/\/\S+$/, 'an https URL'),
    alarmEmail:
      alarmEmail === '' || alarmEmail === undefined || alarmEmail === null
        ? ''
        : parseString(key('alarmEmail'), alarmEmail, /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address or ""'),
    deletionProtection: parseBoolean(key('deletionProtection'), get('deletionProtection')),
    tracing: parseChoice(key('tracing'), get('tracing'), TRACING_MODES),
    logLevel: parseChoice(key('logLevel'), get('logLevel'), LOG_LEVELS),
  };
}
