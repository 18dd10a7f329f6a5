/**
 * Use-case: turn validated job requests into queued jobs. Dedupe is folded into the create (the job id
 * is hash(user, normalised URL, folder) and the put is conditional), so a duplicate costs no write.
 */
import type { Deps } from '../app/deps.js';
import { jobIdFor } from './ids.js';
import type { JobSource, JobStatus } from './model.js';

/** Conditional puts in flight at once for one request (up to 500 URLs must fit in API Gateway's 30 s). */
const CREATE_CONCURRENCY = 16;

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
  // Same job twice in one request: the later ones are duplicates of the first, without a second write.
  const unique = new Map<string, JobRequest>();
  const order = input.requests.map((r) => {
    const id = jobIdFor(input.userId, r.url, r.folder);
    if (!unique.has(id)) unique.set(id, r);
    return id;
  });
  const entries = [...unique.entries()];
  for (let i = 0; i < entries.length; i += CREATE_CONCURRENCY) {
    const part = entries.slice(i, i + CREATE_CONCURRENCY);
    const made = await Promise.all(
      part.map(([id, r]) =>
        deps.store.createJob(
          {
            id,
            userId: input.userId,
            url: r.url,
            folder: r.folder,
            source: input.source,
            callbackUrl: r.callbackUrl,
          },
          now,
        ),
      ),
    );
    made.forEach(({ job, created: isNew }, k) => {
      seen.set(job.id, { id: job.id, url: job.url, status: job.status, duplicate: !isNew });
      if (isNew) {
        created.push(job.id);
        deps.logger.info('job queued', { jobId: job.id, source: input.source, folder: part[k]?.[1].folder });
      }
    });
  }
  const firstSeen = new Set<string>();
  for (const id of order) {
    const out = seen.get(id) as EnqueuedJob;
    results.push(firstSeen.has(id) ? { ...out, duplicate: true } : out);
    firstSeen.add(id);
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
