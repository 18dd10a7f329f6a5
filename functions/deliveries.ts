/**
 * Deliveries Lambda, with two triggers:
 * - the table's DynamoDB Stream, filtered by the event source mapping to jobs marked `notify` that just
 *   reached `done` or `failed`: each becomes delivery messages on the deliveries queue (`jobEnded`);
 * - the deliveries queue: one attempt per message (`processDelivery`), a retry sent back with its delay.
 * Both report failures per record, so one bad record never replays the batch. The local runtime calls
 * the same functions in-process (infra/local/notify.ts).
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { loadConfig } from '../shared/app/config.js';
import { createDeliveriesDeps, type DeliveriesDeps } from '../shared/app/deliveries-deps.js';
import { parseDeliveryMessage } from '../shared/aws/delivery-queue.js';
import { isTerminal } from '../shared/jobs/model.js';
import type { JobRecord } from '../shared/jobs/store.js';
import { type DeliveryDeps, planJobEvent, processDelivery } from '../shared/notify/deliver.js';

const PLUMBING = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'expiresAt']);

/** The job of a stream record's new image, when it is a job marked `notify` that has just ended. */
export function endedJobOf(record: Pick<DynamoDBRecord, 'dynamodb'>): JobRecord | undefined {
  const image = record.dynamodb?.NewImage;
  if (!image) return undefined;
  const item = unmarshall(image as Parameters<typeof unmarshall>[0]);
  if (!String(item.pk).startsWith('JOB#') || item.notify !== true || !isTerminal(item.status))
    return undefined;
  const old = record.dynamodb?.OldImage
    ? unmarshall(record.dynamodb.OldImage as Parameters<typeof unmarshall>[0])
    : undefined;
  if (old && old.status === item.status) return undefined;
  const job: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!PLUMBING.has(k)) job[k] = v;
  return job as unknown as JobRecord;
}

/** A job reached its end: send its delivery messages (none when nobody asked). */
export async function jobEnded(
  job: JobRecord,
  deps: Pick<DeliveryDeps, 'notify' | 'logger'>,
): Promise<number> {
  const messages = await planJobEvent(job, deps);
  if (messages.length > 0) await deps.notify.queue.send(messages.map((message) => ({ message })));
  return messages.length;
}

type DeliveriesEvent = SQSEvent | DynamoDBStreamEvent;

/** Builds the handler over the given deps (partial batch responses must be enabled on both mappings). */
export function createDeliveriesHandler(
  deps: DeliveriesDeps,
): (event: DeliveriesEvent) => Promise<SQSBatchResponse | DynamoDBBatchResponse> {
  return async (event) => {
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records as (DynamoDBRecord | SQSRecord)[]) {
      if (!('body' in record)) {
        try {
          const job = endedJobOf(record);
          if (job) await jobEnded(job, deps);
        } catch (err) {
          deps.logger.error('job event not turned into deliveries', { error: (err as Error).message });
          failures.push({ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' });
          // A stream shard is ordered: stop at the first failure, Lambda retries from it.
          break;
        }
        continue;
      }
      try {
        const step = await processDelivery(parseDeliveryMessage(record.body), deps);
        if (step.kind === 'later')
          await deps.notify.queue.send([{ message: step.message, delayS: step.delayS }]);
      } catch (err) {
        deps.logger.error('delivery failed to run', {
          messageId: record.messageId,
          error: (err as Error).message,
        });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

let lambdaHandler: ReturnType<typeof createDeliveriesHandler> | undefined;

/** Entry point of both triggers; deps are built on the first call. */
export const handler = (event: DeliveriesEvent): Promise<SQSBatchResponse | DynamoDBBatchResponse> => {
  lambdaHandler ??= createDeliveriesHandler(
    createDeliveriesDeps(loadConfig(process.env, { jobsQueue: false })),
  );
  return lambdaHandler(event);
};
