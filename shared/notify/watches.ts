/**
 * What the poller runs after each cycle for notifications: the outage watch on the cycle's pacer state and
 * the report digests that fell due. Only where a deliveries queue is configured; a failure here is logged
 * and never fails the poll.
 */

import type { RelayConfig } from '../app/config.js';
import type { RelayLogger } from '../app/deps.js';
import type { Clock } from '../fichier/clock.js';
import type { JobStore } from '../jobs/store.js';
import type { Report } from '../reports/store.js';
import type { NotifyServices } from './deliver.js';
import { deliverDueDigests } from './digest.js';
import { outageObservationOf, watchOutage } from './outage.js';

/** Runs the outage watch and the digests after a poll cycle. */
export async function runNotifyWatches(
  report: Report,
  deps: {
    config: Pick<RelayConfig, 'notify' | 'pollIntervalS'>;
    notify?: NotifyServices;
    store: Pick<JobStore, 'listForUser'>;
    clock: Pick<Clock, 'now'>;
    logger: RelayLogger;
  },
): Promise<void> {
  const { notify } = deps;
  if (!notify || !deps.config.notify.queueUrl) return;
  try {
    const now = deps.clock.now();
    await watchOutage(outageObservationOf(report.pacer, now), { notify });
    // Two cycles back: a late or skipped cycle still sends; a digest already recorded is not sent again.
    await deliverDueDigests({
      notify,
      store: deps.store,
      clock: deps.clock,
      lookBackMs: 2 * deps.config.pollIntervalS * 1000,
    });
  } catch (err) {
    deps.logger.warn('notification watches failed; the next cycle tries again', {
      error: (err as Error).message,
    });
  }
}
