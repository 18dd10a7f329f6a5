/**
 * The local stand-in for Lambda's SQS event source mapping: long-polls a queue, hands each batch to a
 * Lambda-shaped handler as a real `SQSEvent`, and applies the partial batch response the way AWS does
 * (ReportBatchItemFailures): records not listed in `batchItemFailures` are deleted, listed ones are left
 * to reappear when their visibility timeout ends (so a visibility the handler set itself is kept), and a
 * handler that throws leaves the whole batch for redelivery.
 *
 * Written by hand rather than with sqs-consumer: its `stop()` does not wait for an in-flight batch
 * (it re-checks once a second, only when `pollingCompleteWaitTimeMs` is set), its abort also cancels the
 * deletes of a finished batch, and it has no notion of Lambda's event shape or partial batch responses.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

/** The part of Lambda's context the loop provides: the time left before the invocation's deadline. */
export interface BatchContext {
  getRemainingTimeInMillis(): number;
}

/** A Lambda SQS handler; `undefined` means "all records succeeded", as in Lambda. */
export type SqsBatchHandler = (
  event: SQSEvent,
  context?: BatchContext,
) => Promise<SQSBatchResponse | undefined>;

/** Where the loop reports what it cannot throw to anyone. */
export interface SqsLoopLogger {
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface SqsLoopOptions {
  client: SQSClient;
  queueUrl: string;
  handler: SqsBatchHandler;
  /** Most messages per receive and per handler call (SQS caps it at 10). @default 10 */
  batchSize?: number;
  /** Long-poll wait of each receive, seconds (0–20). @default 20 */
  waitTimeSeconds?: number;
  /** Independent receive→handle→delete lanes, like Lambda's concurrent pollers. @default 1 */
  concurrency?: number;
  /** Region put in each record's `awsRegion`. @default process.env.AWS_REGION ?? 'us-east-1' */
  region?: string;
  /**
   * Each batch's deadline, as Lambda's timeout gives one: the handler sees the time left through
   * `context.getRemainingTimeInMillis()`. @default 60000
   */
  deadlineMs?: number;
  logger?: SqsLoopLogger;
}

/** Counters for tests and the local console. */
export interface SqsLoopStats {
  receives: number;
  batches: number;
  received: number;
  deleted: number;
  /** Records the handler reported in `batchItemFailures`. */
  failed: number;
  /** Handler calls that threw (their whole batch is left for redelivery). */
  crashes: number;
  receiveErrors: number;
}

export interface SqsLoop {
  /** Stops receiving, lets in-flight batches finish (handler and deletes), then resolves. */
  stop(): Promise<void>;
  stats(): SqsLoopStats;
}

const consoleLogger: SqsLoopLogger = {
  warn: (message, extra) => console.warn(JSON.stringify({ level: 'WARN', message, ...extra })),
  error: (message, extra) => console.error(JSON.stringify({ level: 'ERROR', message, ...extra })),
};

/** Starts the loop; resolves once the queue's ARN is known and the lanes are receiving. */
export async function startSqsLoop(opts: SqsLoopOptions): Promise<SqsLoop> {
  const batchSize = Math.min(10, Math.max(1, opts.batchSize ?? 10));
  const waitTimeSeconds = opts.waitTimeSeconds ?? 20;
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const logger = opts.logger ?? consoleLogger;
  const eventSourceARN = await queueArn(opts.client, opts.queueUrl, region);
  const stats: SqsLoopStats = {
    receives: 0,
    batches: 0,
    received: 0,
    deleted: 0,
    failed: 0,
    crashes: 0,
    receiveErrors: 0,
  };
  let stopped = false;
  // Aborts only the waiting receives: a batch already handed to the handler always runs to its deletes.
  const receiveAbort = new AbortController();

  const handleBatch = async (messages: Message[]): Promise<void> => {
    stats.batches += 1;
    stats.received += messages.length;
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, eventSourceARN, region)) };
    let failedIds: Set<string>;
    try {
      const deadline = Date.now() + (opts.deadlineMs ?? 60_000);
      const response = await opts.handler(event, {
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      });
      failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (err) {
      // Like Lambda: a crashed invocation deletes nothing; every record comes back after its visibility.
      stats.crashes += 1;
      logger.error('worker handler threw; the whole batch will be redelivered', {
        records: messages.length,
        error: errorText(err),
      });
      return;
    }
    stats.failed += failedIds.size;
    const done = messages.filter((m) => !failedIds.has(m.MessageId ?? ''));
    if (done.length === 0) return;
    // Like Lambda's event source, the lane goes on receiving while the batch's messages are deleted.
    const deleting = deleteDone(done);
    deletes.add(deleting);
    void deleting.finally(() => deletes.delete(deleting));
  };

  const deletes = new Set<Promise<void>>();
  const deleteDone = async (done: Message[]): Promise<void> => {
    try {
      const out = await opts.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: opts.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      stats.deleted += out.Successful?.length ?? 0;
      if (out.Failed?.length) {
        // A record that could not be deleted is redelivered; the handler's conditional writes make that safe.
        logger.warn('some processed messages could not be deleted', {
          failed: out.Failed.map((f) => f.Code),
        });
      }
    } catch (err) {
      logger.warn('DeleteMessageBatch failed; the batch will be redelivered', { error: errorText(err) });
    }
  };

  const lane = async (): Promise<void> => {
    let errorStreak = 0;
    while (!stopped) {
      let messages: Message[];
      try {
        stats.receives += 1;
        const out = await opts.client.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: receiveAbort.signal },
        );
        messages = out.Messages ?? [];
        errorStreak = 0;
      } catch (err) {
        if (stopped) break;
        stats.receiveErrors += 1;
        errorStreak += 1;
        logger.warn('ReceiveMessage failed; retrying', { error: errorText(err) });
        // Capped backoff so a queue that is down does not spin a core.
        await sleep(Math.min(5_000, 100 * 2 ** errorStreak), receiveAbort.signal);
        continue;
      }
      if (messages.length > 0) await handleBatch(messages);
    }
  };

  const lanes = Array.from({ length: Math.max(1, opts.concurrency ?? 1) }, () => lane());
  let stopping: Promise<void> | undefined;
  return {
    stats: () => ({ ...stats }),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        receiveAbort.abort();
        await Promise.all(lanes);
        await Promise.all([...deletes]);
      })();
      return stopping;
    },
  };
}

/** Builds the record Lambda would deliver for one SQS message. */
export function toRecord(m: Message, eventSourceARN: string, awsRegion: string): SQSRecord {
  const a = m.Attributes ?? {};
  const attributes: SQSRecord['attributes'] = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? 'local',
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
  for (const k of ['AWSTraceHeader', 'SequenceNumber', 'MessageGroupId', 'MessageDeduplicationId'] as const) {
    if (a[k] !== undefined) attributes[k] = a[k];
  }
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes,
    messageAttributes: toLambdaAttributes(m.MessageAttributes),
    md5OfBody: m.MD5OfBody ?? '',
    ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion,
  };
}

// Lambda's record uses camelCase keys and base64 strings where the SDK gives PascalCase and bytes.
function toLambdaAttributes(attrs: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, v] of Object.entries(attrs ?? {})) {
    out[name] = {
      dataType: v.DataType ?? 'String',
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: Buffer.from(v.BinaryValue).toString('base64') } : {}),
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  return out;
}

async function queueArn(client: SQSClient, queueUrl: string, region: string): Promise<string> {
  const out = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const name = queueUrl.split('/').pop() ?? 'queue';
  return out.Attributes?.QueueArn ?? `arn:aws:sqs:${region}:000000000000:${name}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
