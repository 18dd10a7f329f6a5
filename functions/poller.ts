/** Scheduled poller/reporter Lambda: one `pollRemoteRequests` cycle per invocation. */
import { loadConfig } from '../shared/app/config.js';
import { createPollerDeps, type PollerDeps } from '../shared/app/poller-deps.js';
import { pollRemoteRequests } from '../shared/jobs/poll.js';
import type { Report } from '../shared/jobs/store.js';
import { runNotifyWatches } from '../shared/notify/watches.js';

/** Builds the poller handler over the given deps. The event (an EventBridge tick) carries nothing we use. */
export function createPollerHandler(deps: PollerDeps): (event?: unknown) => Promise<Report> {
  return async () => {
    try {
      const report = await pollRemoteRequests(deps);
      await runNotifyWatches(report, deps);
      return report;
    } finally {
      deps.metrics.flush();
    }
  };
}

let lambdaHandler: ReturnType<typeof createPollerHandler> | undefined;

/** EventBridge schedule entry point; deps are built on the first call. */
export const handler = (event?: unknown): Promise<Report> => {
  lambdaHandler ??= createPollerHandler(createPollerDeps(loadConfig()));
  return lambdaHandler(event);
};
