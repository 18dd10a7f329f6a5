import { describe, expect, it } from 'vitest';
import type { FailureSummary, OutageNotice } from '../../../shared/notify/events.js';
import { cardOf } from '../../../shared/notify/formats.js';
import {
  addFailure,
  admitToCap,
  type CapState,
  coalesceFailures,
  DEFAULT_NOISE_POLICY,
  digestPeriod,
  EMPTY_CAP,
  flushWindow,
  nextDigestAt,
  noiseRuleFor,
  OUTAGE_CLEAR,
  type OutageObservation,
  type OutageState,
  observeOutage,
} from '../../../shared/notify/noise.js';
import { failedJob, T0 } from './fixtures.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('noiseRuleFor', () => {
  it.each(['webhook', 'zapier'] as const)(
    'neither coalesces nor caps %s: a program needs every job',
    (type) => {
      expect(noiseRuleFor(type)).toMatchObject({ coalesce: false, capped: false });
    },
  );

  it.each(['discord', 'slack', 'telegram', 'ntfy', 'ifttt'] as const)('coalesces and caps %s', (type) => {
    expect(noiseRuleFor(type)).toMatchObject({ coalesce: true, capped: true });
  });
});

describe('coalescing failures', () => {
  it('turns 12 failures within a minute into 1 message with counts by reason', () => {
    const stream = Array.from({ length: 12 }, (_, i) => ({
      key: 'u1/discord',
      job: failedJob(i + 1, i < 10 ? 'notFound' : 'rejected', T0 + i * 4000),
      at: T0 + i * 4000,
    }));

    const out = coalesceFailures(stream);

    expect(out).toHaveLength(1);
    const summary = out[0]?.message as FailureSummary;
    expect(out[0]?.sendAt).toBe(T0 + MIN);
    expect(summary).toMatchObject({
      type: 'failures',
      count: 12,
      byReason: [
        { code: 'notFound', count: 10 },
        { code: 'rejected', count: 2 },
      ],
    });
    expect(cardOf(summary).summary).toBe('12 uploads failed: 10 × notFound, 2 × rejected');
  });

  it('sends a lone failure as the job.failed event itself', () => {
    const out = coalesceFailures([{ key: 'k', job: failedJob(1), at: T0 }]);

    expect(out.map((o) => o.message.type)).toEqual(['job.failed']);
  });

  it('starts a new message for a failure after the window closed', () => {
    const out = coalesceFailures([
      { key: 'k', job: failedJob(1), at: T0 },
      { key: 'k', job: failedJob(2), at: T0 + 30_000 },
      { key: 'k', job: failedJob(3), at: T0 + MIN },
    ]);

    expect(out.map((o) => [o.sendAt, o.message.type])).toEqual([
      [T0 + MIN, 'failures'],
      [T0 + 2 * MIN, 'job.failed'],
    ]);
  });

  it('keeps one window per user/target', () => {
    const out = coalesceFailures([
      { key: 'u1/discord', job: failedJob(1), at: T0 },
      { key: 'u2/discord', job: failedJob(2), at: T0 + 1000 },
      { key: 'u1/discord', job: failedJob(3), at: T0 + 2000 },
    ]);

    expect(out.map((o) => [o.key, o.message.type])).toEqual([
      ['u1/discord', 'failures'],
      ['u2/discord', 'job.failed'],
    ]);
  });

  it('holds the window until it closes, then hands over its message', () => {
    const { window } = addFailure(undefined, failedJob(1), T0);
    const joined = addFailure(window, failedJob(2), T0 + 59_999).window;

    expect(flushWindow(joined, T0 + 59_999).due).toBeUndefined();
    expect(flushWindow(joined, T0 + MIN).due).toMatchObject({ type: 'failures', count: 2 });
  });

  it('hands back an unflushed window when the next failure comes late', () => {
    const { window } = addFailure(undefined, failedJob(1), T0);

    const later = addFailure(window, failedJob(2), T0 + 5 * MIN);

    expect(later.due?.type).toBe('job.failed');
    expect(later.window).toEqual({ openedAt: T0 + 5 * MIN, jobs: [failedJob(2)] });
  });

  it('uses the window length of the policy', () => {
    const policy = { ...DEFAULT_NOISE_POLICY, coalesceWindowMs: 10_000 };

    const out = coalesceFailures(
      [
        { key: 'k', job: failedJob(1), at: T0 },
        { key: 'k', job: failedJob(2), at: T0 + 20_000 },
      ],
      policy,
    );

    expect(out).toHaveLength(2);
  });
});

