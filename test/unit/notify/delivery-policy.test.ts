import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DELIVERY_POLICY,
  type DeliveryAnswer,
  type DeliveryDecision,
  type DeliveryPolicy,
  decideDelivery,
  retryDelay,
} from '../../../shared/notify/delivery-policy.js';
import { seededRandom, T0 } from './fixtures.js';

const http = (status: number, retryAfter?: string): DeliveryAnswer => ({ kind: 'http', status, retryAfter });
const decide = (answer: DeliveryAnswer, extra: Partial<Parameters<typeof decideDelivery>[0]> = {}) =>
  decideDelivery({ answer, attempts: 1, firstAttemptAt: T0, nowMs: T0, random: () => 0, ...extra });

describe('DEFAULT_DELIVERY_POLICY', () => {
  it('retries first after 10 s and gives up after 24 h', () => {
    expect(DEFAULT_DELIVERY_POLICY).toMatchObject({ retryBaseMs: 10_000, giveUpAfterMs: 86_400_000 });
  });
});

describe('decideDelivery: what an answer means', () => {
  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [299, 'delivered'],
    [410, 'gone'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [301, 'failed'],
    [400, 'failed'],
    [401, 'failed'],
    [403, 'failed'],
    [404, 'failed'],
    [409, 'failed'],
    [100, 'failed'],
  ] as const)('HTTP %i → %s', (status, outcome) => {
    expect(decide(http(status)).outcome).toBe(outcome);
  });

  it('retries a network error or timeout', () => {
    expect(decide({ kind: 'network', error: new Error('ECONNRESET') }).outcome).toBe('retry');
  });

  it('fails a request the SSRF guard blocked, without retrying', () => {
    expect(decide({ kind: 'blocked', reason: '10.0.0.5 is a private address' })).toEqual({
      outcome: 'failed',
      reason: 'rejected',
      note: 'not sent: 10.0.0.5 is a private address',
    });
  });

  it('gives a note for each decision', () => {
    expect(decide(http(410)).note).toMatch(/disable the endpoint/);
    expect(decide(http(404)).note).toMatch(/retrying cannot help/);
  });
});

describe('retryDelay', () => {
  const policy: DeliveryPolicy = { retryBaseMs: 1000, retryMaxMs: 60_000, giveUpAfterMs: 86_400_000 };

  it('puts the first retry between the base and twice the base', () => {
    expect(retryDelay(1, DEFAULT_DELIVERY_POLICY, () => 0)).toBe(10_000);
    expect(retryDelay(1, DEFAULT_DELIVERY_POLICY, () => 0.999_999)).toBe(19_999);
  });

  it('takes the base as a parameter', () => {
    expect(retryDelay(1, { ...policy, retryBaseMs: 2500 }, () => 0)).toBe(2500);
  });

  it('doubles the ceiling on each retry', () => {
    const ceilings = [1, 2, 3, 4].map((n) => retryDelay(n, policy, () => 1));

    expect(ceilings).toEqual([2000, 4000, 8000, 16_000]);
  });

  it('caps the ceiling at retryMaxMs', () => {
    expect(retryDelay(30, policy, () => 1)).toBe(60_000);
  });

  it('spreads delays over the whole range (full jitter)', () => {
    const random = seededRandom(42);

    const delays = Array.from({ length: 200 }, () => retryDelay(5, policy, random));

    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(32_000);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(25_000);
  });
});

describe('decideDelivery: when to retry', () => {
  it('schedules the retry at now + the jittered delay', () => {
    const d = decide(http(503), { nowMs: T0 + 5000, random: () => 0.5 });

    expect(d).toMatchObject({ outcome: 'retry', delayMs: 15_000, retryAt: T0 + 20_000 });
  });

  it('honours a Retry-After in seconds longer than the backoff', () => {
    expect(decide(http(429, '120'))).toMatchObject({ outcome: 'retry', delayMs: 120_000 });
  });

  it('honours a Retry-After HTTP-date', () => {
    const at = new Date(T0 + 300_000).toUTCString();

    expect(decide(http(503, at))).toMatchObject({ outcome: 'retry', delayMs: 300_000 });
  });

  it('keeps the backoff when Retry-After asks for less', () => {
    expect(decide(http(429, '1'))).toMatchObject({ delayMs: 10_000 });
  });

  it('caps a Retry-After at retryMaxMs', () => {
    expect(decide(http(429, String(7 * 24 * 3600)))).toMatchObject({
      delayMs: DEFAULT_DELIVERY_POLICY.retryMaxMs,
    });
  });

  it('moves the last retry to the 24 h deadline instead of past it', () => {
    const now = T0 + DEFAULT_DELIVERY_POLICY.giveUpAfterMs - 60_000;

    const d = decide(http(500), { attempts: 40, nowMs: now, random: () => 1 });

    expect(d).toMatchObject({ outcome: 'retry', retryAt: T0 + DEFAULT_DELIVERY_POLICY.giveUpAfterMs });
  });

  it('fails as expired once an attempt fails at the deadline', () => {
    const d = decide(http(500), { attempts: 41, nowMs: T0 + DEFAULT_DELIVERY_POLICY.giveUpAfterMs });

    expect(d).toMatchObject({ outcome: 'failed', reason: 'expired' });
  });

  it('retries a dead endpoint for 24 h on a fake clock, then fails once', () => {
    const random = seededRandom(7);
    let now = T0;
    let attempts = 1;
    const decisions: DeliveryDecision[] = [];

    for (;;) {
      const d = decideDelivery({ answer: http(502), attempts, firstAttemptAt: T0, nowMs: now, random });
      decisions.push(d);
      if (d.outcome !== 'retry') break;
      now = d.retryAt;
      attempts += 1;
    }

    const last = decisions.at(-1);
    const retries = decisions.filter((d) => d.outcome === 'retry');
    expect(last).toMatchObject({ outcome: 'failed', reason: 'expired' });
    expect(now).toBe(T0 + DEFAULT_DELIVERY_POLICY.giveUpAfterMs);
    expect(retries.every((d) => d.outcome === 'retry' && d.delayMs >= 0 && d.delayMs <= 3_600_000)).toBe(
      true,
    );
    expect(retries.length).toBeGreaterThan(24);
    expect(retries.length).toBeLessThan(80);
  });
});
