import { describe, expect, it } from 'vitest';
import { startSchedule } from '../../../infra/local/schedule.js';

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A task that records how many copies of itself run at once. */
function trackedTask(durationMs: number) {
  let active = 0;
  let maxActive = 0;
  let calls = 0;
  const task = async () => {
    calls += 1;
    active += 1;
    maxActive = Math.max(maxActive, active);
    await new Promise((r) => setTimeout(r, durationMs));
    active -= 1;
    return calls;
  };
  return { task, stats: () => ({ active, maxActive, calls }) };
}

describe('local schedule', () => {
  it('never overlaps runs, even when runNow() is called during a scheduled run', async () => {
    const t = trackedTask(30);
    const s = startSchedule({ name: 'test', task: t.task, intervalMs: 5, firstDelayMs: 0 });
    await until(() => t.stats().active === 1);
    const forced = await Promise.all([s.runNow(), s.runNow()]);
    await until(() => s.runs() >= 5);
    await s.stop();
    expect(t.stats().maxActive).toBe(1);
    expect(forced[1]).toBeGreaterThan(forced[0]);
  });

  it('stop() waits for the run in progress and cancels the next ones', async () => {
    const t = trackedTask(50);
    const s = startSchedule({ name: 'test', task: t.task, intervalMs: 1, firstDelayMs: 0 });
    await until(() => t.stats().active === 1);
    await s.stop();
    expect(t.stats().active).toBe(0);
    const callsAtStop = t.stats().calls;
    await new Promise((r) => setTimeout(r, 30));
    expect(t.stats().calls).toBe(callsAtStop);
  });

  it('keeps running after a failed run and reports the error', async () => {
    let calls = 0;
    const errors: string[] = [];
    const s = startSchedule({
      name: 'flaky',
      task: async () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return calls;
      },
      intervalMs: 5,
      firstDelayMs: 0,
      logger: { error: (m) => errors.push(m) },
    });
    await until(() => calls >= 3);
    await s.stop();
    expect(errors).toEqual(['flaky run failed; next run on schedule']);
  });

  it('nudge() brings a distant run forward', async () => {
    const t = trackedTask(1);
    const s = startSchedule({ name: 'test', task: t.task, intervalMs: 60_000 });
    s.nudge(10);
    await until(() => t.stats().calls === 1, 2_000);
    await s.stop();
  });
});
