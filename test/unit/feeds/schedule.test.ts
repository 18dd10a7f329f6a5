import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FEED_SCHEDULE,
  type FetchOutcome,
  failureBackoff,
  maxAgeMs,
  nextFetch,
  type ScheduleDecision,
} from '../../../shared/feeds/schedule.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const noJitter = () => 0;

/** A clock that only moves when the test moves it. */
class ManualClock {
  constructor(public t = Date.UTC(2024, 6, 1, 12)) {}
  now(): number {
    return this.t;
  }
  jumpTo(at: number): void {
    this.t = at;
  }
}

function scheduledOf(d: ScheduleDecision) {
  if (d.disabled) throw new Error(`expected a schedule, got disabled: ${d.reason}`);
  return d;
}

const ok: FetchOutcome = { kind: 'ok', status: 200 };

describe('DEFAULT_FEED_SCHEDULE', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_FEED_SCHEDULE).toEqual({
      minIntervalMs: 5 * MIN,
      defaultIntervalMs: 15 * MIN,
      maxHintMs: 24 * HOUR,
      failureGrowth: 2,
      failureMaxMs: 6 * HOUR,
      warnAfterFailures: 3,
      jitterRatio: 0.1,
    });
  });
});

describe('nextFetch after a successful fetch', () => {
  const clock = new ManualClock();

  it('waits the default interval when the owner set none', () => {
    const d = scheduledOf(
      nextFetch({ nowMs: clock.now(), outcome: ok, previousFailures: 0 }, undefined, noJitter),
    );

    expect(d).toEqual({
      disabled: false,
      nextFetchAt: clock.now() + 15 * MIN,
      delayMs: 15 * MIN,
      basis: 'interval',
      consecutiveFailures: 0,
      warning: false,
    });
  });

  it('never waits less than the 5-minute floor', () => {
    const d = scheduledOf(
      nextFetch(
        { nowMs: clock.now(), outcome: ok, previousFailures: 0, intervalMs: 30_000 },
        undefined,
        noJitter,
      ),
    );

    expect(d.delayMs).toBe(5 * MIN);
  });

  it('waits the RSS ttl when it is longer than the interval, and the interval when it is shorter', () => {
    const longTtl = nextFetch(
      { nowMs: clock.now(), outcome: { ...ok, hints: { ttlMinutes: 60 } }, previousFailures: 0 },
      undefined,
      noJitter,
    );
    const shortTtl = nextFetch(
      { nowMs: clock.now(), outcome: { ...ok, hints: { ttlMinutes: 1 } }, previousFailures: 0 },
      undefined,
      noJitter,
    );

    expect(scheduledOf(longTtl)).toMatchObject({ delayMs: 60 * MIN, basis: 'ttl' });
    expect(scheduledOf(shortTtl)).toMatchObject({ delayMs: 15 * MIN, basis: 'interval' });
  });

  it('waits one sy:updatePeriod divided by sy:updateFrequency', () => {
    const outcome: FetchOutcome = { ...ok, hints: { syndication: { period: 'hourly', frequency: 2 } } };

    const d = scheduledOf(
      nextFetch(
        { nowMs: clock.now(), outcome, previousFailures: 0, intervalMs: 5 * MIN },
        undefined,
        noJitter,
      ),
    );

    expect(d).toMatchObject({ delayMs: 30 * MIN, basis: 'syndication' });
  });

  it('waits Cache-Control max-age on a 304, and ignores it with no-cache', () => {
    const fresh: FetchOutcome = {
      kind: 'ok',
      status: 304,
      headers: { cacheControl: 'public, max-age=3600' },
    };
    const noCache: FetchOutcome = {
      kind: 'ok',
      status: 304,
      headers: { cacheControl: 'no-cache, max-age=3600' },
    };

    expect(
      scheduledOf(
        nextFetch({ nowMs: clock.now(), outcome: fresh, previousFailures: 0 }, undefined, noJitter),
      ),
    ).toMatchObject({
      delayMs: HOUR,
      basis: 'max-age',
    });
    expect(
      scheduledOf(
        nextFetch({ nowMs: clock.now(), outcome: noCache, previousFailures: 0 }, undefined, noJitter),
      ).basis,
    ).toBe('interval');
  });

  it('takes the longest hint, capped at 24 hours', () => {
    const outcome: FetchOutcome = {
      ...ok,
      hints: { ttlMinutes: 525_600, syndication: { period: 'daily', frequency: 1 } },
      headers: { cacheControl: 'max-age=7200' },
    };

    const d = scheduledOf(
      nextFetch({ nowMs: clock.now(), outcome, previousFailures: 0 }, undefined, noJitter),
    );

    expect(d).toMatchObject({ delayMs: 24 * HOUR, basis: 'ttl' });
  });

  it('adds at most 10% random extra wait', () => {
    const d = scheduledOf(
      nextFetch({ nowMs: clock.now(), outcome: ok, previousFailures: 0 }, undefined, () => 1),
    );

    expect(d.delayMs).toBe(16.5 * MIN);
  });

  it('resets the failure count and the warning', () => {
    const d = scheduledOf(
      nextFetch({ nowMs: clock.now(), outcome: ok, previousFailures: 7 }, undefined, noJitter),
    );

    expect(d).toMatchObject({ consecutiveFailures: 0, warning: false });
  });
});

