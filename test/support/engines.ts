/**
 * Test helper: dynalite + fauxqs on loopback (via `startEngines`), the SDK pointed at them through
 * `AWS_ENDPOINT_URL_*`, a fresh table and queue, and a config for `createDeps`.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsEnvFor, type Engines, startEngines } from '../../infra/local/engines.js';
import { loadConfig, type RelayConfig } from '../../shared/app/config.js';
import { createSqsClient, ensureQueue } from '../../shared/aws/queue.js';
import { ensureTable } from '../../shared/aws/table.js';

export interface TestAws {
  engines: Engines;
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** A new table (and queue) per call, so tests in one file do not see each other's items. */
  fresh(overrides?: Partial<RelayConfig>): Promise<RelayConfig>;
  close(): Promise<void>;
}

/** Starts the engines and points this process's AWS SDK at them. */
export async function startTestAws(): Promise<TestAws> {
  const engines = await startEngines();
  Object.assign(process.env, awsEnvFor(engines));
  const ddb = new DynamoDBClient({});
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  const sqs = createSqsClient();
  return {
    engines,
    ddb,
    doc,
    sqs,
    async fresh(overrides = {}) {
      const suffix = randomBytes(4).toString('hex');
      const tableName = `relay-${suffix}`;
      await ensureTable(ddb, tableName);
      const queueUrl = await ensureQueue(sqs, `jobs-${suffix}`, { VisibilityTimeout: '30' });
      return {
        ...loadConfig({
          RELAY_TABLE_NAME: tableName,
          RELAY_QUEUE_URL: queueUrl,
          FICHIER_MIN_INTERVAL_MS: '1000',
        }),
        ...overrides,
      };
    },
    async close() {
      ddb.destroy();
      sqs.destroy();
      await engines.close();
    },
  };
}
