/** Shared fixtures of the pipeline tests: deps on the local engines with a fake 1fichier, and real SQS events. */
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { RelayConfig } from '../../shared/app/config.js';
import { createDeps, type Deps } from '../../shared/app/deps.js';
import { MemoryMetrics } from '../../shared/app/metrics.js';
import { envKeyProvider } from '../../shared/aws/secrets-key-provider.js';
import type { KeyProvider } from '../../shared/fichier/types.js';
import { CaptureLogger, FakeFichier, ManualClock } from '../unit/jobs/fakes.js';

export interface Harness {
  deps: Deps;
  fake: FakeFichier;
  clock: ManualClock;
  logger: CaptureLogger;
  metrics: MemoryMetrics;
}

/** Deps on the real table, queue and DynamoDB pacer, with a fake 1fichier and a manual clock. */
export function harness(
  config: RelayConfig,
  overrides: Partial<Deps> & { keyProvider?: KeyProvider } = {},
): Harness {
  const clock = new ManualClock();
  const fake = new FakeFichier(clock);
  const logger = new CaptureLogger();
  const metrics = new MemoryMetrics();
  const deps = createDeps(config, {
    fichier: fake,
    clock,
    logger,
    metrics,
    keyProvider: envKeyProvider('test-key-0000000000000000000000'),
    ...overrides,
  });
  return { deps, fake, clock, logger, metrics };
}

/** Receives up to `n` messages (real receipt handles) and wraps them as a Lambda SQS event. */
export async function receiveEvent(
  sqs: SQSClient,
  queueUrl: string,
  n: number,
  waitS = 1,
): Promise<SQSEvent> {
  const records: SQSRecord[] = [];
  for (let empty = 0; records.length < n && empty < 2; ) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, n - records.length),
        WaitTimeSeconds: waitS,
      }),
    );
    if (!out.Messages?.length) empty++;
    for (const m of out.Messages ?? []) {
      records.push({
        messageId: m.MessageId ?? '',
        receiptHandle: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs',
        awsRegion: 'us-east-1',
      });
    }
  }
  return { Records: records };
}
