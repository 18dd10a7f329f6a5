/**
 * Options of the 1fichier sandbox: defaults, validation, and the `SANDBOX_*` environment variables.
 * Validation fails fast with an error naming the option or variable at fault.
 */
import { randomBytes } from 'node:crypto';
import type { PrivateTargetGuard } from './fetcher.js';

/** Account tier of a sandbox key: `premium` is offer 1, `free` is offer 0 (docs/1fichier-api.md, "Endpoints the relay calls"). */
export type SandboxTier = 'premium' | 'free';

/** One API key the sandbox accepts. */
export interface SandboxKey {
  key: string;
  tier: SandboxTier;
}

/** Options of `startSandbox`; every field is optional. */
export interface SandboxOptions {
  /** TCP port; 0 picks a free one. @default 3001 */
  port?: number;
  /** Loopback only: the sandbox fetches whatever URL it is given, so it must not be reachable from outside. */
  host?: '127.0.0.1';
  /** Accepted keys. @default one generated premium key */
  keys?: SandboxKey[];
  /** API requests per second allowed per key and per client IP (sliding 1-second window). @default 3 */
  rate?: number;
  /** How long a flood locks the key and the IP. @default 60000 */
  floodLockMs?: number;
  /** Where fetched files are stored. @default a new temporary directory, removed on close */
  dataDir?: string;
  /**
   * Keep the state (keys, folders, files, remote requests) in `<dataDir>/sandbox-state.json` and reload it at
   * start, so links and requests survive a restart (see `persist.ts`). Needs `dataDir`. @default false
   */
  persist?: boolean;
  /** Largest file a remote request may fetch. @default 104857600 (100 MiB) */
  maxFileBytes?: number;
  /** Minimum time between a remote request and its execution. @default 0 */
  execDelayMs?: number;
  /** Minimum spacing of two user/info.cgi calls from one client IP (any key). @default 60000 */
  userInfoMinIntervalMs?: number;
  /** Minimum spacing of two user/info.cgi calls with one key (from any IP). @default 300000 */
  userInfoKeyMinIntervalMs?: number;
  /** Connect timeout of the source fetches. @default 10000 */
  fetchConnectTimeoutMs?: number;
  /** Longest silence (headers or body) of a source before its fetch fails. @default 30000 */
  fetchIdleTimeoutMs?: number;
  /** Longest time one source fetch may take in all, however steadily it trickles. @default 1800000 */
  fetchTotalTimeoutMs?: number;
  /** Most bytes of fetched files the data directory may hold; a fetch going past it fails. @default 1 GiB */
  diskQuotaBytes?: number;
  /** Receives one line per notable event (start, API answers, fetch results). @default no logging */
  log?: (line: string) => void;
  /**
   * Refuse to fetch private and loopback sources except the URLs listed (the local runtime sets it when
   * its API listens beyond loopback). @default unset: any source is fetched
   */
  privateTargets?: PrivateTargetGuard;
}

/** Options with every default applied. */
export interface ResolvedSandboxOptions {
  port: number;
  host: '127.0.0.1';
  keys: SandboxKey[];
  rate: number;
  floodLockMs: number;
  dataDir: string | undefined;
  persist: boolean;
  maxFileBytes: number;
  execDelayMs: number;
  userInfoMinIntervalMs: number;
  userInfoKeyMinIntervalMs: number;
  fetchConnectTimeoutMs: number;
  fetchIdleTimeoutMs: number;
  fetchTotalTimeoutMs: number;
  diskQuotaBytes: number;
  log: (line: string) => void;
  privateTargets: PrivateTargetGuard | undefined;
}

/** Defaults of `SandboxOptions`. */
export const SANDBOX_DEFAULTS = {
  port: 3001,
  // docs/1fichier-api.md, "Rate limits": 3 requests per second is the documented general limit.
  rate: 3,
  // Real locks outlast rclone's 30 s pause after a flood answer; the real duration is not published, and a
  // minute is closer to what the real service does.
  floodLockMs: 60_000,
  maxFileBytes: 100 * 1024 * 1024,
  execDelayMs: 0,
  // 1fichier's documented user/info.cgi limit: 1 call per minute per IP and 1 per 5 minutes per user.
  userInfoMinIntervalMs: 60_000,
  userInfoKeyMinIntervalMs: 300_000,
  fetchConnectTimeoutMs: 10_000,
  fetchIdleTimeoutMs: 30_000,
  // The sandbox's own bounds, so a source that never ends or a burst of big files cannot hold a fetch slot
  // forever or fill the disk.
  fetchTotalTimeoutMs: 30 * 60_000,
  diskQuotaBytes: 1024 * 1024 * 1024,
} as const;

