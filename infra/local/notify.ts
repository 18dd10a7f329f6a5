/**
 * The delivery path in the local runtime, on the same code as in AWS: a deliveries queue on fauxqs fed
 * to `functions/deliveries.ts`'s handler by an SQS loop, and the job-event source in-process (dynalite has
 * no streams): the job-store decorator hears every job that ends and `jobEnded` turns it into delivery
 * messages. Because fauxqs keeps no messages and that hand-off is not durable, the start looks for jobs
 * that ended in the last 24 h with `notify` set and sends again the messages that have no settled delivery
 * record; the sender checks the record too, so nothing is sent twice.
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDeliveriesHandler, jobEnded } from '../../functions/deliveries.js';
import type { Deps } from '../../shared/app/deps.js';
import { ensureQueue } from '../../shared/aws/queue.js';
import { ENV } from '../../shared/config/env-names.js';
import { isTerminal } from '../../shared/jobs/model.js';
import type { JobRecord } from '../../shared/jobs/store.js';
import { CIPHER_KEY_BYTES } from '../../shared/notify/cipher.js';
import { type DeliveryMessage, planJobEvent } from '../../shared/notify/deliver.js';
import { messageIdFor } from '../../shared/notify/events.js';
import type { JobChange } from './job-events.js';
import { type SqsLoop, type SqsLoopStats, startSqsLoop } from './sqs-loop.js';

/** Queue names inside fauxqs. */
export const LOCAL_DELIVERY_QUEUE_NAME = 'fichier-relay-deliveries';
/** How far back the start looks for ended jobs whose deliveries may be lost (the retry horizon). */
const RECOVER_WINDOW_MS = 24 * 3_600_000;

/**
 * Creates the deliveries queue (and its DLQ) and the encryption key file (mode 0600, made once), and
 * returns the variables that point the config at them.
 */
export async function prepareLocalNotify(sqs: SQSClient, dataDir: string): Promise<NodeJS.ProcessEnv> {
  const keyFile = resolvePath(dataDir, 'notify.key');
  if (!existsSync(keyFile)) {
    writeFileSync(keyFile, `${randomBytes(CIPHER_KEY_BYTES).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(keyFile, 0o600);
  const dlqUrl = await ensureQueue(sqs, `${LOCAL_DELIVERY_QUEUE_NAME}-dlq`);
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const queueUrl = await ensureQueue(sqs, LOCAL_DELIVERY_QUEUE_NAME, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 10 }),
  });
  return { [ENV.notifyKeyFile]: keyFile, [ENV.notifyQueueUrl]: queueUrl };
}

/** The running local delivery path. */
export interface LocalDeliveries {
  /** Feed it every job change (the runtime's store decorator does). */
  /**
   * A job changed; `job` is its new image when the store just wrote it (like a stream record), so no read
   * is needed for it.
   */
  onJobChange(change: JobChange, job?: JobRecord): void;
  /** Job ends re-sent at start. */
  recoveredAtStart: number;
  stats(): SqsLoopStats;
  /** Waits for the job-event hand-offs in flight, then stops the loop. */
  stop(kill: boolean): Promise<void>;
}

/** Ended jobs marked `notify` that changed since `since` (the local start only: a Scan). */
async function scanEndedNotifyJobs(
  doc: DynamoDBDocumentClient,
  tableName: string,
  since: number,
): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression:
          'sk = :job AND #notify = :yes AND (#status = :done OR #status = :failed) AND #updatedAt >= :since',
        ExpressionAttributeNames: { '#notify': 'notify', '#status': 'status', '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: {
          ':job': 'JOB',
          ':yes': true,
          ':done': 'done',
          ':failed': 'failed',
          ':since': new Date(since).toISOString(),
        },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) out.push(item as unknown as JobRecord);
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Starts the deliveries loop and the in-process job-event source; recovers what a crash left. */
export async function startLocalDeliveries(opts: {
  sqs: SQSClient;
  doc: DynamoDBDocumentClient;
  deps: Deps;
  region: string;
  receiveWaitSeconds: number;
  /** Fault injection: job ends are not handed to the delivery path, as if the process died right after. */
  dropJobEvents?: boolean;
}): Promise<LocalDeliveries> {
  const { deps } = opts;
  const queueUrl = deps.config.notify.queueUrl as string;
  const inFlight = new Set<Promise<unknown>>();
  const handOff = async (job: JobRecord) => {
    try {
      await jobEnded(job, deps);
    } catch (err) {
      // Not lost: the next start finds the ended job again.
      deps.logger.error('job event not turned into deliveries', {
        jobId: job.id,
        error: (err as Error).message,
      });
    }
  };
  const track = (p: Promise<unknown>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  // Only the messages without a settled record go out again (a coalesced failure is checked by the sender).
  const ended = await scanEndedNotifyJobs(opts.doc, deps.config.tableName, Date.now() - RECOVER_WINDOW_MS);
  let recovered = 0;
  for (const job of ended) {
    const unsettled: DeliveryMessage[] = [];
    for (const message of await planJobEvent(job, deps)) {
      const id = messageIdFor(message.to.kind === 'callback' ? 'callback' : message.to.id, message.event);
      const record = await deps.notify.deliveries.getDelivery(job.userId, message.event.occurredAt, id);
      if (!record || record.status === 'retrying') unsettled.push(message);
    }
    if (unsettled.length) {
      await deps.notify.queue.send(unsettled.map((message) => ({ message })));
      recovered += 1;
    }
  }

  const loop: SqsLoop = await startSqsLoop({
    client: opts.sqs,
    queueUrl,
    handler: createDeliveriesHandler(deps),
    batchSize: 10,
    waitTimeSeconds: opts.receiveWaitSeconds,
    concurrency: 2,
    region: opts.region,
    logger: { warn: (m, e) => deps.logger.warn(m, e ?? {}), error: (m, e) => deps.logger.error(m, e ?? {}) },
  });

  return {
    recoveredAtStart: recovered,
    onJobChange(change, image) {
      if (opts.dropJobEvents || !isTerminal(change.status)) return;
      // The stream's filter in AWS: only jobs with recipients cost anything.
      if (image && !image.notify) return;
      track(
        (async () => {
          const job = image ?? (await deps.store.getJob(change.id));
          if (job?.notify && isTerminal(job.status)) await handOff(job);
        })().catch((err) =>
          deps.logger.error('job event lookup failed', { jobId: change.id, error: (err as Error).message }),
        ),
      );
    },
    stats: () => loop.stats(),
    async stop(kill) {
      if (!kill) await Promise.allSettled([...inFlight]);
      const stopped = loop.stop();
      if (!kill) await stopped;
    },
  };
}
