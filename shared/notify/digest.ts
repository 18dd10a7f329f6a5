/**
 * Report digests as a use-case: each poller cycle asks which targets' digest fell due since the cycles it
 * covers (`lookBackMs`), builds each user's digest of the period from their jobs (reads only), and puts one
 * `report` message per due target on the deliveries queue. A digest already recorded for that period is
 * not sent again, so overlapping look-backs and repeated cycles are harmless.
 */
import type { Clock } from '../fichier/clock.js';
import { presentJob } from '../http/present.js';
import type { JobStore } from '../jobs/store.js';
import type { DeliveryMessage, NotifyServices } from './deliver.js';
import { buildReportDigest, messageIdFor, reportEvent } from './events.js';
import { digestPeriod, nextDigestAt } from './noise.js';

/** Most jobs read per user for one digest (newest first); a busier period lists its newest ones. */
const DIGEST_MAX_JOBS = 500;

/**
 * Sends the digests due in `(now - lookBackMs, now]`. Returns how many messages were queued.
 * @example await deliverDueDigests({ ...deps, lookBackMs: 2 * pollIntervalMs });
 */
export async function deliverDueDigests(deps: {
  notify: Pick<NotifyServices, 'targets' | 'deliveries' | 'queue' | 'noise'>;
  store: Pick<JobStore, 'listForUser'>;
  clock: Pick<Clock, 'now'>;
  lookBackMs: number;
}): Promise<number> {
  const now = deps.clock.now();
  const due = (await deps.notify.targets.listWatchTargets()).flatMap((t) => {
    if (t.digest === 'none') return [];
    const sendAt = nextDigestAt(t.digest, now - deps.lookBackMs, deps.notify.noise);
    return sendAt !== undefined && sendAt <= now ? [{ ...t, digest: t.digest, sendAt }] : [];
  });
  const messages: DeliveryMessage[] = [];
  const jobsOf = new Map<string, Promise<ReturnType<typeof presentJob>[]>>();
  for (const t of due) {
    const period = digestPeriod(t.digest, t.sendAt);
    if (!jobsOf.has(t.userId)) {
      jobsOf.set(
        t.userId,
        deps.store.listForUser(t.userId, { limit: DIGEST_MAX_JOBS }).then((p) => p.items.map(presentJob)),
      );
    }
    const event = reportEvent(
      buildReportDigest({
        digest: t.digest,
        period,
        jobs: await (jobsOf.get(t.userId) as Promise<ReturnType<typeof presentJob>[]>),
      }),
    );
    const sent = await deps.notify.deliveries.getDelivery(
      t.userId,
      event.occurredAt,
      messageIdFor(t.id, event),
    );
    if (sent) continue;
    messages.push({ v: 1, userId: t.userId, to: { kind: 'target', id: t.id }, event, attempts: 0 });
  }
  if (messages.length) await deps.notify.queue.send(messages.map((message) => ({ message })));
  return messages.length;
}
