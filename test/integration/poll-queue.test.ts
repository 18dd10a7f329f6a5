/**
 * The poll plan in AWS shape: the worker asks for a cycle soon through a real SQS poll queue (fauxqs),
 * each cycle plans the next one there, and the poller Lambda handler runs a cycle only for triggers that
 * still count.
 */
import { randomBytes } from 'node:crypto';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPollerHandler } from '../../functions/poller.js';
import { createWorkerHandler } from '../../functions/worker.js';
import { SqsPollTimer } from '../../shared/aws/poll-timer.js';
import { ensureQueue } from '../../shared/aws/queue.js';
import { enqueueJobs } from '../../shared/jobs/enqueue.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness, receiveEvent } from '../support/engines-pipeline.js';

let aws: TestAws;

beforeAll(async () => {
  aws = await startTestAws();
});
afterAll(async () => {
  await aws?.close();
});

async function setup() {
  const config = await aws.fresh();
  const pollQueueUrl = await ensureQueue(aws.sqs, `poll-${randomBytes(4).toString('hex')}`);
  const h = harness(config, { pollTimer: new SqsPollTimer(aws.sqs, pollQueueUrl) });
  return {
    config,
    pollQueueUrl,
    ...h,
    worker: createWorkerHandler(h.deps),
    poller: createPollerHandler(h.deps),
  };
}

/** Every poll message waiting (delays included: fauxqs holds them until due, so wait that long). */
async function pollMessages(url: string, waitS: number): Promise<SQSEvent> {
  const records: SQSEvent['Records'] = [];
  const until = Date.now() + waitS * 1000;
  while (Date.now() < until) {
    const out = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of out.Messages ?? []) {
      records.push({
        messageId: m.MessageId ?? '',
        receiptHandle: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        attributes: {} as never,
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:poll',
        awsRegion: 'us-east-1',
      });
    }
    if (records.length) break;
  }
  return { Records: records };
}

describe('the poll queue', () => {
  it('a submission asks for a cycle soon; the cycle plans the next; a stale plan runs nothing', async () => {
    const t = await setup();
    await enqueueJobs(
      { userId: 'u1', source: 'api', requests: [{ url: 'https://files.example/p/1.bin', folder: '' }] },
      t.deps,
    );
    await t.worker(await receiveEvent(aws.sqs, t.config.queueUrl, 1));
    expect(t.fake.requests).toHaveLength(1);

    const soon = await pollMessages(t.pollQueueUrl, 8);
    expect(soon.Records.map((r) => JSON.parse(r.body))).toEqual([{ kind: 'soon' }]);
    const first = await t.poller(soon);
    expect(first?.counts.submitted).toBe(1);
    // The request is still open (the fake has not finished it): the cycle planned the next one.
    expect(first?.next?.delayMs).toBe(3000);
    const planned = await pollMessages(t.pollQueueUrl, 8);
    expect(planned.Records.map((r) => JSON.parse(r.body))).toEqual([
      { kind: 'next', planId: first?.next?.planId },
    ]);

    // A schedule tick runs a cycle in between: it plans anew, so the older message is stale.
    const tick = await t.poller({ source: 'aws.events' });
    expect(tick.next?.planId).not.toBe(first?.next?.planId);
    const lsBefore = t.fake.calls.filter((c) => c === 'ls').length;
    expect(await t.poller(planned)).toBeUndefined();
    expect(t.fake.calls.filter((c) => c === 'ls').length).toBe(lsBefore);
  });

  it('a cycle that crashes asks for another one a poll interval later (it planned none)', async () => {
    const config = await aws.fresh();
    const asked: { delayMs: number; kind: string }[] = [];
    const h = harness(config, {
      pollTimer: { pollIn: async (delayMs, t) => void asked.push({ delayMs, kind: t.kind }) },
    });
    await enqueueJobs(
      { userId: 'u1', source: 'api', requests: [{ url: 'https://files.example/p/crash.bin', folder: '' }] },
      h.deps,
    );
    await createWorkerHandler(h.deps)(await receiveEvent(aws.sqs, config.queueUrl, 1));
    asked.length = 0;
    h.fake.listErrors.push(new Error('the poller crashed mid-cycle'));
    await expect(createPollerHandler(h.deps)({ source: 'aws.events' })).rejects.toThrow('crashed');
    expect(asked).toEqual([{ delayMs: config.pollIntervalS * 1000, kind: 'soon' }]);
  });

  it('an idle relay plans nothing and calls 1fichier 0 times', async () => {
    const t = await setup();
    const report = await t.poller({ source: 'aws.events' });
    expect(report.next).toBeUndefined();
    expect(report.calls).toEqual({ ls: 0, info: 0 });
    expect(t.fake.calls).toEqual([]);
    expect((await pollMessages(t.pollQueueUrl, 2)).Records).toEqual([]);
  });
});
