/**
 * The 1fichier side of the worker's and the poller's composition roots: the DynamoDB pacer shared by
 * every process, and the 1fichier client (undici) that calls through it. The API never imports this.
 */
import { DynamoPacer } from '../aws/dynamo-pacer.js';
import { createFichierClient } from '../fichier/client.js';
import { SlotBank } from '../fichier/slot-bank.js';
import type { CommonDeps, DocClient } from './common-deps.js';
import type { Deps } from './deps.js';
import type { KeyDeps } from './key-deps.js';

/** What a function that calls 1fichier adds to {@link CommonDeps}. */
export type FichierDeps = Pick<Deps, 'pacer' | 'fichier'>;

/**
 * Builds the pacer and the client, unless overridden. The client is built last so it uses the (possibly
 * overridden) key provider, pacer and clock.
 */
export function createFichierDeps(
  common: Pick<CommonDeps, 'config' | 'clock' | 'logger'> & KeyDeps,
  overrides: Partial<FichierDeps>,
  docClient: DocClient,
): FichierDeps {
  const { config, keyProvider, clock, logger } = common;
  // The slot bank lets the poller take a cycle's remote/info.cgi slots in one write.
  const pacer =
    overrides.pacer ??
    new SlotBank(new DynamoPacer(docClient(), config.tableName, { policy: config.pacing, clock }), clock);
  const fichier =
    overrides.fichier ??
    createFichierClient({
      baseUrl: config.fichierApiUrl,
      keyProvider,
      pacer,
      policy: config.pacing,
      maxPacerWaitMs: config.maxPacerWaitMs,
      clock,
      logger: { warn: (message, fields) => logger.warn(message, fields) },
    });
  return { pacer, fichier };
}
