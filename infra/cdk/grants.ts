import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { ENV } from '../../shared/config/env-names.js';
import type { RelayConfig } from './config.js';
import { grantItemAccess, type ItemKindAccess } from './table-access.js';

// Each helper writes an environment variable and, in the same call, grants the permission the
// code needs to use what the variable names: a function never gets one without the other.
// Names come from shared/config/env-names.ts, which the handlers read too.

/** Read/write items in the relay table (jobs, dedupe records, tokens, pacer item, reports) and its GSIs. */
export function useTable(fn: NodejsFunction, table: dynamodb.ITable): void {
  table.grantReadWriteData(fn);
  fn.addEnvironment(ENV.tableName, table.tableName);
}

/**
 * Only the item kinds a function uses, each with only the actions it needs (the API: `API_ITEM_ACCESS`
 * in table-access.ts; no Scan, no DeleteItem on jobs), plus Query on the GSIs.
 */
export function useTableItems(
  fn: NodejsFunction,
  table: dynamodb.ITable,
  kinds: readonly ItemKindAccess[],
): void {
  grantItemAccess(fn, table, kinds);
  fn.addEnvironment(ENV.tableName, table.tableName);
}

/** Send to the jobs queue (ingest; poller re-enqueue). */
export function useQueueForSend(fn: NodejsFunction, queue: sqs.IQueue): void {
  queue.grantSendMessages(fn);
  fn.addEnvironment(ENV.queueUrl, queue.queueUrl);
}

/**
 * Receive, delete and change the visibility of jobs-queue messages (worker). The URL is needed for
 * `ChangeMessageVisibility`, which returns a message to the queue after a pacer wait.
 */
export function useQueueForConsume(fn: NodejsFunction, queue: sqs.IQueue): void {
  queue.grantConsumeMessages(fn);
  fn.addEnvironment(ENV.queueUrl, queue.queueUrl);
}

/** Read the 1fichier key from Secrets Manager (never an environment variable in AWS). */
export function useSecret(fn: NodejsFunction, secret: secretsmanager.ISecret): void {
  secret.grantRead(fn);
  fn.addEnvironment(ENV.fichierSecretId, secret.secretArn);
}

/** Where and how fast to call 1fichier. Plain settings: no AWS permission goes with them. */
export function usePacing(fn: NodejsFunction, config: RelayConfig): void {
  fn.addEnvironment(ENV.fichierApiUrl, config.fichierApiUrl);
  fn.addEnvironment(ENV.minIntervalMs, String(config.fichierMinIntervalMs));
  fn.addEnvironment(ENV.floodPauseMs, String(config.fichierFloodPauseMs));
}

/** Most URLs per remote/request.cgi (worker). */
export function useBatching(fn: NodejsFunction, config: RelayConfig): void {
  fn.addEnvironment(ENV.batchMaxUrls, String(config.fichierBatchMaxUrls));
}

/** When a submitted job counts as stuck (poller). */
export function useStuckThreshold(fn: NodejsFunction, config: RelayConfig): void {
  fn.addEnvironment(ENV.stuckAfterS, String(config.stuckAfterSeconds));
}

/**
 * The poll cycle (worker and poller): reconciliation believes a request absent only after two readings
 * at least one cycle apart. Plain setting.
 */
export function usePollCycle(fn: NodejsFunction, config: RelayConfig): void {
  fn.addEnvironment(ENV.pollIntervalS, String(config.pollIntervalSeconds));
}
