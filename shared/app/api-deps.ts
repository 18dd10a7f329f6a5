/**
 * Composition root of the API function. It never calls 1fichier, so it builds neither the client
 * (undici) nor the pacer: `POST /admin/circuit/reset` reads and resets the pacer's item directly.
 */
import { type PacerControl, PacerItem } from '../aws/pacer-item.js';
import { type CommonDeps, createCommonDeps, lazyDocClient } from './common-deps.js';
import type { RelayConfig } from './config.js';
import type { Deps } from './deps.js';
import { createKeyDeps, type KeyDeps } from './key-deps.js';
import { createNotifyServices } from './notify-deps.js';

/** What the API's routes and use-cases (`enqueueJobs`, `resetCircuit`, the token resolver) use. */
export type ApiDeps = CommonDeps &
  KeyDeps & {
    /** Read and reset only: the API never takes a slot. */
    pacer: PacerControl;
  } & Pick<Deps, 'notify'>;

/**
 * Builds the API's deps once; only what is not overridden is built.
 * @example
 * const app = createApiApp(createApiDeps(loadConfig()));
 */
export function createApiDeps(config: RelayConfig, overrides: Partial<ApiDeps> = {}): ApiDeps {
  const docClient = lazyDocClient();
  const common = createCommonDeps(config, overrides, docClient);
  return {
    ...common,
    ...createKeyDeps(config, overrides),
    pacer: overrides.pacer ?? new PacerItem(docClient(), config.tableName),
    notify: overrides.notify ?? createNotifyServices(config, docClient(), common.clock),
  };
}