describe('hourly cap (sliding window)', () => {
  function sendEvery(state: CapState, count: number, start: number, stepMs: number, maxPerHour = 30) {
    const decisions = [];
    let s = state;
    for (let i = 0; i < count; i++) {
      const d = admitToCap(s, 'job.done', start + i * stepMs, { ...DEFAULT_NOISE_POLICY, maxPerHour });
      decisions.push(d);
      s = d.state;
    }
    return { decisions, state: s };
  }

  it('lets 30 messages through in an hour and holds back the 31st', () => {
    const { decisions } = sendEvery(EMPTY_CAP, 31, T0, MIN);

    expect(decisions.slice(0, 30).every((d) => d.send)).toBe(true);
    expect(decisions[30]).toMatchObject({ send: false, nextSlotAt: T0 + HOUR });
  });

  it('lets the next one through once the oldest send is an hour old', () => {
    const { state } = sendEvery(EMPTY_CAP, 31, T0, MIN);

    expect(admitToCap(state, 'job.done', T0 + HOUR).send).toBe(true);
  });

  it('counts across clock hours: 30 at 10:59 then one at 11:00 is held back', () => {
    const at1059 = Date.parse('2026-03-01T10:59:00Z');
    const { state } = sendEvery(EMPTY_CAP, 30, at1059, 100);

    expect(admitToCap(state, 'job.done', Date.parse('2026-03-01T11:00:00Z')).send).toBe(false);
  });

  it('reports how many were held back with the next message sent, then resets', () => {
    const { state } = sendEvery(EMPTY_CAP, 33, T0, 1000);

    const next = admitToCap(state, 'job.failed', T0 + HOUR + 1000);

    expect(next).toMatchObject({ send: true, suppressedBefore: 3 });
    expect(next.state.suppressed).toBe(0);
  });

  it('takes the cap as a parameter', () => {
    const { decisions } = sendEvery(EMPTY_CAP, 6, T0, 1000, 5);

    expect(decisions.map((d) => d.send)).toEqual([true, true, true, true, true, false]);
  });

  it.each(['outage', 'report'] as const)('always lets %s through without counting it', (type) => {
    const { state } = sendEvery(EMPTY_CAP, 30, T0, 1000);

    const d = admitToCap(state, type, T0 + 31_000);

    expect(d.send).toBe(true);
    expect(d.state).toBe(state);
  });

  it('forgets sends older than an hour', () => {
    const d = admitToCap({ sentAt: [T0 - 2 * HOUR, T0 - HOUR], suppressed: 0 }, 'job.done', T0);

    expect(d.state.sentAt).toEqual([T0]);
  });
});

