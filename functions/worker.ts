/**
 * SQS worker Lambda: parse the records, call `submitJobs`, report failures per record. Records that
 * must wait (flood pause, busy pacer, a lease held elsewhere) get their visibility extended to the wait
 * first, so SQS hands them back only when they can go.
 *
 * Not Powertools' BatchProcessor: it handles records one by one, and this worker must see the whole
 * batch to put up to `batchMaxUrls` URLs of one folder into one remote/request.cgi.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadConfig } from '../shared/app/config.js';
import { createWorkerDeps, type WorkerDeps } from '../shared/app/worker-deps.js';
import { parseJobMessage } from '../shared/aws/queue.js';
import { KeyNotSetError } from '../shared/aws/secrets-key-provider.js';
import { handToPoller } from '../shared/jobs/hand-to-poller.js';
import { type SubmitMessage, submitJobs } from '../shared/jobs/submit.js';

/**
 * A message handed back this many times for a wait (pause, busy pacer, lease) is deleted instead: its job
 * stays in the table, where the poller finds it (stale `queued` → sent again, `submitting` past its lease →
 * reconciled). So the DLQ (maxReceiveCount ≥ 5) only ever receives messages that failed by an error.
 */
export const MAX_DEFERRALS = 4;

/**
 * Time kept after the batch's sending deadline to record outcomes and hand messages back: 5 s, or a
 * quarter of the time left when that is shorter (the local runtime's short test leases).
 */
export const WORKER_SAFETY_MS = 5000;

/** Builds the SQS handler over the given deps (partial batch responses must be enabled on the mapping). */
export function createWorkerHandler(
  deps: WorkerDeps,
): (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse> {
  return async (event, context) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    const messages: SubmitMessage[] = [];
    const receipts = new Map<string, string>();
    const receiveCounts = new Map<string, number>();
    for (const record of event.Records) {
      try {
        messages.push({ messageId: record.messageId, jobId: parseJobMessage(record.body).jobId });
        receipts.set(record.messageId, record.receiptHandle);
        receiveCounts.set(record.messageId, Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1);
      } catch (err) {
        // Never succeeds: report it failed so it ends in the DLQ for a person to look at.
        deps.logger.error('malformed queue message', {
          messageId: record.messageId,
          error: (err as Error).message,
        });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    try {
      if (messages.length === 0) return { batchItemFailures: failures };
      let outcomes: Awaited<ReturnType<typeof submitJobs>>;
      try {
        const remaining = context?.getRemainingTimeInMillis();
        const signal =
          remaining === undefined
            ? undefined
            : AbortSignal.timeout(
                Math.floor(Math.max(0, remaining - Math.min(WORKER_SAFETY_MS, remaining / 4))),
              );
        outcomes = await submitJobs(messages, deps, signal ? { signal } : {});
      } catch (err) {
        if (err instanceof KeyNotSetError) {
          // The secret still holds the stack's placeholder: hold the jobs (queued, in the pending index,
          // where the poller finds them once the key is set), call nothing, fail nothing.
          const jobIds = [...new Set(messages.map((m) => m.jobId))];
          deps.logger.warn('submit held: the 1fichier key is not set yet', { jobs: jobIds.length });
          try {
            await deps.store.markPending(jobIds, deps.clock.now());
            return { batchItemFailures: failures };
          } catch (markErr) {
            deps.logger.warn('could not hand held jobs to the poller; keeping their messages', {
              error: (markErr as Error).message,
            });
            return {
              batchItemFailures: [...failures, ...messages.map((m) => ({ itemIdentifier: m.messageId }))],
            };
          }
        }
        deps.logger.error('worker batch failed; every message will be redelivered', { error: err as Error });
        // Back once the claims' lease has ended (then they are reconciled), not after the queue's whole
        // visibility timeout. If even this fails, the visibility timeout still brings them back.
        const afterLeaseS = deps.config.submittingLeaseS + 1;
        await deps.queue
          .delay(
            messages.map((m) => ({
              receiptHandle: receipts.get(m.messageId) as string,
              delayS: afterLeaseS,
            })),
          )
          .catch(() => undefined);
        return {
          batchItemFailures: [...failures, ...messages.map((m) => ({ itemIdentifier: m.messageId }))],
        };
      }
      const dropped: string[] = [];
      const retries = outcomes.filter((o) => {
        if (o.action !== 'retry') return false;
        if ((receiveCounts.get(o.messageId) ?? 1) < MAX_DEFERRALS) return true;
        deps.logger.info('message deferred too often; its job is left to the poller', {
          messageId: o.messageId,
          reason: o.reason,
        });
        dropped.push(o.messageId);
        return false;
      });
      if (dropped.length) {
        const jobOf = new Map(messages.map((m) => [m.messageId, m.jobId]));
        // Deleted messages: the pending index is how the poller finds their jobs. If that write fails,
        // the messages are kept (reported failed) rather than lost.
        try {
          await handToPoller(
            dropped.map((id) => jobOf.get(id) as string),
            deps,
            deps.clock.now(),
          );
        } catch (err) {
          deps.logger.warn('could not hand jobs to the poller; keeping their messages', {
            error: (err as Error).message,
          });
          for (const id of dropped) failures.push({ itemIdentifier: id });
        }
      }
      const delayed = retries.flatMap((o) =>
        o.action === 'retry'
          ? [{ receiptHandle: receipts.get(o.messageId) as string, delayS: o.delayS }]
          : [],
      );
      if (delayed.length) {
        try {
          await deps.queue.delay(delayed);
        } catch (err) {
          // They still come back, after the queue's visibility timeout instead of the wait.
          deps.logger.warn('could not delay messages', { error: (err as Error).message });
        }
      }
      for (const o of retries) failures.push({ itemIdentifier: o.messageId });
      return { batchItemFailures: failures };
    } finally {
      deps.metrics.flush();
    }
  };
}

let lambdaHandler: ReturnType<typeof createWorkerHandler> | undefined;

/** SQS event source entry point; deps are built on the first call. */
export const handler = (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  lambdaHandler ??= createWorkerHandler(createWorkerDeps(loadConfig()));
  return lambdaHandler(event, context);
};
