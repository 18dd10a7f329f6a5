/**
 * Scheduled feeds reader Lambda (EventBridge, every minute): fetches the feeds that are due, each under
 * its own lease, until the invocation's time budget is spent; what is left stays due for the next tick.
 */
import type { Context } from 'aws-lambda';
import { loadConfig } from '../shared/app/config.js';
import { createFeedsDeps } from '../shared/app/feeds-deps.js';
import { type FeedsDeps, type RunDueSummary, runDueFeeds } from '../shared/feeds/run-feeds.js';

/** Time kept at the end of an invocation for the last writes and the metrics flush. */
export const FEEDS_SAFETY_MS = 5_000;
/** Budget of a run without a Lambda context (the local runtime): one fetch's worth and its writes. */
export const LOCAL_RUN_BUDGET_MS = 90_000;

/** Builds the handler over the given deps. The event (an EventBridge tick) carries nothing we use. */
export function createFeedsHandler(
  deps: FeedsDeps,
): (event?: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<RunDueSummary> {
  return async (_event, context) => {
    const remaining = context?.getRemainingTimeInMillis() ?? LOCAL_RUN_BUDGET_MS;
    try {
      const summary = await runDueFeeds(deps, {
        deadline: deps.clock.now() + Math.max(0, remaining - FEEDS_SAFETY_MS),
      });
      if (summary.fetched || summary.errors) deps.logger.info('feeds run', { ...summary });
      return summary;
    } finally {
      deps.metrics.flush();
    }
  };
}

let lambdaHandler: ReturnType<typeof createFeedsHandler> | undefined;

/** EventBridge schedule entry point; deps are built on the first call. */
export const handler = (event?: unknown, context?: Context): Promise<RunDueSummary> => {
  lambdaHandler ??= createFeedsHandler(createFeedsDeps(loadConfig()));
  return lambdaHandler(event, context);
};
