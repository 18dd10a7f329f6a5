import { ENV, type EnvName } from './env-names.js';

/**
 * The environment each Lambda's code reads, by function. The CDK app writes exactly these
 * (each next to the grant that matches it) and the infra tests check that nothing else is set.
 */
export const FUNCTION_ENV = {
  /**
   * functions/api.ts — HTTP API (POST /jobs, GET /jobs, /reports/latest, /health, POST /admin/circuit/reset;
   * the reset reads the key only to find its pacer state).
   */
  api: [ENV.tableName, ENV.queueUrl, ENV.fichierSecretId, ENV.notifyKeySecretId, ENV.notifyQueueUrl],
  /** functions/worker.ts — SQS consumer that submits to remote/request.cgi. */
  worker: [
    ENV.tableName,
    ENV.queueUrl,
    ENV.fichierApiUrl,
    ENV.fichierSecretId,
    ENV.minIntervalMs,
    ENV.floodPauseMs,
    ENV.batchMaxUrls,
    ENV.pollIntervalS,
    ENV.pollQueueUrl,
  ],
  /** functions/poller.ts — poller/reporter, run by the poll queue's messages and a safety-net schedule. */
  poller: [
    ENV.tableName,
    ENV.queueUrl,
    ENV.fichierApiUrl,
    ENV.fichierSecretId,
    ENV.minIntervalMs,
    ENV.floodPauseMs,
    ENV.stuckAfterS,
    ENV.pollIntervalS,
    ENV.pollQueueUrl,
    ENV.notifyQueueUrl,
  ],
  /** functions/feeds.ts — scheduled feeds reader (fetch due feeds, enqueue their new items). */
  feeds: [ENV.tableName, ENV.queueUrl],
  /** functions/deliveries.ts — job ends from the table stream, and one attempt per deliveries-queue message. */
  deliveries: [ENV.tableName, ENV.notifyQueueUrl, ENV.notifyKeySecretId],
} as const satisfies Record<string, readonly EnvName[]>;

export type FunctionName = keyof typeof FUNCTION_ENV;
