/**
 * What the use-cases need from the job store, independent of DynamoDB. Every transition is conditional on
 * the expected previous state; a transition that lost a race raises {@link TransitionConflictError}.
 */
import type { Job, JobError, JobStatus } from './model.js';

/** A job with the fields the API does not show. */
export interface JobRecord extends Job {
  userId: string;
  /** Random token of the worker invocation holding the job in `submitting`. */
  claimToken?: string;
  /** Epoch ms until which that worker owns the job; after it the job is reconciled. */
  leaseUntil?: number;
  /** Epoch ms of the latest claim, i.e. just before the latest remote/request.cgi attempt. */
  submitAttemptAt?: number;
  /** Epoch ms when 1fichier accepted the job. */
  submittedAt?: number;
  /**
   * Reconciliation progress of the current submit attempt: every remote request of the attempt's window
   * with an id up to this one was read and does not hold the job's URL. Removed when a new attempt
   * starts and when the job leaves `submitting`.
   */
  reconcileCheckedThrough?: number;
  /**
   * Reconciliation of the current submit attempt: epoch ms of the first reading of remote/ls.cgi that
   * did not find the job's request. Absence is decided only by a second reading a poll cycle later.
   */
  absentSince?: number;
  /** A `queued` job is not sent before this epoch ms (a long wait decided by the retry policy). */
  nextAttemptAt?: number;
  /** Why the job waits, for people (API, CLI, status page). */
  waitReason?: string;
  /** The same unknown 1fichier answer, repeated: the job fails when it lasts too long. */
  unknownAnswer?: UnknownStreak;
  /** `attempts` when the job was last retried by hand: the claim budget counts from there. */
  attemptsAtRetry?: number;
  /** How many times the job was retried after it failed. */
  retries?: number;
  /** Set at creation when someone wants to hear when it ends ({@link NewJob.notify}). */
  notify?: boolean;
}

/** An unknown 1fichier answer a job keeps getting: since when, and how many times. */
export interface UnknownStreak {
  message: string;
  /** Epoch ms of the first answer of the streak. */
  since: number;
  count: number;
}

/** A job to create in `queued`. */
export interface NewJob {
  id: string;
  userId: string;
  url: string;
  folder: string;
  source: Job['source'];
  callbackUrl?: string;
  /** Someone wants to hear when it ends (a callback, a target or a REST hook): the job-event source's filter. */
  notify?: boolean;
}

/** Who must hold the job for a transition to apply. */
export interface Expected {
  status: JobStatus;
  /** Required for transitions out of `submitting`. */
  claimToken?: string;
  /** Only a job not waiting out a deferral at this time (epoch ms): no `nextAttemptAt` after it. */
  dueBy?: number;
}

/** One page of a listing. `next` is an opaque cursor. */
export interface Page<T> {
  items: T[];
  next?: string;
}

/** Base of the store's errors. */
export class JobStoreError extends Error {
  override readonly name: string = 'JobStoreError';
}

/** The job was not in the expected state (a redelivery, a concurrent worker, a lost lease). */
export class TransitionConflictError extends JobStoreError {
  override readonly name = 'TransitionConflictError';
  constructor(
    readonly jobId: string,
    readonly expected: Expected,
    options?: ErrorOptions,
  ) {
    super(
      `job ${jobId} is no longer ${expected.status}${expected.claimToken ? ' under this claim' : ''}`,
      options,
    );
  }
}

/** A cursor that was not issued for this caller or is malformed. */
export class InvalidCursorError extends JobStoreError {
  override readonly name = 'InvalidCursorError';
}

/** Changes a transition applies; `undefined` fields are left alone, `null` ones removed. */
export type JobPatch = {
  status: JobStatus;
  claimToken?: string | null;
  leaseUntil?: number | null;
  submitAttemptAt?: number;
  submittedAt?: number;
  remoteId?: number;
  fileUrl?: string;
  error?: JobError | null;
  /** Added to `attempts` (a claim adds 1; giving a claim back because of a flood takes it away again). */
  attemptsDelta?: number;
  nextAttemptAt?: number | null;
  waitReason?: string | null;
  unknownAnswer?: UnknownStreak | null;
  attemptsAtRetry?: number;
  /** Added to `retries`. */
  retriesDelta?: number;
};

/** The job store. */
export interface JobStore {
  /** Creates the job unless one with that id exists; then returns the existing one with `created: false`. */
  createJob(job: NewJob, now: number): Promise<{ job: JobRecord; created: boolean }>;
  getJob(id: string): Promise<JobRecord | undefined>;
  /** Jobs for these ids (missing ones left out), strongly consistent unless `consistent` is false. */
  getJobs(ids: readonly string[], consistent?: boolean): Promise<JobRecord[]>;
  /**
   * Applies `patch` if the job is as `expected`; returns the new job. A patch that starts a new attempt
   * (`submitAttemptAt`) or leaves `submitting` also removes `reconcileCheckedThrough` and `absentSince`;
   * one that ends the job removes `nextAttemptAt` and `waitReason`; one that takes an ended job back to
   * `queued` (a retry) removes its expiry and puts it back in the pending index.
   */
  transition(id: string, expected: Expected, patch: JobPatch, now: number): Promise<JobRecord>;
  /**
   * Puts `queued` or `submitting` jobs whose SQS message may be lost (a failed send, a message dropped
   * after too many deferrals, a circuit that acknowledged it) into the pending index, where the poller
   * finds them. Jobs are not in that index otherwise: it costs nothing while messages flow. Returns how
   * many were added (jobs already there, ended or gone are skipped).
   */
  markPending(ids: readonly string[], now: number): Promise<number>;
  /**
   * Records reconciliation progress on a `submitting` job still held by `claimToken`:
   * `checkedThrough` (`reconcileCheckedThrough`) if it moves forward, and `absentSince` if none is
   * recorded yet. No status change and no `updatedAt` change (the poller finds lease-ended jobs by it).
   * Returns false when the job changed hands or nothing would change.
   */
  recordReconcileProgress(
    id: string,
    claimToken: string,
    progress: { checkedThrough?: number; absentSince?: number },
  ): Promise<boolean>;
  /**
   * Non-terminal jobs in `status`, oldest created first; `changedBefore` (epoch ms) keeps those unchanged
   * since then, from the pending index (jobs whose message may be lost; see `markPending`). Pages may
   * hold fewer than `limit` jobs (a filter runs after the read): follow `next`.
   */
  listByStatus(
    status: 'queued' | 'submitting',
    opts?: { limit?: number; cursor?: string; changedBefore?: number },
  ): Promise<Page<JobRecord>>;
  /** How many jobs of `status` the pending index holds. */
  countByStatus(status: 'queued' | 'submitting'): Promise<number>;
  /**
   * A user's jobs, newest first, optionally of one stored status (`submitting` also holds the jobs shown
   * `submitted`: see `shared/jobs/shown-status.ts`).
   */
  listForUser(
    userId: string,
    opts: { status?: JobStatus; limit: number; cursor?: string },
  ): Promise<Page<JobRecord>>;
}
