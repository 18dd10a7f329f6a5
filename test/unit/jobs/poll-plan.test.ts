import { describe, expect, it } from 'vitest';
import {
  nextPollDelay,
  POLL_SAFETY_NET_S,
  parsePollTrigger,
  pollPlanPolicy,
  shouldRunCycle,
} from '../../../shared/jobs/poll-plan.js';

const policy = pollPlanPolicy(30);
const NOW = Date.UTC(2026, 11, 1, 12);

describe('nextPollDelay', () => {
  it('plans nothing while nothing is open: an idle relay is left to the safety net', () => {
    expect(nextPollDelay({ now: NOW, openSubmittedAt: [], pendingJobs: 0, progressed: false }, policy)).toBe(
      undefined,
    );
    expect(policy.safetyMs).toBe(POLL_SAFETY_NET_S * 1000);
  });

  it('polls a few seconds after a submission, then doubles the wait while nothing ends, up to POLL_INTERVAL_S', () => {
    const delays: number[] = [];
    let previous: number | undefined;
    let now = NOW;
    for (let i = 0; i < 7; i++) {
      const d = nextPollDelay(
        {
          now,
          openSubmittedAt: [NOW],
          pendingJobs: 0,
          progressed: i === 0,
          ...(previous === undefined ? {} : { previousDelayMs: previous }),
        },
        policy,
      ) as number;
      delays.push(d);
      previous = d;
      now += d;
    }
    expect(delays).toEqual([3000, 6000, 12_000, 24_000, 30_000, 30_000, 30_000]);
  });

  it('goes back to the first delay as soon as a cycle ends jobs', () => {
    const d = nextPollDelay(
      {
        now: NOW,
        openSubmittedAt: [NOW - 60_000],
        pendingJobs: 0,
        progressed: true,
        previousDelayMs: 30_000,
      },
      policy,
    );
    expect(d).toBe(3000);
  });

  it('lets the wait grow to a tenth of the age of requests open for long, never past the safety net', () => {
    const hour = 3_600_000;
    const input = { now: NOW, pendingJobs: 0, progressed: false, previousDelayMs: 600_000 };
    expect(nextPollDelay({ ...input, openSubmittedAt: [NOW - 20 * 60_000] }, policy)).toBe(120_000);
    expect(nextPollDelay({ ...input, openSubmittedAt: [NOW - 10 * hour] }, policy)).toBe(300_000);
  });

  it('keeps one cycle per poll interval for jobs left to reconcile, and waits out a flood pause', () => {
    expect(nextPollDelay({ now: NOW, openSubmittedAt: [], pendingJobs: 2, progressed: false }, policy)).toBe(
      30_000,
    );
    expect(
      nextPollDelay(
        { now: NOW, openSubmittedAt: [NOW], pendingJobs: 0, progressed: true, pausedUntil: NOW + 90_000 },
        policy,
      ),
    ).toBe(90_000);
  });
});

describe('shouldRunCycle', () => {
  const next = { planId: 'p1', at: new Date(NOW + 20_000).toISOString(), delayMs: 20_000 };

  it('always runs on the schedule tick', () => {
    expect(shouldRunCycle({ kind: 'tick' }, { lastCycleAt: NOW, next }, NOW, policy)).toBe(true);
  });

  it('runs a planned message only while it is still the plan', () => {
    expect(
      shouldRunCycle({ kind: 'next', planId: 'p1' }, { lastCycleAt: NOW, next }, NOW + 20_000, policy),
    ).toBe(true);
    expect(
      shouldRunCycle({ kind: 'next', planId: 'old' }, { lastCycleAt: NOW, next }, NOW + 20_000, policy),
    ).toBe(false);
  });

  it("runs a worker's 'soon' unless a cycle just ran or one is due within the first delay", () => {
    expect(shouldRunCycle({ kind: 'soon' }, { lastCycleAt: NOW - 10_000, next }, NOW, policy)).toBe(true);
    expect(shouldRunCycle({ kind: 'soon' }, { lastCycleAt: NOW - 500, next }, NOW, policy)).toBe(false);
    expect(shouldRunCycle({ kind: 'soon' }, { lastCycleAt: NOW - 10_000, next }, NOW + 18_000, policy)).toBe(
      false,
    );
    expect(shouldRunCycle({ kind: 'soon' }, undefined, NOW, policy)).toBe(true);
  });
});

describe('parsePollTrigger', () => {
  it('reads the two message kinds and refuses anything else', () => {
    expect(parsePollTrigger('{"kind":"soon"}')).toEqual({ kind: 'soon' });
    expect(parsePollTrigger('{"kind":"next","planId":"abc"}')).toEqual({ kind: 'next', planId: 'abc' });
    expect(parsePollTrigger('{"kind":"next"}')).toBeUndefined();
    expect(parsePollTrigger('{"kind":"tick"}')).toBeUndefined();
    expect(parsePollTrigger('not json')).toBeUndefined();
  });
});
