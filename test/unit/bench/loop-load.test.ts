import { describe, expect, it } from 'vitest';
import { type LoadSample, loadBetween, loadSample } from '../../../bench/lib/loop-load.js';

const sample = (at: number, activeMs: number, idleMs: number, cpuMs: number): LoadSample => ({
  at,
  activeMs,
  idleMs,
  cpuMs,
});

describe('loadBetween', () => {
  const samples = [
    sample(1_000, 10, 990, 20),
    sample(2_000, 510, 1_490, 720),
    sample(3_000, 1_410, 1_590, 1_920),
    sample(4_000, 1_420, 2_580, 1_940),
  ];

  it('measures the busy share and the cores between the first and last sample inside the span', () => {
    // Samples at 2 000 and 3 000 fall inside: 900 ms busy of 1 000, 1 200 ms of CPU.
    expect(loadBetween(samples, 1_500, 3_500)).toEqual({
      spanMs: 1_000,
      busyMs: 900,
      utilisation: 0.9,
      cores: 1.2,
    });
  });

  it('covers the whole run when the span does', () => {
    const whole = loadBetween(samples, 0, 10_000);
    expect(whole?.spanMs).toBe(3_000);
    expect(whole?.busyMs).toBe(1_410);
    expect(whole?.utilisation).toBeCloseTo(1_410 / 3_000, 6);
  });

  it('is undefined when fewer than two samples fall inside the span', () => {
    expect(loadBetween(samples, 1_500, 2_500)).toBeUndefined();
    expect(loadBetween([], 0, 10_000)).toBeUndefined();
  });
});

describe('loadSample', () => {
  it('reads a busy main thread as active time and CPU', () => {
    const before = loadSample();
    const until = performance.now() + 60;
    while (performance.now() < until) {
      // Spin: the thread is busy, not waiting.
    }
    const after = loadSample();
    expect(after.activeMs - before.activeMs).toBeGreaterThan(40);
    expect(after.cpuMs - before.cpuMs).toBeGreaterThan(40);
    expect(after.at).toBeGreaterThanOrEqual(before.at);
  });
});
