/**
 * The status page's summary of a user's recent jobs (pure): counts by status and, per hour, how many jobs
 * were submitted (created), ended done and ended failed. The end of a job is its `updatedAt`: a terminal job
 * changes no more.
 */
import { JOB_STATUSES, type JobStatus } from '../jobs/model.js';

const HOUR_MS = 3_600_000;

/** The fields of a job the summary reads. */
export interface JobTimes {
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
}

/** One hour of the chart. */
export interface HourBucket {
  /** ISO start of the hour (UTC). */
  hour: string;
  submitted: number;
  done: number;
  failed: number;
}

/** Counts and hourly buckets over a window ending now. */
export interface JobSummary {
  counts: Record<JobStatus, number>;
  hours: HourBucket[];
}

/**
 * Summarises `jobs` over the `hours` whole hours ending with the current one (oldest first). Counts cover
 * every job given (the caller chooses the window); a job outside the chart's hours only adds to counts.
 */
export function summariseJobs(jobs: readonly JobTimes[], now: number, hours = 24): JobSummary {
  const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  const currentHour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const first = currentHour - (hours - 1) * HOUR_MS;
  const buckets: HourBucket[] = Array.from({ length: hours }, (_, i) => ({
    hour: new Date(first + i * HOUR_MS).toISOString(),
    submitted: 0,
    done: 0,
    failed: 0,
  }));
  const bucketOf = (iso: string): HourBucket | undefined => {
    const t = Date.parse(iso);
    if (!Number.isFinite(t) || t < first || t >= currentHour + HOUR_MS) return undefined;
    return buckets[Math.floor((t - first) / HOUR_MS)];
  };
  for (const job of jobs) {
    counts[job.status] += 1;
    const created = bucketOf(job.createdAt);
    if (created) created.submitted += 1;
    if (job.status === 'done' || job.status === 'failed') {
      const ended = bucketOf(job.updatedAt);
      if (ended) ended[job.status] += 1;
    }
  }
  return { counts, hours: buckets };
}
