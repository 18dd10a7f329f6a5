/**
 * Use-case: retry a failed job (`POST /jobs/{id}/retry`, or the same URL posted again). The job goes back
 * to `queued` with its history kept (`attempts`, the last `error`, a `retries` count) and a fresh claim
 * budget, and is sent to the queue.
 */
import type { Deps } from '../app/deps.js';
import { handToPoller } from './hand-to-poller.js';
import { type JobRecord, TransitionConflictError } from './store.js';

/** Why a retry was refused. */
export class RetryRefusedError extends Error {
  override readonly name = 'RetryRefusedError';
  constructor(
    readonly jobId: string,
    readonly status: string,
  ) {
    super(`job ${jobId} is ${status}, not failed: only a failed job can be retried`);
  }
}

/**
 * Requeues `job` if it is `failed`; throws {@link RetryRefusedError} otherwise (including when another
 * caller retried it first). Returns the job as it now is.
 */
export async function retryJob(
  job: JobRecord,
  deps: Pick<Deps, 'config' | 'store' | 'queue' | 'pollTimer' | 'clock' | 'logger' | 'metrics'>,
): Promise<JobRecord> {
  if (job.status !== 'failed') throw new RetryRefusedError(job.id, job.status);
  let queued: JobRecord;
  try {
    queued = await deps.store.transition(
      job.id,
      { status: 'failed' },
      {
        status: 'queued',
        attemptsAtRetry: job.attempts,
        retriesDelta: 1,
        waitReason: null,
        nextAttemptAt: null,
        unknownAnswer: null,
      },
      deps.clock.now(),
    );
  } catch (err) {
    if (err instanceof TransitionConflictError) {
      const now = await deps.store.getJob(job.id);
      throw new RetryRefusedError(job.id, now?.status ?? 'gone');
    }
    throw err;
  }
  try {
    await deps.queue.enqueue([job.id]);
  } catch (err) {
    // `queued` without a message: the pending index makes the poller send it.
    await handToPoller([job.id], deps, deps.clock.now());
    throw err;
  }
  deps.logger.info('job retried', { jobId: job.id, retries: queued.retries, lastError: job.error?.code });
  deps.metrics.count('JobsRetried');
  return queued;
}