/** The environment variables `sandboxOptionsFromEnv` reads. */
export const SANDBOX_ENV = {
  port: 'SANDBOX_PORT',
  keys: 'SANDBOX_KEYS',
  rate: 'SANDBOX_RATE',
  floodLockMs: 'SANDBOX_FLOOD_LOCK_MS',
  dataDir: 'SANDBOX_DATA_DIR',
  persist: 'SANDBOX_PERSIST',
  maxFileBytes: 'SANDBOX_MAX_FILE_BYTES',
  execDelayMs: 'SANDBOX_EXEC_DELAY_MS',
  userInfoMinIntervalMs: 'SANDBOX_USER_INFO_MIN_INTERVAL_MS',
  userInfoKeyMinIntervalMs: 'SANDBOX_USER_INFO_KEY_MIN_INTERVAL_MS',
  fetchTotalTimeoutMs: 'SANDBOX_FETCH_TOTAL_TIMEOUT_MS',
  diskQuotaBytes: 'SANDBOX_DISK_QUOTA_BYTES',
  /** `1`: refuse private and loopback sources (the local runtime still lets its sample file through). */
  refusePrivate: 'SANDBOX_REFUSE_PRIVATE',
} as const;

/** A sandbox option or environment variable has an invalid value. */
export class SandboxConfigError extends Error {
  override name = 'SandboxConfigError';
}

/** Longest delay `setTimeout` honours; past it Node fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

const KEY_PATTERN = /^[A-Za-z0-9_=-]{1,128}$/;

/** A new random key shaped like a real one: 32 characters of `[A-Za-z0-9_-]` (docs/1fichier-api.md, "Transport and authentication", JD's check). */
export function generateSandboxKey(): string {
  return randomBytes(24).toString('base64url');
}

function integer(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new SandboxConfigError(
      `${name} must be an integer between ${min} and ${max}, got ${String(value)}`,
    );
  }
  return n;
}

/** Parses `key1:premium,key2:free` (a key without a tier is premium). */
export function parseSandboxKeys(text: string, name: string = SANDBOX_ENV.keys): SandboxKey[] {
  const keys: SandboxKey[] = [];
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const [key = '', tier = 'premium', ...rest] = item.split(':').map((s) => s.trim());
    if (rest.length > 0 || (tier !== 'premium' && tier !== 'free')) {
      throw new SandboxConfigError(`${name}: "${item}" must be <key>:premium or <key>:free`);
    }
    keys.push({ key, tier });
  }
  return validateKeys(keys, name);
}

function validateKeys(keys: SandboxKey[], name: string): SandboxKey[] {
  if (keys.length === 0) throw new SandboxConfigError(`${name} must list at least one key`);
  const seen = new Set<string>();
  for (const { key, tier } of keys) {
    if (!KEY_PATTERN.test(key)) {
      throw new SandboxConfigError(`${name}: a key must be 1-128 characters of [A-Za-z0-9_=-]`);
    }
    if (tier !== 'premium' && tier !== 'free') {
      throw new SandboxConfigError(`${name}: tier must be premium or free`);
    }
    if (seen.has(key)) throw new SandboxConfigError(`${name}: a key is listed twice`);
    seen.add(key);
  }
  if (!keys.some((k) => k.tier === 'premium')) {
    throw new SandboxConfigError(`${name} must contain at least one premium key`);
  }
  return keys;
}

/** Reads the `SANDBOX_*` variables (unset ones are left out, so defaults apply); throws naming a bad variable. */
export function sandboxOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SandboxOptions {
  const opts: SandboxOptions = {};
  const read = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const port = read(SANDBOX_ENV.port);
  if (port !== undefined) opts.port = integer(SANDBOX_ENV.port, port, 0, 65_535);
  const keys = read(SANDBOX_ENV.keys);
  if (keys !== undefined) opts.keys = parseSandboxKeys(keys);
  const rate = read(SANDBOX_ENV.rate);
  if (rate !== undefined) opts.rate = integer(SANDBOX_ENV.rate, rate, 1);
  const lock = read(SANDBOX_ENV.floodLockMs);
  if (lock !== undefined) opts.floodLockMs = integer(SANDBOX_ENV.floodLockMs, lock, 0);
  const dataDir = read(SANDBOX_ENV.dataDir);
  if (dataDir !== undefined) opts.dataDir = dataDir;
  const persist = read(SANDBOX_ENV.persist);
  if (persist !== undefined) {
    if (!/^(0|1|true|false)$/i.test(persist)) {
      throw new SandboxConfigError(`${SANDBOX_ENV.persist} must be 1, 0, true or false, got ${persist}`);
    }
    opts.persist = persist === '1' || persist.toLowerCase() === 'true';
  }
  const refusePrivate = read(SANDBOX_ENV.refusePrivate);
  if (refusePrivate !== undefined) {
    if (!/^(0|1|true|false)$/i.test(refusePrivate)) {
      throw new SandboxConfigError(
        `${SANDBOX_ENV.refusePrivate} must be 1, 0, true or false, got ${refusePrivate}`,
      );
    }
    if (refusePrivate === '1' || refusePrivate.toLowerCase() === 'true')
      opts.privateTargets = { exceptions: () => [] };
  }
  const max = read(SANDBOX_ENV.maxFileBytes);
  if (max !== undefined) opts.maxFileBytes = integer(SANDBOX_ENV.maxFileBytes, max, 1);
  const delay = read(SANDBOX_ENV.execDelayMs);
  if (delay !== undefined) opts.execDelayMs = integer(SANDBOX_ENV.execDelayMs, delay, 0);
  const userInfo = read(SANDBOX_ENV.userInfoMinIntervalMs);
  if (userInfo !== undefined) {
    opts.userInfoMinIntervalMs = integer(SANDBOX_ENV.userInfoMinIntervalMs, userInfo, 0);
  }
  const userInfoKey = read(SANDBOX_ENV.userInfoKeyMinIntervalMs);
  if (userInfoKey !== undefined) {
    opts.userInfoKeyMinIntervalMs = integer(SANDBOX_ENV.userInfoKeyMinIntervalMs, userInfoKey, 0);
  }
  const total = read(SANDBOX_ENV.fetchTotalTimeoutMs);
  if (total !== undefined)
    opts.fetchTotalTimeoutMs = integer(SANDBOX_ENV.fetchTotalTimeoutMs, total, 1, MAX_TIMER_MS);
  const quota = read(SANDBOX_ENV.diskQuotaBytes);
  if (quota !== undefined) opts.diskQuotaBytes = integer(SANDBOX_ENV.diskQuotaBytes, quota, 1);
  return opts;
}

