import { describe, expect, it } from 'vitest';
import { coalesceSoonPolls, type PollTimer } from '../../../shared/jobs/poll-plan.js';

const LEAD = 1500;

describe('coalesceSoonPolls', () => {
  it('skips a "soon" while one sent is due by then and at least the lead away; planned messages always go', async () => {
    let now = 1_000_000;
    const sent: string[] = [];
    const inner: PollTimer = { pollIn: async (ms, t) => void sent.push(`${t.kind}@${now + ms}`) };
    const timer = coalesceSoonPolls(inner, { now: () => now }, LEAD);
    await timer.pollIn(3000, { kind: 'soon' });
    now += 1000;
    await timer.pollIn(3000, { kind: 'soon' }); // the first is due in 2 s (≥ the lead): it covers this one
    await timer.pollIn(30_000, { kind: 'next', planId: 'p1' });
    now += 1000;
    // Due in 1 s only: a cycle that "just ran" might drop it and have started before this request.
    await timer.pollIn(3000, { kind: 'soon' });
    now += 3500;
    await timer.pollIn(3000, { kind: 'soon' }); // the last has fired: a new one
    expect(sent).toEqual(['soon@1003000', 'next@1031000', 'soon@1005000', 'soon@1008500']);
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
      LEAD,
    );
    await expect(timer.pollIn(3000, { kind: 'soon' })).rejects.toThrow('queue down');
    fail = false;
    await timer.pollIn(3000, { kind: 'soon' });
    expect(sent).toEqual([3000]);
  });
});
