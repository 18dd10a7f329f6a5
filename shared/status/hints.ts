/**
 * What a person needs to know about a job beyond its status (issue 13 item 3): why a waiting job waits and
 * when it is tried next, and whether retrying a failed one can help. Pure: derived from the job record and
 * the time, for the status page's `GET /status`.
 */

import { RETRYABLE_RULES } from '../jobs/retryable.js';
import type { JobRecord } from '../jobs/store.js';

/** Whether `POST /jobs/{id}/retry` can make a failed job succeed. */
export type RetryHelps = 'yes' | 'maybe' | 'no';

/** The hint for a failed job. */
export interface RetryHint {
  helps: RetryHelps;
  /** One sentence: why, and what to do first when something must change. */
  why: string;
}

/**
 * The retry hint of a failed job's error code, from the one table the API's `retryable` and the CLI use
 * too (`shared/jobs/retryable.ts`), so the page, the API and the CLI always agree.
 */
export function retryHintFor(code: string | undefined): RetryHint {
  const rule = code ? RETRYABLE_RULES[code] : undefined;
  return rule
    ? { helps: rule.helps, why: rule.note }
    : { helps: 'maybe', why: 'the relay does not know whether this failure lasts; a retry is safe' };
}

/** The extra fields `GET /status` adds to a job. */
export interface JobHints {
  /** A waiting job's reason (e.g. a flood pause, an open circuit), when it has one. */
  waitReason?: string;
  /** ISO time before which a waiting job is not sent again. */
  nextAttemptAt?: string;
  /** Failed jobs only. */
  retryable?: boolean;
  retry?: RetryHint;
}

/** The hints of one job at `now` (epoch ms). */
export function jobHints(job: JobRecord, now: number): JobHints {
  const hints: JobHints = {};
  if (job.status === 'failed') {
    const retry = retryHintFor(job.error?.code);
    hints.retry = retry;
    hints.retryable = retry.helps !== 'no';
    return hints;
  }
  if (job.status === 'done') return hints;
  if (job.waitReason) hints.waitReason = job.waitReason;
  if (job.nextAttemptAt !== undefined && job.nextAttemptAt > now) {
    hints.nextAttemptAt = new Date(job.nextAttemptAt).toISOString();
  }
  return hints;
}
