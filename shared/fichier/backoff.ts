/**
 * Pacing and backoff policy for 1fichier calls, as named data plus pure delay maths.
 * Every function here is deterministic given its inputs (randomness and time are parameters),
 * so the in-memory and DynamoDB pacers share the same arithmetic and tests never sleep.
 */
import { ENV } from '../config/env-names.js';
import type { PacerState, SlotDecision } from './pacer.js';

/** How calls for one key are spaced, paused after floods, and retried after transient errors. */
export interface PacingPolicy {
  /**
   * Minimum spacing between two calls for one key (env `FICHIER_MIN_INTERVAL_MS`).
   * 1fichier documents ~3 req/s; JDownloader's admin-approved pace is 1 req/s (docs/1fichier-api.md, "Rate limits").
   * @default 1000
   */
  minIntervalMs: number;
  /**
   * First pause after a flood answer, for every call with that key (env `FICHIER_FLOOD_PAUSE_MS`).
   * rclone sleeps 30 s, JDownloader 5 min; 60 s is between the two.
   * @default 60000
   */
  floodPauseMs: number;
  /**
   * Cap of the growing flood pause.
   * @default 900000 (15 min)
   */
  floodPauseMaxMs: number;
  /**
   * Pause after a bare `IP Locked` answer (env `FICHIER_IP_LOCK_PAUSE_MS`): the IP is locked outright,
   * not throttled; JDownloader waits 60 minutes. Not capped by `floodPauseMaxMs`.
   * @default 3600000
   */
  ipLockPauseMs: number;
  /**
   * Factor applied to the flood pause on each consecutive flood answer.
   * @default 2
   */
  floodGrowth: number;
  /**
   * Base of the capped exponential backoff for transient errors (network, 429, 5xx).
   * @default 500
   */
  transientBaseMs: number;
  /**
   * Cap of one transient backoff delay (before jitter), and of an honoured `Retry-After`.
   * @default 30000
   */
  transientMaxMs: number;
  /**
   * Most retries of one call after transient errors or floods (the first attempt is not counted).
   * @default 4
   */
  maxRetries: number;
}

/** The defaults documented on {@link PacingPolicy}. */
export const DEFAULT_PACING: Readonly<PacingPolicy> = Object.freeze({
  minIntervalMs: 1000,
  floodPauseMs: 60_000,
  floodPauseMaxMs: 15 * 60_000,
  ipLockPauseMs: 60 * 60_000,
  floodGrowth: 2,
  transientBaseMs: 500,
  transientMaxMs: 30_000,
  maxRetries: 4,
});

function readNonNegativeInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed)) {
    throw new Error(`${name} must be a non-negative integer of milliseconds, got ${JSON.stringify(raw)}`);
  }
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value)) {
    throw new Error(`${name} is too large: ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * Reads the pacing policy from the environment once, falling back to {@link DEFAULT_PACING}.
 * Fails fast with an error naming the variable when a value is not a non-negative integer.
 * @example
 * const pacing = pacingFromEnv(); // FICHIER_MIN_INTERVAL_MS=1500 → minIntervalMs 1500
 */
export function pacingFromEnv(env: NodeJS.ProcessEnv = process.env): PacingPolicy {
  const minIntervalMs = readNonNegativeInt(env, ENV.minIntervalMs, DEFAULT_PACING.minIntervalMs);
  const floodPauseMs = readNonNegativeInt(env, ENV.floodPauseMs, DEFAULT_PACING.floodPauseMs);
  const ipLockPauseMs = readNonNegativeInt(env, ENV.ipLockPauseMs, DEFAULT_PACING.ipLockPauseMs);
  return {
    ...DEFAULT_PACING,
    minIntervalMs,
    floodPauseMs,
    ipLockPauseMs,
    floodPauseMaxMs: Math.max(DEFAULT_PACING.floodPauseMaxMs, floodPauseMs),
  };
}

/**
 * Pause after the `floodCount`-th consecutive flood answer: `floodPauseMs` for the first,
 * multiplied by `floodGrowth` for each repeat, capped at `floodPauseMaxMs`. 0 when `floodCount` ≤ 0.
 */
export function floodPauseFor(floodCount: number, policy: PacingPolicy = DEFAULT_PACING): number {
  if (!(floodCount >= 1)) return 0;
  const grown = policy.floodPauseMs * policy.floodGrowth ** (Math.floor(floodCount) - 1);
  return Math.min(policy.floodPauseMaxMs, grown);
}

/** What a flood answer says about the pause beyond the streak. */
export interface FloodHint {
  /** The server's `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** A pause the answer's kind demands whatever the cap (a bare `IP Locked`: `ipLockPauseMs`). */
  minPauseMs?: number;
}

/**
 * The pause after flood answer number `floodCount`: the growing pause, or the server's `Retry-After` when
 * longer, never more than `floodPauseMaxMs` (one bogus header must not stop a key for a year); then at
 * least `hint.minPauseMs`, which the cap does not bound (it comes from our own policy, not the server).
 */
export function floodPauseAfter(
  floodCount: number,
  policy: PacingPolicy = DEFAULT_PACING,
  hint: FloodHint = {},
): number {
  const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) && v > 0 ? v : 0);
  const capped = Math.min(
    policy.floodPauseMaxMs,
    Math.max(floodPauseFor(floodCount, policy), finite(hint.retryAfterMs)),
  );
  return Math.max(capped, finite(hint.minPauseMs));
}

