import { describe, expect, it } from 'vitest';
import { coalesceSoonPolls, type PollTimer } from '../../../shared/jobs/poll-plan.js';

describe('coalesceSoonPolls', () => {
  it('sends a worker’s "soon" only when none sent is still due by then, and every planned message', async () => {
    let now = 1_000_000;
    const sent: string[] = [];
    const inner: PollTimer = { pollIn: async (ms, t) => void sent.push(`${t.kind}@${now + ms}`) };
    const timer = coalesceSoonPolls(inner, { now: () => now });
    await timer.pollIn(3000, { kind: 'soon' });
    now += 1000;
    await timer.pollIn(3000, { kind: 'soon' }); // the first is due in 2 s: enough
    await timer.pollIn(30_000, { kind: 'next', planId: 'p1' });
    now += 2500;
    await timer.pollIn(3000, { kind: 'soon' }); // the first has fired: a new one
    expect(sent).toEqual(['soon@1003000', 'next@1031000', 'soon@1006500']);
  });

  it('forgets a "soon" whose send failed, so the next ask sends again', async () => {
    let fail = true;
    const sent: number[] = [];
    const timer = coalesceSoonPolls(
      {
        pollIn: async (ms) => {
          if (fail) throw new Error('queue down');
          sent.push(ms);
        },
      },
      { now: () => 0 },
    );
    await expect(timer.pollIn(3000, { kind: 'soon' })).rejects.toThrow('queue down');
    fail = false;
    await timer.pollIn(3000, { kind: 'soon' });
    expect(sent).toEqual([3000]);
  });
});
