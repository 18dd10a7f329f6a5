import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PACING,
  floodPauseAfter,
  floodPauseFor,
  nextSlotAt,
  type PacingPolicy,
  pacingFromEnv,
  parseRetryAfter,
  transientBackoff,
  transientDelay,
} from '../../../shared/fichier/backoff.js';

const policy: PacingPolicy = {
  minIntervalMs: 1000,
  floodPauseMs: 60_000,
  floodPauseMaxMs: 300_000,
  ipLockPauseMs: 3_600_000,
  floodGrowth: 2,
  transientBaseMs: 500,
  transientMaxMs: 5000,
  maxRetries: 4,
};

describe('DEFAULT_PACING', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_PACING).toMatchObject({ minIntervalMs: 1000, floodPauseMs: 60_000, floodGrowth: 2 });
    expect(DEFAULT_PACING.floodPauseMaxMs).toBe(15 * 60_000);
  });
});

describe('pacingFromEnv', () => {
  it('uses the defaults when the variables are unset or empty', () => {
    expect(pacingFromEnv({})).toEqual(DEFAULT_PACING);
    expect(pacingFromEnv({ FICHIER_MIN_INTERVAL_MS: '' })).toEqual(DEFAULT_PACING);
  });

  it('reads FICHIER_MIN_INTERVAL_MS and FICHIER_FLOOD_PAUSE_MS', () => {
    const p = pacingFromEnv({ FICHIER_MIN_INTERVAL_MS: '1500', FICHIER_FLOOD_PAUSE_MS: '30000' });
    expect(p.minIntervalMs).toBe(1500);
    expect(p.floodPauseMs).toBe(30_000);
  });

  it('raises the flood cap when the first pause exceeds it', () => {
    expect(pacingFromEnv({ FICHIER_FLOOD_PAUSE_MS: '3600000' }).floodPauseMaxMs).toBe(3_600_000);
  });

  it('fails fast naming the variable on an invalid value', () => {
    expect(() => pacingFromEnv({ FICHIER_MIN_INTERVAL_MS: 'fast' })).toThrow(/FICHIER_MIN_INTERVAL_MS/);
    expect(() => pacingFromEnv({ FICHIER_FLOOD_PAUSE_MS: '-5' })).toThrow(/FICHIER_FLOOD_PAUSE_MS/);
    expect(() => pacingFromEnv({ FICHIER_FLOOD_PAUSE_MS: '1.5' })).toThrow(/FICHIER_FLOOD_PAUSE_MS/);
  });
});

describe('floodPauseFor', () => {
  it('is 0 without a flood', () => {
    expect(floodPauseFor(0, policy)).toBe(0);
  });

  it('starts at floodPauseMs and doubles on each repeat', () => {
    expect([1, 2, 3].map((n) => floodPauseFor(n, policy))).toEqual([60_000, 120_000, 240_000]);
  });

  it('is capped at floodPauseMaxMs', () => {
    expect(floodPauseFor(4, policy)).toBe(300_000);
    expect(floodPauseFor(50, policy)).toBe(300_000);
  });
});

describe('floodPauseAfter', () => {
  it('honours a Retry-After longer than the growing pause', () => {
    expect(floodPauseAfter(1, policy, { retryAfterMs: 90_000 })).toBe(90_000);
    expect(floodPauseAfter(1, policy, { retryAfterMs: 10_000 })).toBe(60_000);
  });

  it('never exceeds floodPauseMaxMs, whatever the server asks', () => {
    expect(floodPauseAfter(1, policy, { retryAfterMs: 31_536_000_000 })).toBe(300_000);
    expect(floodPauseAfter(1, policy, { retryAfterMs: Number.POSITIVE_INFINITY })).toBe(60_000);
    expect(floodPauseAfter(1, policy, { retryAfterMs: Number.NaN })).toBe(60_000);
  });

  it('applies a pause the answer kind demands (a bare IP lock) beyond the cap', () => {
    expect(floodPauseAfter(1, policy, { minPauseMs: 3_600_000 })).toBe(3_600_000);
    expect(floodPauseAfter(3, policy, { minPauseMs: 1000 })).toBe(240_000);
  });
});

describe('transientBackoff', () => {
  it('grows exponentially from the base with random = 1', () => {
    expect([1, 2, 3, 4].map((a) => transientBackoff(a, policy, () => 1))).toEqual([500, 1000, 2000, 4000]);
  });

  it('is capped at transientMaxMs', () => {
    expect(transientBackoff(5, policy, () => 1)).toBe(5000);
    expect(transientBackoff(40, policy, () => 1)).toBe(5000);
  });

  it('applies full jitter over [0, ceiling]', () => {
    expect(transientBackoff(3, policy, () => 0)).toBe(0);
    expect(transientBackoff(3, policy, () => 0.5)).toBe(1000);
    expect(transientBackoff(3, policy, () => 0.25)).toBe(500);
  });
});

describe('transientDelay', () => {
  it('honours Retry-After over the backoff, capped at transientMaxMs', () => {
    expect(transientDelay(1, policy, 2000, () => 0)).toBe(2000);
    expect(transientDelay(1, policy, 120_000, () => 0)).toBe(5000);
  });

  it('falls back to jittered backoff without Retry-After', () => {
    expect(transientDelay(2, policy, undefined, () => 0.5)).toBe(500);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');

  it('reads delta seconds', () => {
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(['3'], now)).toBe(3000);
  });

  it('reads an HTTP-date relative to now', () => {
    expect(parseRetryAfter('Fri, 27 Nov 2026 12:00:05 GMT', now)).toBe(5000);
  });

  it('answers 0 for a date in the past', () => {
    expect(parseRetryAfter('Fri, 27 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('answers undefined when absent or invalid', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('nextSlotAt', () => {
  it('is now for a fresh key', () => {
    expect(nextSlotAt({ lastCallAt: 0, pausedUntil: 0 }, 5000, policy)).toBe(5000);
  });

  it('keeps minIntervalMs after the last slot', () => {
    expect(nextSlotAt({ lastCallAt: 10_000, pausedUntil: 0 }, 10_200, policy)).toBe(11_000);
    expect(nextSlotAt({ lastCallAt: 10_000, pausedUntil: 0 }, 12_000, policy)).toBe(12_000);
  });

  it('waits for the end of a flood pause', () => {
    expect(nextSlotAt({ lastCallAt: 10_000, pausedUntil: 70_000 }, 10_500, policy)).toBe(70_000);
  });
});