/**
 * Delay before retry number `attempt` (1 = first retry) after a transient error:
 * full jitter over a capped exponential, `random() * min(transientMaxMs, transientBaseMs * 2^(attempt-1))`.
 */
export function transientBackoff(
  attempt: number,
  policy: PacingPolicy = DEFAULT_PACING,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const ceiling = Math.min(policy.transientMaxMs, policy.transientBaseMs * 2 ** exponent);
  const r = Math.min(1, Math.max(0, random()));
  return Math.floor(r * ceiling);
}

/**
 * Parses an HTTP `Retry-After` value (delta seconds or HTTP-date) into a delay in ms from `nowMs`.
 * Undefined when absent or unparseable; a date in the past gives 0.
 */
export function parseRetryAfter(
  headerValue: string | string[] | null | undefined,
  nowMs: number,
): number | undefined {
  const value = Array.isArray(headerValue) ? headerValue[0] : headerValue;
  if (value === undefined || value === null) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Only HTTP-dates (they always contain a letter); Date.parse would otherwise accept "-5" or "2026".
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * Delay before retry `attempt` after a transient error: the server's `Retry-After` when given
 * (capped at `transientMaxMs`), otherwise {@link transientBackoff}.
 */
export function transientDelay(
  attempt: number,
  policy: PacingPolicy = DEFAULT_PACING,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, policy.transientMaxMs);
  return transientBackoff(attempt, policy, random);
}

/**
 * Earliest epoch ms at which the next call for a key may go: not before `nowMs`, not sooner than
 * `minIntervalMs` after the last granted slot, and not before the end of a flood pause.
 */
export function nextSlotAt(
  state: Pick<PacerState, 'lastCallAt' | 'pausedUntil'>,
  nowMs: number,
  policy: Pick<PacingPolicy, 'minIntervalMs'> = DEFAULT_PACING,
): number {
  const afterLast = state.lastCallAt > 0 ? state.lastCallAt + policy.minIntervalMs : 0;
  return Math.max(nowMs, afterLast, state.pausedUntil || 0);
}

/**
 * What `take()` answers for a key in `state` at `nowMs` when it may wait until `deadlineMs` at most: the
 * slot to reserve, or the refusal (`circuitOpen`; `paused` when a flood pause causes the wait; `busy` when
 * other callers hold the slots). Shared by the in-memory and the DynamoDB pacer.
 */
export function decideSlot(
  state: Pick<PacerState, 'lastCallAt' | 'pausedUntil' | 'floodCount' | 'circuitOpen' | 'circuitReason'>,
  nowMs: number,
  deadlineMs: number,
  policy: Pick<PacingPolicy, 'minIntervalMs' | 'floodPauseMaxMs'> = DEFAULT_PACING,
  opts: { ignoreCircuit?: boolean } = {},
): { slot: number } | { refusal: Extract<SlotDecision, { granted: false }> } {
  // A half-open probe of the circuit is the one call that may go while it is open; it is still paced.
  if (state.circuitOpen && !opts.ignoreCircuit) {
    // Only a hint: a probe, a reset or another key closes the circuit.
    const refusal = {
      granted: false as const,
      reason: 'circuitOpen' as const,
      retryAfterMs: policy.floodPauseMaxMs,
    };
    return { refusal: state.circuitReason ? { ...refusal, detail: state.circuitReason } : refusal };
  }
  const slot = nextSlotAt(state, nowMs, policy);
  if (slot <= deadlineMs) return { slot };
  const paused = state.pausedUntil >= slot;
  return {
    refusal: {
      granted: false,
      reason: paused ? 'paused' : 'busy',
      retryAfterMs: slot - nowMs,
      detail: paused ? `flood pause (${state.floodCount} in a row)` : 'slots taken by other callers',
    },
  };
}
