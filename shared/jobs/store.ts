/**
 * What the use-cases need from the job store, independent of DynamoDB. Every transition is conditional on
 * the expected previous state; a transition that lost a race raises {@link TransitionConflictError}.
 */
import type { PacerState } from '../fichier/pacer.js';
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

/**
 * A 1fichier remote request we follow until every job in it has ended: the `submitted` phase is tracked
 * per request (one item for up to `batchMaxUrls` jobs) rather than per job, which keeps submitted jobs out
 * of the status index.
 */
export interface RemoteRecord {
  remoteId: number;
  jobIds: string[];
  /** Epoch ms when 1fichier accepted it (the earliest we recorded). */
  submittedAt: number;
  /**
   * The worker that sent the request recorded it with every job it held, so `jobIds` is all of them.
   * Not set on an item that reconciliation created (it adds the one job it found).
   */
  complete?: boolean;
}

/** Who must hold the job for a transition to apply. */
export interface Expected {
  status: JobStatus;
  /** Required for transitions out of `submitting`. */
  claimToken?: string;
}

/** One page of a listing. `next` is an opaque cursor. */
export interface Page<T> {
  items: T[];
  next?: string;
}

/** The poller's report of one cycle (`GET /reports/latest`). */
export interface Report {
  period: { from: string | null; to: string };
  /**
   * Non-terminal jobs right now (`queued` and `submitting` from the queue's approximate depth: waiting
   * messages, and messages held by a worker or waiting out a deferral), and jobs that became terminal
   * during the period.
   */
  counts: Record<JobStatus, number>;
  completed: { id: string; url: string; fileUrl: string }[];
  failures: { id: string; url: string; error: JobError }[];
  pacer: PacerState | null;
  /** Calls made to 1fichier during the cycle. */
  calls: { ls: number; info: number };
  requeued: number;
  reconciled: number;
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

/** The token hash is already stored for another user. */
export class TokenConflictError extends JobStoreError {
  override readonly name = 'TokenConflictError';
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
   * since then. Pages may hold fewer than `limit` jobs (a filter runs after the read): follow `next`.
   * `submitted` jobs are read through the open remote requests: one page, no cursor.
   */
  listByStatus(
    status: 'queued' | 'submitting' | 'submitted',
    opts?: { limit?: number; cursor?: string; changedBefore?: number },
  ): Promise<Page<JobRecord>>;
  countByStatus(status: 'queued' | 'submitting' | 'submitted'): Promise<number>;
  /** A user's jobs, newest first, optionally of one status. */
  listForUser(
    userId: string,
    opts: { status?: JobStatus; limit: number; cursor?: string },
  ): Promise<Page<JobRecord>>;
  /**
   * Starts following a remote request, or adds jobs to one already followed (idempotent). `complete`:
   * `jobIds` are all the jobs the request holds (the sending worker's call), see {@link RemoteRecord}.
   */
  trackRemote(
    remoteId: number,
    jobIds: readonly string[],
    submittedAt: number,
    opts?: { complete?: boolean },
  ): Promise<void>;
  /** The remote requests still followed, oldest first (at most `limit`, default 1000). */
  openRemotes(opts?: { limit?: number }): Promise<RemoteRecord[]>;
  /** Stops following a remote request (all its jobs have ended). */
  closeRemote(remoteId: number): Promise<void>;
  /** Stores a client token by its sha256 (hex); refuses to overwrite an existing one. */
  putToken(tokenHash: string, userId: string, now: number): Promise<void>;
  /** The user a token hash belongs to. */
  userForToken(tokenHash: string): Promise<string | undefined>;
  /** Stores the latest report: relay-wide, or one user's (their own jobs only) when `userId` is given. */
  putReport(report: Report, userId?: string): Promise<void>;
  /** The latest report: relay-wide (operators), or one user's. */
  latestReport(userId?: string): Promise<Report | undefined>;
}
