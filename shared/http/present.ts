import type { Job } from '../jobs/model.js';
import { isRetryable } from '../jobs/retryable.js';
import type { JobRecord } from '../jobs/store.js';

/** A job as the HTTP API shows it, with the hints people need to act on it. */
export interface PresentedJob extends Job {
  /** A waiting `queued` job: why it waits. */
  waitReason?: string;
  /** A waiting `queued` job: when it will be tried next (ISO 8601). */
  nextAttemptAt?: string;
  /** A `failed` job: whether retrying can help (by its error code, `shared/jobs/retryable.ts`). */
  retryable?: boolean;
}

/** A job as the HTTP API shows it: internal fields (owner, claim, lease) left out. */
export function presentJob(r: JobRecord): PresentedJob {
  const job: PresentedJob = {
    id: r.id,
    url: r.url,
    status: r.status,
    folder: r.folder,
    source: r.source,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    attempts: r.attempts,
  };
  if (r.remoteId !== undefined) job.remoteId = r.remoteId;
  if (r.fileUrl !== undefined) job.fileUrl = r.fileUrl;
  if (r.error !== undefined) job.error = r.error;
  if (r.callbackUrl !== undefined) job.callbackUrl = r.callbackUrl;
  if (r.status === 'queued') {
    if (r.waitReason) job.waitReason = r.waitReason;
    if (r.nextAttemptAt) job.nextAttemptAt = new Date(r.nextAttemptAt).toISOString();
  }
  if (r.status === 'failed') job.retryable = isRetryable(r.error?.code);
  return job;
}