/** Applies defaults and validates programmatic options; throws `SandboxConfigError` naming the option. */
export function resolveSandboxOptions(opts: SandboxOptions = {}): ResolvedSandboxOptions {
  if (opts.host !== undefined && opts.host !== '127.0.0.1') {
    throw new SandboxConfigError('host must be 127.0.0.1');
  }
  if (opts.persist !== undefined && typeof opts.persist !== 'boolean') {
    throw new SandboxConfigError('persist must be a boolean');
  }
  // A snapshot in a temporary directory removed on close would be pointless.
  if (opts.persist && opts.dataDir === undefined) {
    throw new SandboxConfigError(
      `persist (${SANDBOX_ENV.persist}) needs a dataDir (${SANDBOX_ENV.dataDir}) to keep the state in`,
    );
  }
  return {
    port: integer('port', opts.port ?? SANDBOX_DEFAULTS.port, 0, 65_535),
    host: '127.0.0.1',
    keys: opts.keys
      ? validateKeys(
          opts.keys.map((k) => ({ ...k })),
          'keys',
        )
      : [{ key: generateSandboxKey(), tier: 'premium' }],
    rate: integer('rate', opts.rate ?? SANDBOX_DEFAULTS.rate, 1),
    floodLockMs: integer('floodLockMs', opts.floodLockMs ?? SANDBOX_DEFAULTS.floodLockMs, 0),
    dataDir: opts.dataDir,
    persist: opts.persist ?? false,
    maxFileBytes: integer('maxFileBytes', opts.maxFileBytes ?? SANDBOX_DEFAULTS.maxFileBytes, 1),
    execDelayMs: integer('execDelayMs', opts.execDelayMs ?? SANDBOX_DEFAULTS.execDelayMs, 0),
    userInfoMinIntervalMs: integer(
      'userInfoMinIntervalMs',
      opts.userInfoMinIntervalMs ?? SANDBOX_DEFAULTS.userInfoMinIntervalMs,
      0,
    ),
    userInfoKeyMinIntervalMs: integer(
      'userInfoKeyMinIntervalMs',
      opts.userInfoKeyMinIntervalMs ?? SANDBOX_DEFAULTS.userInfoKeyMinIntervalMs,
      0,
    ),
    fetchConnectTimeoutMs: integer(
      'fetchConnectTimeoutMs',
      opts.fetchConnectTimeoutMs ?? SANDBOX_DEFAULTS.fetchConnectTimeoutMs,
      1,
    ),
    fetchIdleTimeoutMs: integer(
      'fetchIdleTimeoutMs',
      opts.fetchIdleTimeoutMs ?? SANDBOX_DEFAULTS.fetchIdleTimeoutMs,
      1,
    ),
    fetchTotalTimeoutMs: integer(
      'fetchTotalTimeoutMs',
      opts.fetchTotalTimeoutMs ?? SANDBOX_DEFAULTS.fetchTotalTimeoutMs,
      1,
      MAX_TIMER_MS,
    ),
    diskQuotaBytes: integer('diskQuotaBytes', opts.diskQuotaBytes ?? SANDBOX_DEFAULTS.diskQuotaBytes, 1),
    log: opts.log ?? (() => {}),
    privateTargets: opts.privateTargets,
  };
}
