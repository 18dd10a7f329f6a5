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
  ],
  /** functions/poller.ts — scheduled poller/reporter. */
  poller: [
    ENV.tableName,
    ENV.queueUrl,
    ENV.fichierApiUrl,
    ENV.fichierSecretId,
    ENV.minIntervalMs,
    ENV.floodPauseMs,
    ENV.stuckAfterS,
    ENV.pollIntervalS,
    ENV.notifyQueueUrl,
  ],
  /** functions/deliveries.ts — job ends from the table stream, and one attempt per deliveries-queue message. */
  deliveries: [ENV.tableName, ENV.notifyQueueUrl, ENV.notifyKeySecretId],
} as const satisfies Record<string, readonly EnvName[]>;

export type FunctionName = keyof typeof FUNCTION_ENV;
