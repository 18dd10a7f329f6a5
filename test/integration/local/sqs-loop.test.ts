import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Engines, startEngines } from '../../../infra/local/engines.js';
import { type SqsBatchHandler, type SqsLoop, startSqsLoop } from '../../../infra/local/sqs-loop.js';

let engines: Engines;
let sqs: SQSClient;
let queueSeq = 0;

beforeAll(async () => {
  engines = await startEngines();
  // fauxqs queue URLs name the host sqs.<region>.localhost, which does not resolve (platform-notes.md).
  sqs = new SQSClient({
    endpoint: engines.sqsEndpoint,
    region: 'us-east-1',
    useQueueUrlAsEndpoint: false,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  sqs?.destroy();
  await engines?.close();
});

async function newQueue(visibilityTimeoutS: number): Promise<string> {
  queueSeq += 1;
  const out = await sqs.send(
    new CreateQueueCommand({
      QueueName: `loop-test-${queueSeq}`,
      Attributes: { VisibilityTimeout: String(visibilityTimeoutS) },
    }),
  );
  return out.QueueUrl!;
}

async function send(queueUrl: string, bodies: string[]): Promise<void> {
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })),
    }),
  );
}

/** Resolves when `check` holds, polling every 25 ms; fails after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function queueCounts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** Records every delivery, by body. */
function recorder(decide: (r: SQSRecord, event: SQSEvent) => 'ok' | 'fail' | 'throw') {
  const deliveries: SQSRecord[] = [];
  const handler: SqsBatchHandler = async (event) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    let crash = false;
    for (const r of event.Records) {
      deliveries.push(r);
      const d = decide(r, event);
      if (d === 'fail') failures.push({ itemIdentifier: r.messageId });
      if (d === 'throw') crash = true;
    }
    if (crash) throw new Error('simulated worker crash');
    return { batchItemFailures: failures };
  };
  const count = (body: string) => deliveries.filter((r) => r.body === body).length;
  return { deliveries, handler, count };
}

const quietLogger = { warn: () => {}, error: () => {} };

describe('SQS → handler loop (against fauxqs)', () => {
  let loop: SqsLoop | undefined;
  afterEach(async () => {
    await loop?.stop();
    loop = undefined;
  });

  it('delivers a Lambda-shaped SQSEvent', async () => {
    const queueUrl = await newQueue(30);
    const rec = recorder(() => 'ok');
    loop = await startSqsLoop({
      client: sqs,
      queueUrl,
      handler: rec.handler,
      waitTimeSeconds: 1,
      logger: quietLogger,
    });
    await send(queueUrl, ['{"jobIds":["a"]}']);
    await until(() => rec.deliveries.length === 1);
    const r = rec.deliveries[0]!;
    expect(r.body).toBe('{"jobIds":["a"]}');
    expect(r.messageId).toMatch(/.+/);
    expect(r.receiptHandle).toMatch(/.+/);
    expect(r.eventSource).toBe('aws:sqs');
    expect(r.eventSourceARN).toMatch(/^arn:aws:sqs:.*:loop-test-\d+$/);
    expect(r.attributes.ApproximateReceiveCount).toBe('1');
    expect(r.awsRegion).toBe('us-east-1');
  });

  it('deletes the successes and redelivers only the records listed in batchItemFailures', async () => {
    const queueUrl = await newQueue(1);
    let failedOnce = false;
    const rec = recorder((r) => {
      if (r.body === 'b' && !failedOnce) {
        failedOnce = true;
        return 'fail';
      }
      return 'ok';
    });
    await send(queueUrl, ['a', 'b', 'c']);
    loop = await startSqsLoop({
      client: sqs,
      queueUrl,
      handler: rec.handler,
      waitTimeSeconds: 1,
      logger: quietLogger,
    });
    await until(() => rec.count('b') === 2);
    const second = rec.deliveries.filter((r) => r.body === 'b')[1]!;
    expect(second.attributes.ApproximateReceiveCount).toBe('2');
    await until(() => loop!.stats().deleted === 3);
    expect(rec.count('a')).toBe(1);
    expect(rec.count('c')).toBe(1);
    expect(await queueCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('a handler that throws leaves the whole batch for redelivery', async () => {
    const queueUrl = await newQueue(1);
    let crashed = false;
    const rec = recorder(() => {
      if (!crashed) {
        crashed = true;
        return 'throw';
      }
      return 'ok';
    });
    await send(queueUrl, ['x', 'y']);
    loop = await startSqsLoop({
      client: sqs,
      queueUrl,
      handler: rec.handler,
      waitTimeSeconds: 1,
      logger: quietLogger,
    });
    await until(() => rec.count('x') >= 2 && rec.count('y') >= 2);
    await until(() => loop!.stats().deleted === 2);
    expect(loop.stats().crashes).toBe(1);
    expect(await queueCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('keeps the visibility the handler set on a failed record', async () => {
    // The queue would hide a failed record for 30 s; the handler shortens it to 0, as the worker does
    // with the pacer's retry-after, and the loop must not override that.
    const queueUrl = await newQueue(30);
    const rec = recorder(() => 'ok');
    let first = true;
    const handler: SqsBatchHandler = async (event) => {
      const r = event.Records[0]!;
      if (first) {
        first = false;
        rec.deliveries.push(r);
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: r.receiptHandle,
            VisibilityTimeout: 0,
          }),
        );
        return { batchItemFailures: [{ itemIdentifier: r.messageId }] };
      }
      return rec.handler(event) as Promise<SQSBatchResponse>;
    };
    await send(queueUrl, ['v']);
    loop = await startSqsLoop({ client: sqs, queueUrl, handler, waitTimeSeconds: 1, logger: quietLogger });
    await until(() => rec.count('v') === 2, 5_000);
  });

  it('stop() waits for the in-flight batch and its deletes', async () => {
    const queueUrl = await newQueue(30);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered = false;
    const handler: SqsBatchHandler = async () => {
      entered = true;
      await gate;
      return { batchItemFailures: [] };
    };
    await send(queueUrl, ['s1', 's2']);
    loop = await startSqsLoop({ client: sqs, queueUrl, handler, waitTimeSeconds: 20, logger: quietLogger });
    await until(() => entered);
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(loop.stats().deleted).toBeGreaterThanOrEqual(1);
    const counts = await queueCounts(queueUrl);
    expect(counts.inFlight + counts.visible).toBe(2 - loop.stats().deleted);
  });

  it('stop() returns promptly while a long poll is waiting', async () => {
    const queueUrl = await newQueue(30);
    loop = await startSqsLoop({
      client: sqs,
      queueUrl,
      handler: async () => undefined,
      waitTimeSeconds: 20,
      logger: quietLogger,
    });
    await until(() => loop!.stats().receives >= 1);
    const t0 = Date.now();
    await loop.stop();
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
