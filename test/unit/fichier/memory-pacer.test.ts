import { describe, expect, it } from 'vitest';
import type { PacingPolicy } from '../../../shared/fichier/backoff.js';
import { keyIdOf, MemoryPacer } from '../../../shared/fichier/memory-pacer.js';
import { FakeClock } from './fake-clock.js';

const policy: PacingPolicy = {
  minIntervalMs: 1000,
  floodPauseMs: 10_000,
  floodPauseMaxMs: 35_000,
  ipLockPauseMs: 3_600_000,
  floodGrowth: 2,
  transientBaseMs: 100,
  transientMaxMs: 1000,
  maxRetries: 3,
};
const KEY = 'k1';

function setup() {
  const clock = new FakeClock();
  const pacer = new MemoryPacer({ policy, clock });
  return { clock, pacer };
}

describe('keyIdOf', () => {
  it('is a short stable hex hash that does not contain the key', () => {
    const key = 'abcdefghijklmnopqrstuvwxyz012345';
    expect(keyIdOf(key)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(key)).toBe(keyIdOf(key));
    expect(keyIdOf(key)).not.toBe(keyIdOf(`${key}x`));
    expect(keyIdOf(key)).not.toContain('abcdef');
  });
});

describe('MemoryPacer', () => {
  it('spaces 10 concurrent callers at least minIntervalMs apart', async () => {
    const { clock, pacer } = setup();
    const grantedAt: number[] = [];
    const all = Array.from({ length: 10 }, () =>
      pacer.take(KEY).then((d) => {
        expect(d.granted).toBe(true);
        grantedAt.push(clock.now());
      }),
    );
    await clock.runAll();
    await Promise.all(all);
    grantedAt.sort((a, b) => a - b);
    const gaps = grantedAt.slice(1).map((t, i) => t - grantedAt[i]!);
    expect(gaps).toHaveLength(9);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1000);
  });

  it('grants at once when the last call is older than minIntervalMs', async () => {
    const { clock, pacer } = setup();
    await pacer.take(KEY);
    clock.advance(1500);
    const p = pacer.take(KEY);
    expect(await p).toEqual({ granted: true });
    expect(clock.sleeps).toEqual([]);
  });

  it('leaves the slot after a cold call unused, and only after a cold one', async () => {
    const { clock, pacer } = setup();
    await pacer.take(KEY, { coldCall: true });
    const second = pacer.take(KEY);
    await clock.runAll();
    expect(await second).toEqual({ granted: true });
    // The cold call's own slot at 0, its unused neighbour at 1000: the next call waits 2000.
    expect(clock.sleeps).toEqual([2000]);
    const third = pacer.take(KEY);
    await clock.runAll();
    await third;
    expect(clock.sleeps).toEqual([2000, 1000]);
  });

  it('keeps separate state per key', async () => {
    const { clock, pacer } = setup();
    await pacer.take('a');
    await pacer.take('b');
    expect(clock.sleeps).toEqual([]);
  });

  it('pauses every call after a flood, growing x2 on repeats up to the cap', async () => {
    const { clock, pacer } = setup();
    const start = clock.now();
    await pacer.recordFlood(KEY);
    expect((await pacer.state(KEY)).pausedUntil).toBe(start + 10_000);
    await pacer.recordFlood(KEY);
    expect((await pacer.state(KEY)).pausedUntil).toBe(start + 20_000);
    await pacer.recordFlood(KEY);
    expect((await pacer.state(KEY)).pausedUntil).toBe(start + 35_000);
    expect((await pacer.state(KEY)).floodCount).toBe(3);

    const take = pacer.take(KEY);
    await clock.runAll();
    expect(await take).toEqual({ granted: true });
    expect(clock.now()).toBe(start + 35_000);
  });

  it('uses a longer server-given pause than the policy one', async () => {
    const { clock, pacer } = setup();
    await pacer.recordFlood(KEY, { retryAfterMs: 25_000 });
    expect((await pacer.state(KEY)).pausedUntil).toBe(clock.now() + 25_000);
  });

  it('resets the flood streak after a success', async () => {
    const { clock, pacer } = setup();
    await pacer.recordFlood(KEY);
    await pacer.recordFlood(KEY);
    await pacer.recordSuccess(KEY);
    expect((await pacer.state(KEY)).floodCount).toBe(0);
    clock.advance(60_000);
    await pacer.recordFlood(KEY);
    expect((await pacer.state(KEY)).pausedUntil).toBe(clock.now() + 10_000);
  });

  it('pushes a waiting caller past a flood recorded while it waited', async () => {
    const { clock, pacer } = setup();
    const start = clock.now();
    await pacer.take(KEY);
    let grantedAt = 0;
    const waiting = pacer.take(KEY).then(() => {
      grantedAt = clock.now();
    });
    await pacer.recordFlood(KEY);
    await clock.runAll();
    await waiting;
    expect(grantedAt).toBe(start + 10_000);
  });

  it('opens the circuit on an auth failure until reset', async () => {
    const { pacer } = setup();
    await pacer.recordAuthFailure(KEY, 'Not authenticated #247');
    const refused = await pacer.take(KEY);
    expect(refused).toMatchObject({
      granted: false,
      reason: 'circuitOpen',
      detail: 'Not authenticated #247',
    });
    expect((await pacer.state(KEY)).circuitOpen).toBe(true);

    await pacer.reset(KEY);
    expect((await pacer.state(KEY)).circuitOpen).toBe(false);
    expect(await pacer.take(KEY)).toEqual({ granted: true });
  });

  it('refuses a caller waiting on the circuit opened while it waited', async () => {
    const { clock, pacer } = setup();
    await pacer.take(KEY);
    const waiting = pacer.take(KEY);
    await pacer.recordAuthFailure(KEY, 'No such user #93');
    await clock.runAll();
    expect(await waiting).toMatchObject({ granted: false, reason: 'circuitOpen' });
  });

  it('answers paused with retryAfterMs instead of waiting past maxWaitMs', async () => {
    const { clock, pacer } = setup();
    await pacer.recordFlood(KEY);
    clock.advance(4000);
    const d = await pacer.take(KEY, { maxWaitMs: 1000 });
    expect(d).toMatchObject({ granted: false, reason: 'paused', retryAfterMs: 6000 });
    expect(clock.sleeps).toEqual([]);
  });

  it('answers busy when other callers hold the slots beyond maxWaitMs', async () => {
    const { clock, pacer } = setup();
    await pacer.take(KEY);
    const second = pacer.take(KEY);
    const third = await pacer.take(KEY, { maxWaitMs: 1500 });
    expect(third).toMatchObject({ granted: false, reason: 'busy', retryAfterMs: 2000 });
    await clock.runAll();
    expect(await second).toEqual({ granted: true });
  });

  it('waits when the slot is within maxWaitMs', async () => {
    const { clock, pacer } = setup();
    await pacer.take(KEY);
    const p = pacer.take(KEY, { maxWaitMs: 1000 });
    await clock.runAll();
    expect(await p).toEqual({ granted: true });
    expect(clock.sleeps).toEqual([1000]);
  });
});
