/**
 * Sending waiting `queued` jobs to the queue again: the poller's safety net for lost messages, the
 * operator's circuit reset, and the local runtime's start. Apart from `poll.ts` so the API (which resets
 * the circuit) does not bundle the poller's use-case and the 1fichier calls behind it.
 */
import type { Deps } from '../app/deps.js';
import { TransitionConflictError } from './store.js';

/** Most jobs sent again per call (the next poll cycle takes the rest). */
export const REQUEUE_MAX_JOBS = 1000;

/**
 * Sends `queued` jobs unchanged since `changedBefore` to the queue again, refreshing their change time
 * first so the next cycle does not send them again. The local runtime calls it at start with `now`
 * (fauxqs keeps no messages across restarts).
 */
export async function requeueStaleJobs(
  deps: Pick<Deps, 'store' | 'queue' | 'clock' | 'logger'>,
  changedBefore: number,
): Promise<number> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listByStatus('queued', {
      limit: 100,
      changedBefore,
      ...(cursor ? { cursor } : {}),
    });
    for (const job of page.items) {
      // A job the retry policy set to wait longer keeps waiting (its message comes back by itself).
      if ((job.nextAttemptAt ?? 0) > deps.clock.now()) continue;
      try {
        await deps.store.transition(job.id, { status: 'queued' }, { status: 'queued' }, deps.clock.now());
        ids.push(job.id);
      } catch (err) {
        if (!(err instanceof TransitionConflictError)) throw err;
      }
    }
    cursor = page.next;
  } while (cursor && ids.length < REQUEUE_MAX_JOBS);
  if (ids.length) {
    await deps.queue.enqueue(ids);
    deps.logger.info('queued jobs sent again', { count: ids.length });
  }
  return ids.length;
}
