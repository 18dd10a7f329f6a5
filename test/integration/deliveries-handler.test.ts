/**
 * functions/deliveries.ts on dynalite and fauxqs: table-stream records (as Lambda hands them, after the
 * mapping's filter or not) become delivery messages on a real queue only for jobs marked `notify` that
 * just ended; queue records are attempted and a retry goes back to the queue with its delay.
 */
import { randomBytes } from 'node:crypto';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveriesHandler, endedJobOf } from '../../functions/deliveries.js';
import type { RelayLogger } from '../../shared/app/deps.js';
import { createNotifyServices } from '../../shared/app/notify-deps.js';
import { parseDeliveryMessage } from '../../shared/aws/delivery-queue.js';
import { DynamoJobStore } from '../../shared/aws/dynamo-job-store.js';
import { ensureQueue } from '../../shared/aws/queue.js';
import { aesGcmCipher } from '../../shared/notify/cipher.js';
import { parseTargetConfig } from '../../shared/notify/targets.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { ManualClock } from '../unit/jobs/fakes.js';

let aws: TestAws;
const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as RelayLogger;

beforeAll(async () => {
  aws = await startTestAws();
});
afterAll(async () => {
  await aws?.close();
});

const jobItem = (over: Record<string, unknown>) => ({
  pk: 'JOB#j1',
  sk: 'JOB',
  id: 'j1',
  userId: 'u1',
  url: 'https://files.example.com/a.bin',
  status: 'done',
  folder: '',
  source: 'api',
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:05:00.000Z',
  attempts: 1,
  fileUrl: 'https://1fichier.com/?a',
  notify: true,
  ...over,
});
const streamRecord = (
  newImage: Record<string, unknown>,
  oldImage?: Record<string, unknown>,
): DynamoDBRecord => ({
  eventName: 'MODIFY',
  dynamodb: {
    SequenceNumber: randomBytes(4).toString('hex'),
    NewImage: marshall(newImage, { removeUndefinedValues: true }) as never,
    ...(oldImage ? { OldImage: marshall(oldImage, { removeUndefinedValues: true }) as never } : {}),
  },
});

describe('endedJobOf', () => {
  it('takes only jobs marked notify whose status just became done or failed', () => {
    expect(endedJobOf(streamRecord(jobItem({}), jobItem({ status: 'submitted' })))?.id).toBe('j1');
    expect(
      endedJobOf(streamRecord(jobItem({ notify: undefined }), jobItem({ status: 'submitted' }))),
    ).toBeUndefined();
    expect(
      endedJobOf(streamRecord(jobItem({ status: 'submitted' }), jobItem({ status: 'submitting' }))),
    ).toBeUndefined();
    expect(endedJobOf(streamRecord(jobItem({}), jobItem({})))).toBeUndefined();
    expect(
      endedJobOf(streamRecord({ pk: 'PACER#k', sk: 'PACER', status: 'done', notify: true })),
    ).toBeUndefined();
  });
});

describe('the deliveries handler', () => {
  it('turns a stream record into one message per recipient on the queue, then delivers it from the queue', async () => {
    const config = await aws.fresh();
    const queueUrl = await ensureQueue(aws.sqs, `deliveries-${randomBytes(4).toString('hex')}`);
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 10, 6));
    const sent: string[] = [];
    const notify = createNotifyServices(
      { ...config, notify: { ...config.notify, queueUrl } },
      aws.doc,
      clock,
      {
        sqs: aws.sqs,
        cipher: aesGcmCipher(async () => Buffer.alloc(32, 7)),
        send: async (request) => {
          sent.push(request.url);
          return { answer: { kind: 'http', status: sent.length === 1 ? 503 : 200 } };
        },
      },
    );
    await notify.targets.putTarget({
      id: 'ntf_00000000000000000001',
      userId: 'u1',
      config: parseTargetConfig({ type: 'webhook', url: 'https://hooks.example.com/in' }),
      createdAt: '2026-03-01T09:00:00.000Z',
    });
    const handler = createDeliveriesHandler({
      config,
      store: new DynamoJobStore(aws.doc, config.tableName),
      clock,
      logger: quiet,
      notify,
    });

    const out = await handler({
      Records: [
        streamRecord(jobItem({ callbackUrl: 'https://cb.example.com/x' }), jobItem({ status: 'submitted' })),
      ],
    });
    expect(out.batchItemFailures).toEqual([]);
    const received = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const messages = (received.Messages ?? []).map((m) => parseDeliveryMessage(m.Body ?? ''));
    expect(messages.map((m) => m.to.kind).sort()).toEqual(['callback', 'target']);

    const targetMsg = received.Messages!.find((m) => parseDeliveryMessage(m.Body!).to.kind === 'target')!;
    const record = {
      messageId: targetMsg.MessageId!,
      body: targetMsg.Body!,
      receiptHandle: targetMsg.ReceiptHandle!,
    } as SQSRecord;
    expect((await handler({ Records: [record] })).batchItemFailures).toEqual([]);
    // The 503 went back to the queue as a new, delayed message with its attempt counted.
    clock.advance(60_000);
    let retry: ReturnType<typeof parseDeliveryMessage> | undefined;
    for (let i = 0; i < 40 && !retry; i++) {
      const r = await aws.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      retry = (r.Messages ?? []).map((m) => parseDeliveryMessage(m.Body ?? '')).find((m) => m.attempts === 1);
    }
    expect(retry).toMatchObject({ to: { kind: 'target' }, attempts: 1 });
    const again = { messageId: 'm2', body: JSON.stringify(retry), receiptHandle: 'r2' } as SQSRecord;
    expect((await handler({ Records: [again] })).batchItemFailures).toEqual([]);
    const [log] = await notify.deliveries.listDeliveries('u1', { limit: 5 });
    expect(log).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200 });
  }, 60_000);

  it('reports a malformed queue record as failed, so it ends in the DLQ', async () => {
    const config = await aws.fresh();
    const clock = new ManualClock();
    const notify = createNotifyServices(config, aws.doc, clock, {
      cipher: aesGcmCipher(async () => Buffer.alloc(32, 1)),
    });
    const handler = createDeliveriesHandler({
      config,
      store: new DynamoJobStore(aws.doc, config.tableName),
      clock,
      logger: quiet,
      notify,
    });
    const bad = { messageId: 'bad-1', body: '{"jobId":"x"}', receiptHandle: 'r' } as SQSRecord;
    expect((await handler({ Records: [bad] })).batchItemFailures).toEqual([{ itemIdentifier: 'bad-1' }]);
  });
});