describe('nextFetch after a failed fetch', () => {
  it('backs off exponentially from the interval, capped at 6 hours, and never gives up (fake clock)', () => {
    const clock = new ManualClock();
    const delays: number[] = [];
    let failures = 0;

    for (let i = 0; i < 12; i++) {
      const d = scheduledOf(
        nextFetch(
          { nowMs: clock.now(), outcome: { kind: 'network' }, previousFailures: failures },
          undefined,
          noJitter,
        ),
      );
      expect(d.nextFetchAt).toBe(clock.now() + d.delayMs);
      delays.push(d.delayMs / MIN);
      failures = d.consecutiveFailures;
      clock.jumpTo(d.nextFetchAt);
    }

    expect(delays).toEqual([15, 30, 60, 120, 240, 360, 360, 360, 360, 360, 360, 360]);
    expect(failures).toBe(12);
  });

  it('sets the warning from the third consecutive failure', () => {
    const warnings = [0, 1, 2, 3].map(
      (previousFailures) =>
        nextFetch({ nowMs: 0, outcome: { kind: 'unreadable' }, previousFailures }, undefined, noJitter)
          .warning,
    );

    expect(warnings).toEqual([false, false, true, true]);
  });

  it('honours Retry-After in seconds on 429, without jitter', () => {
    const outcome: FetchOutcome = { kind: 'http', status: 429, headers: { retryAfter: '7200' } };

    const d = scheduledOf(nextFetch({ nowMs: 1_000_000, outcome, previousFailures: 0 }, undefined, () => 1));

    expect(d).toMatchObject({
      delayMs: 2 * HOUR,
      nextFetchAt: 1_000_000 + 2 * HOUR,
      basis: 'retry-after',
      consecutiveFailures: 1,
    });
  });

  it('honours Retry-After as an HTTP date on 503', () => {
    const clock = new ManualClock(Date.UTC(2024, 6, 1, 12));
    const outcome: FetchOutcome = {
      kind: 'http',
      status: 503,
      headers: { retryAfter: 'Mon, 01 Jul 2024 15:00:00 GMT' },
    };

    const d = scheduledOf(
      nextFetch({ nowMs: clock.now(), outcome, previousFailures: 0 }, undefined, noJitter),
    );

    expect(d).toMatchObject({ nextFetchAt: Date.UTC(2024, 6, 1, 15), basis: 'retry-after' });
  });

  it('keeps the backoff when Retry-After asks for less, and caps a Retry-After at 24 hours', () => {
    const short: FetchOutcome = { kind: 'http', status: 429, headers: { retryAfter: '1' } };
    const huge: FetchOutcome = { kind: 'http', status: 429, headers: { retryAfter: String(30 * 24 * 3600) } };

    expect(
      scheduledOf(nextFetch({ nowMs: 0, outcome: short, previousFailures: 2 }, undefined, noJitter)),
    ).toMatchObject({
      delayMs: 60 * MIN,
      basis: 'backoff',
    });
    expect(
      scheduledOf(nextFetch({ nowMs: 0, outcome: huge, previousFailures: 0 }, undefined, noJitter)).delayMs,
    ).toBe(24 * HOUR);
  });

  it('ignores Retry-After on statuses other than 429 and 503', () => {
    const outcome: FetchOutcome = { kind: 'http', status: 500, headers: { retryAfter: '7200' } };

    expect(
      scheduledOf(nextFetch({ nowMs: 0, outcome, previousFailures: 0 }, undefined, noJitter)).basis,
    ).toBe('backoff');
  });

  it('disables the feed on 410 Gone, with a reason', () => {
    const d = nextFetch({ nowMs: 0, outcome: { kind: 'http', status: 410 }, previousFailures: 0 });

    expect(d).toMatchObject({ disabled: true, consecutiveFailures: 1 });
    expect(d.disabled && d.reason).toMatch(/^HTTP 410 Gone/);
  });

  it('does not disable the feed on 404 or 403', () => {
    for (const status of [403, 404]) {
      expect(nextFetch({ nowMs: 0, outcome: { kind: 'http', status }, previousFailures: 40 }).disabled).toBe(
        false,
      );
    }
  });
});

describe('failureBackoff', () => {
  it('keeps a feed interval longer than the cap', () => {
    expect(failureBackoff(1, 12 * HOUR)).toBe(12 * HOUR);
    expect(failureBackoff(5, 12 * HOUR)).toBe(12 * HOUR);
  });
});

describe('maxAgeMs', () => {
  it('reads max-age in seconds and ignores other directives', () => {
    expect(maxAgeMs('private, max-age=600, must-revalidate')).toBe(600_000);
    expect(maxAgeMs('s-maxage=600')).toBeUndefined();
    expect(maxAgeMs('no-store')).toBeUndefined();
    expect(maxAgeMs(undefined)).toBeUndefined();
  });
});
