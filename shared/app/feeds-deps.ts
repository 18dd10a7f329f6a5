/**
 * Composition root of the scheduled feeds reader: the common deps (job store, feed store, queue). It
 * never calls 1fichier, so it builds neither the 1fichier client nor the pacer.
 */
import type { FeedsDeps } from '../feeds/run-feeds.js';
import { createCommonDeps, lazyDocClient } from './common-deps.js';
import type { RelayConfig } from './config.js';

/**
 * Builds the feeds reader's deps once; only what is not overridden is built.
 * @example
 * const feeds = createFeedsHandler(createFeedsDeps(loadConfig()));
 */
export function createFeedsDeps(config: RelayConfig, overrides: Partial<FeedsDeps> = {}): FeedsDeps {
  const common = createCommonDeps(config, overrides, lazyDocClient());
  return {
    config: common.config,
    store: common.store,
    feeds: common.feeds,
    queue: common.queue,
    pollTimer: common.pollTimer,
    clock: common.clock,
    logger: common.logger,
    metrics: common.metrics,
    ...(overrides.feedHttp ? { feedHttp: overrides.feedHttp } : {}),
  };
}
