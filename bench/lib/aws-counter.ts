/**
 * Counts the AWS API requests this process makes, by service and operation, without touching the
 * clients: the AWS SDK sends every request through `node:http`, whose `diagnostics_channel` events carry
 * the `X-Amz-Target` header (`DynamoDB_20120810.PutItem`, `AmazonSQS.SendMessageBatch`,
 * `secretsmanager.GetSecretValue`). Works for clients built anywhere in the process (deps, runtime).
 */
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** Requests per `Service.Operation`. */
export type OpCounts = Record<string, number>;

/** A started counter. */
export interface AwsCounter {
  /** Counts since start (or the last reset), e.g. `{ 'DynamoDB.PutItem': 2000 }`. */
  counts(): OpCounts;
  reset(): void;
  stop(): void;
}

const SERVICES: Record<string, string> = {
  DynamoDB_20120810: 'DynamoDB',
  AmazonSQS: 'SQS',
  secretsmanager: 'SecretsManager',
};

/** Starts counting AWS requests made by this process. */
export function startAwsCounter(): AwsCounter {
  let counts: OpCounts = {};
  const onStart = (message: unknown) => {
    const request = (message as { request?: ClientRequest }).request;
    const target = request?.getHeader?.('x-amz-target');
    if (typeof target !== 'string') return;
    const [prefix = '', op = ''] = target.split('.');
    const key = `${SERVICES[prefix] ?? prefix}.${op}`;
    counts[key] = (counts[key] ?? 0) + 1;
  };
  diagnostics.subscribe('http.client.request.start', onStart);
  return {
    counts: () => ({ ...counts }),
    reset: () => {
      counts = {};
    },
    stop: () => diagnostics.unsubscribe('http.client.request.start', onStart),
  };
}

/** Sums the counts of one service (`DynamoDB`), optionally only the operations matching `ops`. */
export function sumOf(counts: OpCounts, service: string, ops?: readonly string[]): number {
  let n = 0;
  for (const [k, v] of Object.entries(counts)) {
    const [s, op = ''] = k.split('.');
    if (s === service && (!ops || ops.includes(op))) n += v;
  }
  return n;
}
