/** Composition root of the deliveries function: the job store (read only), the notification services. */

import { guardedSender } from '../notify/send.js';
import { createCommonDeps, lazyDocClient } from './common-deps.js';
import type { RelayConfig } from './config.js';
import type { Deps } from './deps.js';
import { createNotifyServices } from './notify-deps.js';

/** What the deliveries handler uses. */
export type DeliveriesDeps = Pick<Deps, 'config' | 'store' | 'clock' | 'logger' | 'notify'>;

/**
 * Builds the deliveries function's deps once; only what is not overridden is built.
 * @example const handler = createDeliveriesHandler(createDeliveriesDeps(loadConfig()));
 */
export function createDeliveriesDeps(
  config: RelayConfig,
  overrides: Partial<DeliveriesDeps> = {},
): DeliveriesDeps {
  const docClient = lazyDocClient();
  const common = createCommonDeps(config, overrides, docClient);
  return {
    config,
    store: common.store,
    clock: common.clock,
    logger: common.logger,
    notify:
      overrides.notify ??
      createNotifyServices(config, docClient(), common.clock, {
        send: guardedSender({ allowPrivate: config.allowPrivateUrls }),
      }),
  };
}
