/**
 * Use-case of the poller's entry point: whether the triggers of an invocation call for a cycle (a
 * schedule tick always does; a poll message only while it still counts: `shouldRunCycle`), and the cycle
 * itself. A cycle that fails planned no next one, so it asks for one a poll interval later; otherwise open
 * requests and jobs to reconcile would wait for the safety net.
 */
import type { Report } from '../reports/store.js';
import { type PollRemoteDeps, pollRemoteRequests } from './poll.js';
import { type PollTrigger, pollPlanPolicy, shouldRunCycle } from './poll-plan.js';

/** Runs a cycle if `triggers` call for one; its report, or `undefined` when none was needed. */
export async function pollOnTriggers(
  triggers: readonly PollTrigger[],
  deps: PollRemoteDeps,
): Promise<Report | undefined> {
  const policy = pollPlanPolicy(deps.config.pollIntervalS);
  if (!triggers.some((t) => t.kind === 'tick')) {
    const latest = await deps.reports.latestReport();
    const seen = latest
      ? { lastCycleAt: Date.parse(latest.period.to), ...(latest.next ? { next: latest.next } : {}) }
      : undefined;
    const now = deps.clock.now();
    if (!triggers.some((t) => shouldRunCycle(t, seen, now, policy))) {
      deps.logger.debug('poll trigger needs no cycle', { triggers: triggers.length });
      return undefined;
    }
  }
  try {
    return await pollRemoteRequests(deps);
  } catch (err) {
    await deps.pollTimer.pollIn(policy.maxDelayMs, { kind: 'soon' }).catch(() => undefined);
    throw err;
  }
}
