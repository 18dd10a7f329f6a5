import type { Clock } from '../../../shared/fichier/memory-pacer.js';

/**
 * Deterministic clock: `sleep` registers a timer, `runAll` fires timers in time order (advancing
 * `now` to each), letting awaited continuations run between timers. Nothing waits for real time.
 */
export class FakeClock implements Clock {
  private t: number;
  private timers: { at: number; seq: number; resolve: () => void }[] = [];
  private seq = 0;
  /** Every delay passed to `sleep`, in call order. */
  readonly sleeps: number[] = [];

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve) => {
      this.timers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve });
    });
  }

  /** Moves time forward without firing timers (for state that only reads `now`). */
  advance(ms: number): void {
    this.t += ms;
  }

  /** Fires every pending timer (including ones scheduled meanwhile) until none is left. */
  async runAll(): Promise<void> {
    await flushMicrotasks();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) return;
      this.t = Math.max(this.t, next.at);
      next.resolve();
      await flushMicrotasks();
    }
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
