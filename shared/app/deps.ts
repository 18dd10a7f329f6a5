/**
 * The composition root: every client and adapter built once from the config, then passed to the
 * use-cases. Tests and the local runtime pass `overrides` (a fake 1fichier API, a fake clock, hooks).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoJobStore } from '../aws/dynamo-job-store.js';
import { DynamoPacer } from '../aws/dynamo-pacer.js';
import { createSqsClient, type JobQueue, SqsJobQueue } from '../aws/queue.js';
import { envKeyProvider, missingKeyProvider, SecretsKeyProvider } from '../aws/secrets-key-provider.js';
import { ENV } from '../config/env-names.js';
import { createFichierClient } from '../fichier/client.js';
import { type Clock, systemClock } from '../fichier/memory-pacer.js';
import type { Pacer } from '../fichier/pacer.js';
import type { FichierApi, KeyProvider } from '../fichier/types.js';
import type { JobStore } from '../jobs/store.js';
import type { RelayConfig } from './config.js';
import { METRICS_SERVICE } from './metric-names.js';
import { MemoryMetrics, PowertoolsMetrics, type RelayMetrics } from './metrics.js';

/** Fault-injection seams (crash tests). */
export interface Hooks {
  /**
   * Called after 1fichier answered OK to remote/request.cgi and before the jobs are marked `submitted`.
   * A throw here behaves like a crash at the worst moment: the jobs stay `submitting` and must be reconciled.
   */
  afterRemoteAccepted?(jobIds: string[]): void | Promise<void>;
}

/** The structured logger the use-cases write to (Powertools Logger's shape). */
export type RelayLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Everything a use-case may need. */
export interface Deps {
  config: RelayConfig;
  store: JobStore;
  queue: JobQueue;
  fichier: FichierApi;
  pacer: Pacer;
  keyProvider: KeyProvider;
  clock: Clock;
  logger: RelayLogger;
  metrics: RelayMetrics;
  hooks: Hooks;
}

/**
 * Builds the deps once. Only what is not overridden is built; the 1fichier client is built last so it
 * uses the (possibly overridden) key provider, pacer and clock.
 * @example
 * const deps = createDeps(loadConfig(), { clock: fakeClock, fichier: fakeApi });
 */
export function createDeps(config: RelayConfig, overrides: Partial<Deps> = {}): Deps {
  const clock = overrides.clock ?? systemClock;
  const inLambda = Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);
  const logger = overrides.logger ?? new Logger({ serviceName: METRICS_SERVICE });
  const metrics =
    overrides.metrics ?? (inLambda ? new PowertoolsMetrics(METRICS_SERVICE) : new MemoryMetrics());
  let doc: DynamoDBDocumentClient | undefined;
  const docClient = () => {
    doc ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
    return doc;
  };
  const store =
    overrides.store ?? new DynamoJobStore(docClient(), config.tableName, { jobTtlDays: config.jobTtlDays });
  const queue = overrides.queue ?? new SqsJobQueue(createSqsClient(), config.queueUrl);
  const pacer =
    overrides.pacer ?? new DynamoPacer(docClient(), config.tableName, { policy: config.pacing, clock });
  const keyProvider =
    overrides.keyProvider ??
    (config.fichierSecretId
      ? new SecretsKeyProvider({ secretId: config.fichierSecretId, maxAgeS: config.secretMaxAgeS })
      : config.fichierApiKey
        ? envKeyProvider(config.fichierApiKey)
        : missingKeyProvider(`${ENV.fichierSecretId} (AWS) or ${ENV.fichierApiKey} (local)`));
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
  return {
    config,
    store,
    queue,
    fichier,
    pacer,
    keyProvider,
    clock,
    logger,
    metrics,
    hooks: overrides.hooks ?? {},
  };
}
