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
import { createDeps, type Deps } from '../shared/app/deps.js';
import { parseJobMessage } from '../shared/aws/queue.js';
import { type SubmitMessage, submitJobs } from '../shared/jobs/submit.js';

/** Builds the SQS handler over the given deps (partial batch responses must be enabled on the mapping). */
export function createWorkerHandler(
  deps: Deps,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  return async (event) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    const messages: SubmitMessage[] = [];
    const receipts = new Map<string, string>();
    for (const record of event.Records) {
      try {
        messages.push({ messageId: record.messageId, jobId: parseJobMessage(record.body).jobId });
        receipts.set(record.messageId, record.receiptHandle);
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
        outcomes = await submitJobs(messages, deps);
      } catch (err) {
        deps.logger.error('worker batch failed; every message will be redelivered', { error: err as Error });
        return {
          batchItemFailures: [...failures, ...messages.map((m) => ({ itemIdentifier: m.messageId }))],
        };
      }
      const delayed = outcomes.flatMap((o) =>
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
      for (const o of outcomes) if (o.action === 'retry') failures.push({ itemIdentifier: o.messageId });
      return { batchItemFailures: failures };
    } finally {
      deps.metrics.flush();
    }
  };
}

let lambdaHandler: ReturnType<typeof createWorkerHandler> | undefined;

/** SQS event source entry point; deps are built on the first call. */
export const handler = (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  lambdaHandler ??= createWorkerHandler(createDeps(loadConfig()));
  return lambdaHandler(event, context);
};
