/** Composition root of the SQS worker: the common deps, the pacer and the 1fichier client, the crash hooks. */

import { type CommonDeps, createCommonDeps, lazyDocClient } from './common-deps.js';
import type { RelayConfig } from './config.js';
import type { Deps } from './deps.js';
import { createFichierDeps, type FichierDeps } from './fichier-deps.js';
import { createKeyDeps, type KeyDeps } from './key-deps.js';

/** What `submitJobs` and the worker handler use. */
export type WorkerDeps = CommonDeps & KeyDeps & FichierDeps & Pick<Deps, 'hooks'>;

/**
 * Builds the worker's deps once; only what is not overridden is built.
 * @example
 * const worker = createWorkerHandler(createWorkerDeps(loadConfig()));
 */
export function createWorkerDeps(config: RelayConfig, overrides: Partial<WorkerDeps> = {}): WorkerDeps {
  const docClient = lazyDocClient();
  const common = { ...createCommonDeps(config, overrides, docClient), ...createKeyDeps(config, overrides) };
  return { ...common, ...createFichierDeps(common, overrides, docClient), hooks: overrides.hooks ?? {} };
}
