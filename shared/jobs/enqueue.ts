/**
 * Use-case: turn validated job requests into queued jobs. Dedupe is folded into the create (the job id
 * is hash(user, normalised URL, folder) and the put is conditional), so a duplicate costs no write.
 */
import type { Deps } from '../app/deps.js';
import { jobIdFor } from './ids.js';
import type { JobSource, JobStatus } from './model.js';

/** One requested job, already validated and normalised. */
export interface JobRequest {
  url: string;
  folder: string;
  callbackUrl?: string;
}

/** Input of {@link enqueueJobs}. */
export interface EnqueueInput {
  userId: string;
  source: JobSource;
  requests: JobRequest[];
}

/** What the caller is told about each requested URL. */
export interface EnqueuedJob {
  id: string;
  url: string;
  status: JobStatus;
  duplicate: boolean;
}

/** Creates the jobs (or finds their duplicates) and sends the new ones to the queue. */
export async function enqueueJobs(
  input: EnqueueInput,
  deps: Pick<Deps, 'store' | 'queue' | 'clock' | 'logger' | 'metrics'>,
): Promise<EnqueuedJob[]> {
  const now = deps.clock.now();
  const results: EnqueuedJob[] = [];
  const created: string[] = [];
  const seen = new Map<string, EnqueuedJob>();
  for (const r of input.requests) {
    const id = jobIdFor(input.userId, r.url, r.folder);
    const earlier = seen.get(id);
    if (earlier) {
      results.push({ ...earlier, duplicate: true });
      continue;
    }
    const { job, created: isNew } = await deps.store.createJob(
      {
        id,
        userId: input.userId,
        url: r.url,
        folder: r.folder,
        source: input.source,
        callbackUrl: r.callbackUrl,
      },
      now,
    );
    const out: EnqueuedJob = { id: job.id, url: job.url, status: job.status, duplicate: !isNew };
    seen.set(id, out);
    results.push(out);
    if (isNew) {
      created.push(id);
      deps.logger.info('job queued', { jobId: id, source: input.source, folder: r.folder });
    }
  }
  if (created.length) {
    // If this throws the jobs still exist as `queued`; the poller re-sends stale queued jobs.
    await deps.queue.enqueue(created);
    deps.metrics.count('JobsQueued', created.length);
  }
  const dups = results.length - created.length;
  if (dups) deps.metrics.count('JobsDuplicate', dups);
  return results;
}
