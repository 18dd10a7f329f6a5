/**
 * The per-user report summary (issue "Telling people what happened", item 6): what the period did, in
 * the fields people and dashboards read, computed from the poller's report. Pure, plus one function that
 * emits its counts as metrics. The poller calls `summarizeReport` once per user report it writes.
 */
import type { RelayMetrics } from '../app/metrics.js';
import type { JobStatus } from '../jobs/model.js';
import { oldestWaitingAt } from '../jobs/queue-age.js';
import { countReasons, fileNameOf, type ReasonCount } from '../notify/events.js';
import type { Report } from './store.js';

/** What one user's report says, beyond the raw report. */
export interface ReportSummary {
  period: { from: string | null; to: string };
  /** Jobs by status: non-terminal now, terminal during the period. */
  counts: Record<JobStatus, number>;
  /** Uploads finished per hour over the period (0 for an open-ended first period). */
  throughputPerHour: number;
  completed: { id: string; name: string; fileUrl: string }[];
  failuresByReason: ReasonCount[];
  /** Jobs waiting (queued or being sent) and how long the oldest has waited, in seconds. */
  queue: { depth: number; oldestWaitingS?: number };
  pacer: { pausedUntil?: string; circuitOpen: boolean; why?: string };
}

/**
 * The summary of a report. `oldestQueuedAt` is the creation time (epoch ms) of the oldest job still
 * waiting; by default the one a worker noted on the pacer item when a job had waited 5 minutes or more
 * (`shared/jobs/queue-age.ts`), so `oldestWaitingS` is absent while nothing waits that long, and 0 with
 * an empty queue.
 */
export function summarizeReport(
  report: Report,
  opts: { now: number; oldestQueuedAt?: number },
): ReportSummary {
  const from = report.period.from ? Date.parse(report.period.from) : undefined;
  const hours = from === undefined ? 0 : Math.max(0, (Date.parse(report.period.to) - from) / 3_600_000);
  const done = report.counts.done ?? 0;
  const pacer = report.pacer;
  const depth = (report.counts.queued ?? 0) + (report.counts.submitting ?? 0);
  const reportedAt = Date.parse(report.period.to);
  const oldestAt = opts.oldestQueuedAt ?? oldestWaitingAt(pacer, reportedAt);
  const oldestWaitingS =
    depth === 0
      ? 0
      : oldestAt === undefined
        ? undefined
        : Math.max(0, Math.round((reportedAt - oldestAt) / 1000));
  return {
    period: report.period,
    counts: report.counts,
    throughputPerHour: hours > 0 ? Math.round((done / hours) * 10) / 10 : 0,
    completed: report.completed.map((c) => ({ id: c.id, name: fileNameOf(c), fileUrl: c.fileUrl })),
    failuresByReason: countReasons(report.failures),
    queue: { depth, ...(oldestWaitingS !== undefined ? { oldestWaitingS } : {}) },
    pacer: {
      circuitOpen: pacer?.circuitOpen === true,
      ...(pacer && pacer.pausedUntil > opts.now
        ? { pausedUntil: new Date(pacer.pausedUntil).toISOString() }
        : {}),
      ...(pacer?.circuitOpen && pacer.circuitReason ? { why: pacer.circuitReason } : {}),
    },
  };
}

/** Report metric names (the alarm names in metric-names.ts are left as they are). */
export const REPORT_METRICS = {
  done: 'ReportUploadsDone',
  failed: 'ReportUploadsFailed',
  queueDepth: 'ReportQueueDepth',
} as const;

/** Emits a summary's counts (EMF in Lambda through Powertools, in memory elsewhere). */
export function emitReportMetrics(summary: ReportSummary, metrics: Pick<RelayMetrics, 'count'>): void {
  metrics.count(REPORT_METRICS.done, summary.counts.done ?? 0);
  metrics.count(REPORT_METRICS.failed, summary.counts.failed ?? 0);
  metrics.count(REPORT_METRICS.queueDepth, summary.queue.depth);
}
