/**
 * What a person needs to know about a job beyond its status (issue 13 item 3): why a waiting job waits and
 * when it is tried next, and whether retrying a failed one can help. Pure: derived from the job record and
 * the time, for the status page's `GET /status`.
 */
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
 * Retry hint per error code (the codes the pipeline writes: shared/jobs/retry-policy.ts, submit.ts,
 * poll.ts, reconcile.ts). An unknown code is `maybe`.
 */
const RETRY_HINTS: Record<string, RetryHint> = {
  remoteFailed: {
    helps: 'maybe',
    why: '1fichier could not download the URL; retry once the source is reachable again',
  },
  stuck: { helps: 'yes', why: '1fichier never finished the download; a retry sends it again' },
  unconfirmed: {
    helps: 'yes',
    why: 'the relay could not confirm 1fichier received the URL; a retry sends it again',
  },
  gaveUp: { helps: 'yes', why: 'the relay stopped after too many attempts; a retry starts a fresh budget' },
  unknownAnswer: {
    helps: 'maybe',
    why: '1fichier kept giving an answer the relay does not know; check the account, then retry',
  },
  notPremium: {
    helps: 'maybe',
    why: 'remote upload needs a premium 1fichier account; retry after upgrading the account or the key',
  },
  rejected: { helps: 'no', why: '1fichier refused this URL; retrying the same URL gets the same answer' },
  notFound: { helps: 'no', why: 'the file does not exist at the source; retrying will not find it' },
  invalid: { helps: 'no', why: 'the request was invalid; submit a corrected URL instead' },
  folderRejected: {
    helps: 'no',
    why: 'the destination folder cannot be used; submit the URL again with another folder',
  },
};

/** The retry hint of a failed job's error code. */
export function retryHintFor(code: string | undefined): RetryHint {
  return (
    (code ? RETRY_HINTS[code] : undefined) ?? {
      helps: 'maybe',
      why: 'the relay does not know whether this failure lasts; a retry is safe',
    }
  );
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