describe('outage watch', () => {
  const ok = (at: number): OutageObservation => ({ at, circuitOpen: false, pausedUntil: 0 });

  function run(observations: OutageObservation[], state: OutageState = OUTAGE_CLEAR) {
    const notices: OutageNotice[] = [];
    let s = state;
    for (const obs of observations) {
      const r = observeOutage(s, obs);
      s = r.state;
      if (r.notice) notices.push(r.notice);
    }
    return { notices, state: s };
  }

  it('sends exactly one problem and one recovered for a circuit open over 100 polls', () => {
    const observations = [
      ok(T0),
      ...Array.from({ length: 100 }, (_, i) => ({
        at: T0 + (i + 1) * 30_000,
        circuitOpen: true,
        circuitReason: 'Not authenticated #100',
        pausedUntil: 0,
      })),
      ...Array.from({ length: 20 }, (_, i) => ok(T0 + (101 + i) * 30_000)),
    ];

    const { notices, state } = run(observations);

    expect(notices.map((n) => n.state)).toEqual(['problem', 'recovered']);
    expect(notices[0]).toMatchObject({
      causes: ['circuitOpen'],
      since: new Date(T0 + 30_000).toISOString(),
      detail: 'Not authenticated #100',
    });
    expect(notices[1]).toMatchObject({ until: new Date(T0 + 101 * 30_000).toISOString() });
    expect(state).toEqual(OUTAGE_CLEAR);
  });

  it('makes one outage of overlapping causes and lists them all on recovery', () => {
    const { notices } = run([
      { at: T0, circuitOpen: false, pausedUntil: T0 + 30 * MIN },
      { at: T0 + 20 * MIN, circuitOpen: false, pausedUntil: T0 + 30 * MIN, oldestQueuedAt: T0 - 50 * MIN },
      { at: T0 + 40 * MIN, circuitOpen: false, pausedUntil: 0, oldestQueuedAt: T0 - 50 * MIN },
      ok(T0 + 50 * MIN),
      ok(T0 + 60 * MIN),
    ]);

    expect(notices.map((n) => n.state)).toEqual(['problem', 'recovered']);
    expect(notices[0]?.causes).toEqual(['floodPause']);
    expect(notices[1]?.causes).toEqual(['floodPause', 'queueAge']);
  });

  it('ignores a flood pause of 10 minutes or less', () => {
    const { notices } = run([{ at: T0, circuitOpen: false, pausedUntil: T0 + 10 * MIN }, ok(T0 + 11 * MIN)]);

    expect(notices).toEqual([]);
  });

  it('keeps a long flood pause an outage until it ends, not until it has 10 min left', () => {
    const { notices } = run([
      { at: T0, circuitOpen: false, pausedUntil: T0 + HOUR },
      { at: T0 + 55 * MIN, circuitOpen: false, pausedUntil: T0 + HOUR },
    ]);

    expect(notices.map((n) => n.state)).toEqual(['problem']);
  });

  it('treats a job queued for over an hour as an outage', () => {
    const { notices } = run([{ at: T0, circuitOpen: false, pausedUntil: 0, oldestQueuedAt: T0 - HOUR - 1 }]);

    expect(notices).toMatchObject([{ state: 'problem', causes: ['queueAge'] }]);
  });

  it('waits for the quiet period before recovering, so a flapping cause is one outage', () => {
    const open = (at: number): OutageObservation => ({ at, circuitOpen: true, pausedUntil: 0 });

    const { notices } = run([open(T0), ok(T0 + MIN), open(T0 + 3 * MIN), ok(T0 + 4 * MIN), ok(T0 + 9 * MIN)]);

    expect(notices.map((n) => n.state)).toEqual(['problem', 'recovered']);
    expect(notices[1]?.until).toBe(new Date(T0 + 4 * MIN).toISOString());
  });

  it('recovers at the first clear observation when the quiet period is 0', () => {
    const policy = { ...DEFAULT_NOISE_POLICY, recoverQuietMs: 0 };
    let state = observeOutage(OUTAGE_CLEAR, { at: T0, circuitOpen: true, pausedUntil: 0 }, policy).state;

    const r = observeOutage(state, ok(T0 + 1000), policy);
    state = r.state;

    expect(r.notice?.state).toBe('recovered');
    expect(state).toEqual(OUTAGE_CLEAR);
  });

  it('says nothing while everything is fine', () => {
    expect(run(Array.from({ length: 10 }, (_, i) => ok(T0 + i * MIN))).notices).toEqual([]);
  });
});

describe('digest schedule', () => {
  const at = (iso: string) => Date.parse(iso);

  it('sends hourly digests at the next full hour', () => {
    expect(nextDigestAt('hourly', at('2026-03-01T10:15:00Z'))).toBe(at('2026-03-01T11:00:00Z'));
    expect(nextDigestAt('hourly', at('2026-03-01T11:00:00Z'))).toBe(at('2026-03-01T12:00:00Z'));
  });

  it('sends daily digests at 08:00 UTC, today or tomorrow', () => {
    expect(nextDigestAt('daily', at('2026-03-01T07:00:00Z'))).toBe(at('2026-03-01T08:00:00Z'));
    expect(nextDigestAt('daily', at('2026-03-01T08:00:00Z'))).toBe(at('2026-03-02T08:00:00Z'));
    expect(nextDigestAt('daily', at('2026-03-01T23:59:00Z'))).toBe(at('2026-03-02T08:00:00Z'));
  });

  it('takes the daily hour from the policy', () => {
    const policy = { ...DEFAULT_NOISE_POLICY, dailyDigestHourUtc: 18 };

    expect(nextDigestAt('daily', at('2026-03-01T10:00:00Z'), policy)).toBe(at('2026-03-01T18:00:00Z'));
  });

  it('schedules nothing for digest "none"', () => {
    expect(nextDigestAt('none', T0)).toBeUndefined();
  });

  it('covers the hour or the day before the send time', () => {
    expect(digestPeriod('hourly', at('2026-03-01T11:00:00Z'))).toEqual({
      from: '2026-03-01T10:00:00.000Z',
      to: '2026-03-01T11:00:00.000Z',
    });
    expect(digestPeriod('daily', at('2026-03-02T08:00:00Z')).from).toBe('2026-03-01T08:00:00.000Z');
  });
});
