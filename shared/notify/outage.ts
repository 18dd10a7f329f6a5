/**
 * The outage watch as a use-case: the poller hands it one observation per cycle (pacer state, age of the
 * oldest queued job); the pure watch (noise.ts `observeOutage`) decides, the state is written only when it
 * changes, and a `problem` or `recovered` notice becomes one delivery message per target subscribed to
 * `outage`. Exactly two messages per outage, whatever the number of jobs and cycles.
 */
import type { PacerState } from '../fichier/pacer.js';
import { oldestWaitingAt } from '../jobs/queue-age.js';
import type { DeliveryMessage, NotifyServices } from './deliver.js';
import { type OutageNotice, outageEvent } from './events.js';
import { OUTAGE_CLEAR, type OutageObservation, observeOutage } from './noise.js';

/**
 * An observation from the pacer's state and the oldest queued job's creation time (by default the one
 * a worker noted on the pacer item: `shared/jobs/queue-age.ts`).
 */
export function outageObservationOf(
  pacer: PacerState | null,
  now: number,
  oldestQueuedAt: number | undefined = oldestWaitingAt(pacer, now),
): OutageObservation {
  return {
    at: now,
    circuitOpen: pacer?.circuitOpen === true,
    ...(pacer?.circuitReason ? { circuitReason: pacer.circuitReason } : {}),
    pausedUntil: pacer?.pausedUntil ?? 0,
    ...(oldestQueuedAt !== undefined ? { oldestQueuedAt } : {}),
  };
}

/**
 * Feeds one observation to the watch. Returns the notice sent, if any. A concurrent poller that wrote
 * first wins; this call then sends nothing.
 */
export async function watchOutage(
  obs: OutageObservation,
  deps: { notify: Pick<NotifyServices, 'targets' | 'queue' | 'noise' | 'outages'> },
): Promise<OutageNotice | undefined> {
  const stored = await deps.notify.outages.get();
  const before = stored?.state ?? OUTAGE_CLEAR;
  const { state, notice } = observeOutage(before, obs, deps.notify.noise);
  if (JSON.stringify(state) === JSON.stringify(before)) return undefined;
  if (!(await deps.notify.outages.put(state, stored?.version ?? 0))) return undefined;
  if (!notice) return undefined;
  const event = outageEvent(notice);
  const targets = (await deps.notify.targets.listWatchTargets()).filter((t) => t.outage);
  const messages: DeliveryMessage[] = targets.map((t) => ({
    v: 1,
    userId: t.userId,
    to: { kind: 'target', id: t.id },
    event,
    attempts: 0,
  }));
  if (messages.length) await deps.notify.queue.send(messages.map((message) => ({ message })));
  return notice;
}
