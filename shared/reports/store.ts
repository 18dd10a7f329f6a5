/**
 * The reports aggregate: what the poller/reporter found in one cycle, relay-wide (operators) and per
 * user (that user's jobs only). Every stored report is kept for a while, so a user can read their recent
 * ones (`GET /reports?limit=`), not only the latest.
 */
import type { PacerState } from '../fichier/pacer.js';
import type { JobError, JobStatus } from '../jobs/model.js';
import type { PlannedPoll } from '../jobs/poll-plan.js';
import type { ReportSummary } from './summary.js';

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
  /** The next cycle this one planned (relay-wide report only); absent when nothing is open. */
  next?: PlannedPoll;
  /**
   * What the period did, for people and dashboards (`shared/reports/summary.ts`): derived from the
   * rest, so stores add it on read and never keep it.
   */
  summary?: ReportSummary;
}

/** Most reports one listing returns. */
export const MAX_REPORTS_LISTED = 100;

/** What the poller and the API need from the reports store. */
export interface ReportStore {
  /** Stores a report: relay-wide, or one user's (their own jobs only) when `userId` is given. */
  putReport(report: Report, userId?: string): Promise<void>;
  /** The latest report: relay-wide (operators), or one user's. */
  latestReport(userId?: string): Promise<Report | undefined>;
  /** The latest `limit` reports (at most {@link MAX_REPORTS_LISTED}), newest first. */
  listReports(userId: string | undefined, limit: number): Promise<Report[]>;
}
