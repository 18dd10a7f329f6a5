/**
 * The builders every composition root shares: logger, metrics, the DynamoDB document client, the job
 * stores (jobs, remote requests, reports), the queue. Nothing here reaches 1fichier or the pacer, so the API
 * can use it all (`api-deps.ts`); the worker and the poller add the 1fichier side (`fichier-deps.ts`). The
 * 1fichier key provider (Secrets Manager in AWS) is `key-deps.ts`: the feeds reader and the deliveries never
 * read the key (the feeds reader then bundles no Secrets Manager client at all).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoFeedStore } from '../aws/dynamo-feed-store.js';
import { DynamoJobStore } from '../aws/dynamo-job-store.js';
import { DynamoRemoteStore } from '../aws/dynamo-remote-store.js';
import { DynamoReportStore } from '../aws/dynamo-report-store.js';
import { DynamoTokenStore } from '../aws/dynamo-token-store.js';
import { SqsPollTimer } from '../aws/poll-timer.js';
import { createSqsClient, SqsJobQueue } from '../aws/queue.js';
import { systemClock } from '../fichier/clock.js';
import { coalesceSoonPolls, noPollTimer, pollPlanPolicy } from '../jobs/poll-plan.js';
import type { RelayConfig } from './config.js';
import type { Deps, RelayLogger } from './deps.js';
import { METRICS_SERVICE } from './metric-names.js';
import { MemoryMetrics, PowertoolsMetrics, type RelayMetrics } from './metrics.js';

/** What every function uses. */
export type CommonDeps = Pick<
  Deps,
  | 'config'
  | 'store'
  | 'remotes'
  | 'tokens'
  | 'feeds'
  | 'reports'
  | 'queue'
  | 'pollTimer'
  | 'clock'
  | 'logger'
  | 'metrics'
>;

/** A DynamoDB document client built on first use, so one client serves the store and the pacer. */
export type DocClient = () => DynamoDBDocumentClient;

/** @returns a {@link DocClient} that builds its client once, from the SDK's environment. */
export function lazyDocClient(): DocClient {
  let doc: DynamoDBDocumentClient | undefined;
  return () => {
    doc ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
    return doc;
  };
}

/** Powertools Logger with the service name the dashboards and alarms use. */
export function createLogger(): RelayLogger {
  return new Logger({ serviceName: METRICS_SERVICE });
}

/** EMF through Powertools in Lambda; in memory elsewhere (tests read it, the local runtime ignores it). */
export function createMetrics(env: NodeJS.ProcessEnv = process.env): RelayMetrics {
  return env.AWS_LAMBDA_FUNCTION_NAME ? new PowertoolsMetrics(METRICS_SERVICE) : new MemoryMetrics();
}

/**
 * Builds what every function uses; only what is not overridden is built.
 * @example
 * const common = createCommonDeps(loadConfig(), { clock: fakeClock }, lazyDocClient());
 */
export function createCommonDeps(
  config: RelayConfig,
  overrides: Partial<CommonDeps>,
  docClient: DocClient,
): CommonDeps {
  let sqsClient: ReturnType<typeof createSqsClient> | undefined;
  const sqs = () => {
    sqsClient ??= createSqsClient();
    return sqsClient;
  };
  return {
    config,
    clock: overrides.clock ?? systemClock,
    logger: overrides.logger ?? createLogger(),
    metrics: overrides.metrics ?? createMetrics(),
    store:
      overrides.store ?? new DynamoJobStore(docClient(), config.tableName, { jobTtlDays: config.jobTtlDays }),
    remotes: overrides.remotes ?? new DynamoRemoteStore(docClient(), config.tableName),
    reports:
      overrides.reports ??
      new DynamoReportStore(docClient(), config.tableName, { ttlDays: config.jobTtlDays }),
    tokens: overrides.tokens ?? new DynamoTokenStore(docClient(), config.tableName),
    feeds:
      overrides.feeds ??
      new DynamoFeedStore(docClient(), config.tableName, { seenDays: config.feedsSeenDays }),
    queue: overrides.queue ?? new SqsJobQueue(sqs(), config.queueUrl),
    pollTimer:
      overrides.pollTimer ??
      (config.pollQueueUrl
        ? coalesceSoonPolls(
            new SqsPollTimer(sqs(), config.pollQueueUrl),
            overrides.clock ?? systemClock,
            pollPlanPolicy(config.pollIntervalS).firstDelayMs / 2,
          )
        : noPollTimer),
  };
}
