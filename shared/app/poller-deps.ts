/** Composition root of the scheduled poller: the common deps, the pacer and the 1fichier client. */

import { type CommonDeps, createCommonDeps, lazyDocClient } from './common-deps.js';
import type { RelayConfig } from './config.js';
import { createFichierDeps, type FichierDeps } from './fichier-deps.js';

/** What `pollRemoteRequests` (reconciliation and the circuit probe included) uses. */
export type PollerDeps = CommonDeps & FichierDeps;

/**
 * Builds the poller's deps once; only what is not overridden is built.
 * @example
 * const poller = createPollerHandler(createPollerDeps(loadConfig()));
 */
export function createPollerDeps(config: RelayConfig, overrides: Partial<PollerDeps> = {}): PollerDeps {
  const docClient = lazyDocClient();
  const common = createCommonDeps(config, overrides, docClient);
  return { ...common, ...createFichierDeps(common, overrides, docClient) };
}
