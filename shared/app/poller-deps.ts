/** Composition root of the scheduled poller: the common deps, the pacer and the 1fichier client. */

import { type CommonDeps, createCommonDeps, lazyDocClient } from './common-deps.js';
import type { RelayConfig } from './config.js';
import type { Deps } from './deps.js';
import { createFichierDeps, type FichierDeps } from './fichier-deps.js';
import { createKeyDeps, type KeyDeps } from './key-deps.js';
import { createNotifyServices } from './notify-deps.js';

/** What `pollRemoteRequests` (reconciliation and the circuit probe included) uses. */
export type PollerDeps = CommonDeps & KeyDeps & FichierDeps & Partial<Pick<Deps, 'notify'>>;

/**
 * Builds the poller's deps once; only what is not overridden is built.
 * @example
 * const poller = createPollerHandler(createPollerDeps(loadConfig()));
 */
export function createPollerDeps(config: RelayConfig, overrides: Partial<PollerDeps> = {}): PollerDeps {
  const docClient = lazyDocClient();
  const common = { ...createCommonDeps(config, overrides, docClient), ...createKeyDeps(config, overrides) };
  return {
    ...common,
    ...createFichierDeps(common, overrides, docClient),
    // The outage watch and the digests only queue messages: no sender, no key.
    notify: overrides.notify ?? createNotifyServices(config, docClient(), common.clock),
  };
}
