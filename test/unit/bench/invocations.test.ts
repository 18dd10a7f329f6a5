import { describe, expect, it } from 'vitest';
import { invocationTimer } from '../../../bench/lib/invocations.js';

describe('invocationTimer', () => {
  it('times each invocation from its start to its end, per function, counting an end once', () => {
    let t = 0;
    const timer = invocationTimer(() => t);
    const worker = timer.onInvocation('worker');
    t = 5;
    const poller = timer.onInvocation('poller');
    t = 130;
    worker();
    worker();
    t = 200;
    poller();
    expect(timer.times()).toEqual({ worker: [130], poller: [195], apiFlushes: 0 });
  });

  it('settles only once every started invocation has ended', async () => {
    const timer = invocationTimer();
    const end = timer.onInvocation('poller');
    let settled = false;
    const waiting = timer.settled(5_000).then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 120));
    expect(settled).toBe(false);
    end();
    await waiting;
    expect(settled).toBe(true);
  });

  it('counts the metrics flushes of API requests apart and still flushes every one', () => {
    const timer = invocationTimer();
    let flushes = 0;
    let api = false;
    const deps = {
      metrics: {
        count: () => {},
        flush: () => {
          flushes += 1;
        },
      },
    };
    timer.countApiFlushes(deps, () => api);
    deps.metrics.flush();
    api = true;
    deps.metrics.flush();
    expect(flushes).toBe(2);
    expect(timer.times().apiFlushes).toBe(1);
  });
});
