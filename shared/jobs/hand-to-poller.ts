/**
 * Handing jobs to the poller: jobs whose SQS message may be lost (a failed send, a message dropped after
 * too many deferrals, a circuit that acknowledged it) or that must be reconciled go into the pending
 * index, and the poller is asked for a cycle soon. Without that ask, an idle poll plan would leave them
 * to the slow safety-net schedule.
 */
import type { Deps } from '../app/deps.js';
import { pollPlanPolicy } from './poll-plan.js';

/** Marks `ids` pending (see `JobStore.markPending`) and asks for a poll cycle soon. Returns how many were marked. */
export async function handToPoller(
  ids: readonly string[],
  deps: Pick<Deps, 'store' | 'pollTimer' | 'config' | 'logger'>,
  now: number,
): Promise<number> {
  if (ids.length === 0) return 0;
  const marked = await deps.store.markPending(ids, now);
  try {
    await deps.pollTimer.pollIn(pollPlanPolicy(deps.config.pollIntervalS).firstDelayMs, { kind: 'soon' });
  } catch (err) {
    // The pending index keeps them; the safety-net schedule finds them.
    deps.logger.warn('could not ask for a poll cycle soon', { error: (err as Error).message });
  }
  return marked;
}
