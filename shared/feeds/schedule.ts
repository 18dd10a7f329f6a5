/**
 * When to fetch a feed next: the schedule policy as named data plus one pure function. Time and randomness
 * are parameters, so a fake clock tests every branch without sleeping.
 *
 * A healthy feed waits its own interval, lengthened by whatever the publisher asks for (RSS `<ttl>`,
 * `sy:updatePeriod`/`sy:updateFrequency`, `Cache-Control: max-age`): those are "do not come back sooner"
 * hints. A failing feed backs off exponentially from its interval up to a cap and is never given up on
 * (readers that stop after N errors are a standing user complaint, miniflux/v2#3334); it is only disabled
 * by `410 Gone`, the publisher's statement that the feed is removed for good (RFC 9110 §15.5.11).
 */
import { parseRetryAfter } from '../fichier/backoff.js';
import type { Syndication, SyndicationPeriod } from './types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** How often feeds are fetched and how failures slow that down. */
export interface FeedSchedulePolicy {
  /**
   * Shortest interval between two fetches of one feed, whatever the feed or its owner asks for.
   * @default 300000 (5 min)
   */
  minIntervalMs: number;
  /**
   * Interval of a feed whose owner set none.
   * @default 900000 (15 min)
   */
  defaultIntervalMs: number;
  /**
   * Most a publisher hint (`ttl`, `sy:*`, `max-age`, `Retry-After`) may stretch one wait: a bogus
   * `ttl` of a year must not silence a feed.
   * @default 86400000 (24 h)
   */
  maxHintMs: number;
  /**
   * Factor applied to the wait on each further consecutive failure (the first failure waits one interval).
   * @default 2
   */
  failureGrowth: number;
  /**
   * Cap of the failure backoff (a feed whose own interval is longer keeps its interval).
   * @default 21600000 (6 h)
   */
  failureMaxMs: number;
  /**
   * Consecutive failures after which the feed carries a `warning` for its owner.
   * @default 3
   */
  warnAfterFailures: number;
  /**
   * Random extra wait, as a fraction of the computed wait, so feeds added together drift apart.
   * Never applied to a `Retry-After`-driven wait's floor.
   * @default 0.1
   */
  jitterRatio: number;
}

/** The defaults documented on {@link FeedSchedulePolicy}. */
export const DEFAULT_FEED_SCHEDULE: Readonly<FeedSchedulePolicy> = Object.freeze({
  minIntervalMs: 5 * MINUTE,
  defaultIntervalMs: 15 * MINUTE,
  maxHintMs: 24 * HOUR,
  failureGrowth: 2,
  failureMaxMs: 6 * HOUR,
  warnAfterFailures: 3,
  jitterRatio: 0.1,
});

/** Length of one `sy:updatePeriod` (months and years at their average length is close enough here). */
export const SYNDICATION_PERIOD_MS: Readonly<Record<SyndicationPeriod, number>> = Object.freeze({
  hourly: HOUR,
  daily: 24 * HOUR,
  weekly: 7 * 24 * HOUR,
  monthly: 30 * 24 * HOUR,
  yearly: 365 * 24 * HOUR,
});

/** HTTP statuses whose `Retry-After` is honoured (RFC 9110 §10.2.3 names 503; RFC 6585 §4 adds 429). */
export const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** What happened on the fetch being scheduled from. */
export type FetchOutcome =
  /** 200 with a feed that parsed, or 304 Not Modified. */
  | { kind: 'ok'; status: 200 | 304; hints?: FeedHints; headers?: ScheduleHeaders }
  /** An HTTP answer other than 2xx/304 (redirects are the fetcher's business). */
  | { kind: 'http'; status: number; headers?: ScheduleHeaders }
  /** 200 but the body was not a readable feed. */
  | { kind: 'unreadable' }
  /** Connection, DNS, TLS or timeout failure, or the body was over the size cap. */
  | { kind: 'network' };

/** The response headers that steer the schedule. */
export interface ScheduleHeaders {
  cacheControl?: string | null;
  retryAfter?: string | null;
}

/** What the feed document says about its own refresh rate (see `FeedDocument`). */
export interface FeedHints {
  ttlMinutes?: number;
  syndication?: Syndication;
}

/** Input of {@link nextFetch}. */
export interface ScheduleInput {
  /** Epoch ms of the fetch that just finished. */
  nowMs: number;
  outcome: FetchOutcome;
  /** Consecutive failures before this fetch. */
  previousFailures: number;
  /** The feed owner's interval (`intervalS` × 1000); the policy default when unset. */
  intervalMs?: number;
}

/** Which rule set the wait. */
export type ScheduleBasis = 'interval' | 'ttl' | 'syndication' | 'max-age' | 'retry-after' | 'backoff';

/** The schedule after one fetch. */
export type ScheduleDecision =
  | {
      disabled: false;
      nextFetchAt: number;
      delayMs: number;
      basis: ScheduleBasis;
      consecutiveFailures: number;
      warning: boolean;
    }
  | { disabled: true; reason: string; consecutiveFailures: number; warning: boolean };

