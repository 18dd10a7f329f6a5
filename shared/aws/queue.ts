/**
 * The jobs queue on SQS. Messages carry job ids only: the table is the source of truth, so a lost,
 * duplicated or late message can never change a job by itself.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  SendMessageBatchCommand,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';

/** SQS caps one batch at 10 entries. */
const SQS_BATCH = 10;
/** SQS caps visibility timeouts at 12 hours. */
export const MAX_VISIBILITY_S = 12 * 3600;

/** Body of one queue message. */
export interface JobMessage {
  jobId: string;
}

/** A received message to hand back to the queue later. */
export interface DelayedMessage {
  receiptHandle: string;
  delayS: number;
}

/** What the use-cases need from the queue. */
export interface JobQueue {
  /** Sends one message per job id (batched by 10). */
  enqueue(jobIds: readonly string[]): Promise<void>;
  /** Makes received messages visible again only after their delay (the worker then reports them failed). */
  delay(messages: readonly DelayedMessage[]): Promise<void>;
  /** SQS's approximate counts: waiting (visible or delayed) and in flight (held by a worker, or deferred). */
  depth(): Promise<{ waiting: number; inFlight: number }>;
}

/** Raised when SQS refused some entries of a batch. */
export class QueueError extends Error {
  override readonly name = 'QueueError';
}

/**
 * Builds an SQS client. With `AWS_ENDPOINT_URL_SQS` set (local engines), queue URLs name a host that does
 * not resolve (fauxqs uses `sqs.<region>.localhost`), so requests must go to the configured endpoint.
 */
export function createSqsClient(
  env: NodeJS.ProcessEnv = process.env,
  extra: SQSClientConfig = {},
): SQSClient {
  const local = Boolean(env.AWS_ENDPOINT_URL_SQS);
  return new SQSClient({ ...(local ? { useQueueUrlAsEndpoint: false } : {}), ...extra });
}

/** Parses a message body; throws on anything but `{"jobId": "<string>"}`. */
export function parseJobMessage(body: string): JobMessage {
  const parsed = JSON.parse(body) as unknown;
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { jobId?: unknown }).jobId !== 'string'
  ) {
    throw new QueueError(`not a job message: ${body.slice(0, 100)}`);
  }
  return { jobId: (parsed as JobMessage).jobId };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** {@link JobQueue} on one SQS queue. */
export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(jobIds: readonly string[]): Promise<void> {
    for (const part of chunks([...new Set(jobIds)], SQS_BATCH)) {
      const out = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: part.map((jobId, i) => ({ Id: String(i), MessageBody: JSON.stringify({ jobId }) })),
        }),
      );
      if (out.Failed?.length) {
        const first = out.Failed[0];
        throw new QueueError(
          `SendMessageBatch refused ${out.Failed.length} of ${part.length} messages: ${first?.Code} ${first?.Message ?? ''}`,
        );
      }
    }
  }

  async depth(): Promise<{ waiting: number; inFlight: number }> {
    const out = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesDelayed',
          'ApproximateNumberOfMessagesNotVisible',
        ],
      }),
    );
    const n = (name: QueueAttributeName) => Number(out.Attributes?.[name] ?? 0) || 0;
    return {
      waiting: n('ApproximateNumberOfMessages') + n('ApproximateNumberOfMessagesDelayed'),
      inFlight: n('ApproximateNumberOfMessagesNotVisible'),
    };
  }

  async delay(messages: readonly DelayedMessage[]): Promise<void> {
    for (const part of chunks(messages, SQS_BATCH)) {
      const out = await this.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: part.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.receiptHandle,
            VisibilityTimeout: Math.max(0, Math.min(MAX_VISIBILITY_S, Math.ceil(m.delayS))),
          })),
        }),
      );
      if (out.Failed?.length) {
        const first = out.Failed[0];
        throw new QueueError(
          `ChangeMessageVisibilityBatch refused ${out.Failed.length} entries: ${first?.Code} ${first?.Message ?? ''}`,
        );
      }
    }
  }
}

/** Creates the queue when missing and returns its URL (local runtime and tests; AWS queues come from CDK). */
export async function ensureQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string> = {},
): Promise<string> {
  try {
    const got = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    if (got.QueueUrl) return got.QueueUrl;
  } catch (err) {
    const n = (err as Error).name;
    if (n !== 'QueueDoesNotExist' && n !== 'AWS.SimpleQueueService.NonExistentQueue') throw err;
  }
  const created = await client.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '60', ...attributes } }),
  );
  if (!created.QueueUrl) throw new QueueError(`CreateQueue ${name} returned no URL`);
  return created.QueueUrl;
}
