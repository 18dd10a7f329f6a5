/**
 * The deliveries queue on SQS. A message carries the whole delivery (recipient, event, retry state), so
 * a retry is a new message with a delay rather than a visibility change: the receive count never reaches
 * the DLQ's limit through ordinary retries, and only a message that keeps crashing the handler lands there.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DeliveryMessage, type DeliveryQueue, MAX_QUEUE_DELAY_S } from '../notify/deliver.js';
import { NOTIFY_EVENT_TYPES } from '../notify/events.js';
import { QueueError } from './queue.js';

/** Parses a deliveries queue message; throws {@link QueueError} on anything else. */
export function parseDeliveryMessage(body: string): DeliveryMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new QueueError('not a delivery message: not JSON', { cause });
  }
  const m = parsed as Partial<DeliveryMessage> | null;
  const kind = (m?.to as { kind?: unknown } | undefined)?.kind;
  if (
    m?.v !== 1 ||
    typeof m.userId !== 'string' ||
    (kind !== 'target' && kind !== 'callback' && kind !== 'subscription') ||
    typeof m.event !== 'object' ||
    m.event === null ||
    !NOTIFY_EVENT_TYPES.includes(m.event.type) ||
    typeof m.attempts !== 'number'
  ) {
    throw new QueueError('not a delivery message');
  }
  return m as DeliveryMessage;
}

/** {@link DeliveryQueue} on one SQS queue. */
export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(items: readonly { message: DeliveryMessage; delayS?: number }[]): Promise<void> {
    for (let i = 0; i < items.length; i += 10) {
      const part = items.slice(i, i + 10);
      const out = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: part.map((item, k) => ({
            Id: String(k),
            MessageBody: JSON.stringify(item.message),
            DelaySeconds: Math.max(0, Math.min(MAX_QUEUE_DELAY_S, Math.ceil(item.delayS ?? 0))),
          })),
        }),
      );
      if (out.Failed?.length) {
        throw new QueueError(
          `SendMessageBatch refused ${out.Failed.length} of ${part.length} delivery messages`,
        );
      }
    }
  }
}