/**
 * The schedule after a fetch: when to fetch next and why, the failure count, whether the owner should be
 * warned, or that the feed is disabled (410 only).
 * @example
 * nextFetch({ nowMs: clock.now(), outcome: { kind: 'http', status: 503, headers: { retryAfter: '120' } },
 *   previousFailures: 0 }) // → at least 120 s later, basis 'retry-after', consecutiveFailures 1
 */
export function nextFetch(
  input: ScheduleInput,
  policy: Readonly<FeedSchedulePolicy> = DEFAULT_FEED_SCHEDULE,
  random: () => number = Math.random,
): ScheduleDecision {
  const { nowMs, outcome } = input;
  const interval = Math.max(policy.minIntervalMs, input.intervalMs ?? policy.defaultIntervalMs);

  if (outcome.kind === 'ok') {
    const hint = strongestHint(outcome.hints, outcome.headers, policy);
    const [delay, basis]: [number, ScheduleBasis] =
      hint && hint[0] > interval ? hint : [interval, 'interval'];
    return scheduled(nowMs, withJitter(delay, policy, random), basis, 0, policy);
  }

  const failures = Math.max(0, Math.floor(input.previousFailures)) + 1;
  if (outcome.kind === 'http' && outcome.status === 410) {
    return {
      disabled: true,
      reason: 'HTTP 410 Gone: the publisher says the feed was removed for good; re-enable it to try again',
      consecutiveFailures: failures,
      warning: failures >= policy.warnAfterFailures,
    };
  }

  const backoff = failureBackoff(failures, interval, policy);
  const asked =
    outcome.kind === 'http' && RETRY_AFTER_STATUSES.has(outcome.status)
      ? parseRetryAfter(outcome.headers?.retryAfter, nowMs)
      : undefined;
  if (asked !== undefined && asked > backoff) {
    // The server named the time: wait exactly that (capped), no jitter below it.
    const delay = Math.min(policy.maxHintMs, asked);
    return scheduled(nowMs, Math.max(delay, policy.minIntervalMs), 'retry-after', failures, policy);
  }
  return scheduled(nowMs, withJitter(backoff, policy, random), 'backoff', failures, policy);
}

/**
 * Wait after the `failures`-th consecutive failure: one interval for the first, × `failureGrowth` for each
 * further one, capped at `failureMaxMs` (or at the interval itself when that is longer).
 */
export function failureBackoff(
  failures: number,
  intervalMs: number,
  policy: Readonly<FeedSchedulePolicy> = DEFAULT_FEED_SCHEDULE,
): number {
  const base = Math.max(policy.minIntervalMs, intervalMs);
  const exponent = Math.max(0, Math.floor(failures) - 1);
  return Math.min(Math.max(policy.failureMaxMs, base), base * policy.failureGrowth ** exponent);
}

/** `max-age` of a `Cache-Control` value in ms; undefined when absent, invalid, or `no-cache`/`no-store`. */
export function maxAgeMs(cacheControl: string | null | undefined): number | undefined {
  if (!cacheControl) return undefined;
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.some((d) => d === 'no-cache' || d === 'no-store')) return undefined;
  const m = directives.map((d) => /^max-age\s*=\s*"?(\d+)"?$/.exec(d)).find((x) => x !== null);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** The longest of the publisher's hints (document and headers), capped at `maxHintMs`, with its basis. */
function strongestHint(
  hints: FeedHints | undefined,
  headers: ScheduleHeaders | undefined,
  policy: Readonly<FeedSchedulePolicy>,
): [number, ScheduleBasis] | undefined {
  const candidates: [number | undefined, ScheduleBasis][] = [
    [hints?.ttlMinutes !== undefined ? hints.ttlMinutes * MINUTE : undefined, 'ttl'],
    [syndicationMs(hints?.syndication), 'syndication'],
    [maxAgeMs(headers?.cacheControl), 'max-age'],
  ];
  let best: [number, ScheduleBasis] | undefined;
  for (const [ms, basis] of candidates) {
    if (ms === undefined || !Number.isFinite(ms) || ms <= 0) continue;
    if (!best || ms > best[0]) best = [ms, basis];
  }
  return best ? [Math.min(policy.maxHintMs, best[0]), best[1]] : undefined;
}

/** One update period divided by the number of updates in it. */
function syndicationMs(sy: Syndication | undefined): number | undefined {
  if (!sy || !(sy.frequency > 0)) return undefined;
  return SYNDICATION_PERIOD_MS[sy.period] / sy.frequency;
}

function withJitter(delayMs: number, policy: Readonly<FeedSchedulePolicy>, random: () => number): number {
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(delayMs * (1 + policy.jitterRatio * r));
}

function scheduled(
  nowMs: number,
  delayMs: number,
  basis: ScheduleBasis,
  failures: number,
  policy: Readonly<FeedSchedulePolicy>,
): ScheduleDecision {
  return {
    disabled: false,
    nextFetchAt: nowMs + delayMs,
    delayMs,
    basis,
    consecutiveFailures: failures,
    warning: failures >= policy.warnAfterFailures,
  };
}
