/**
 * Use-case: turn validated job requests into queued jobs. Dedupe is folded into the create (the job id
 * is hash(user, normalised URL, folder) and the put is conditional), so a duplicate costs no write.
 */
import type { Deps } from '../app/deps.js';
import type { NotifyServices } from '../notify/deliver.js';
import { handToPoller } from './hand-to-poller.js';
import { jobIdFor } from './ids.js';
import type { JobSource, JobStatus } from './model.js';
import { RetryRefusedError, retryJob } from './retry.js';

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
  /** The job existed and goes on as it was (not a failed one: that is retried). */
  duplicate: boolean;
  /** The job existed and had failed: posting its URL again requeued it. */
  retried?: boolean;
}

/** Creates the jobs (or finds their duplicates) and sends the new ones to the queue. */
export async function enqueueJobs(
  input: EnqueueInput,
  deps: Pick<Deps, 'config' | 'store' | 'queue' | 'pollTimer' | 'clock' | 'logger' | 'metrics'> & {
    notify?: Pick<NotifyServices, 'wantsJobEvents'>;
  },
): Promise<EnqueuedJob[]> {
  const now = deps.clock.now();
  // A per-instance cached read, no write: marks the jobs whose end the job-event source must hear.
  // If the lookup fails, mark the jobs anyway: an extra stream record is cheaper than a lost callback.
  const userWants = deps.notify
    ? await deps.notify.wantsJobEvents(input.userId).catch((err: unknown) => {
        deps.logger.warn('notification lookup failed; jobs marked for the job-event source', {
          error: (err as Error).message,
        });
        return true;
      })
    : false;
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
            ...(userWants || r.callbackUrl ? { notify: true } : {}),
          },
          now,
        ),
      ),
    );
    for (const [k, { job, created: isNew }] of made.entries()) {
      if (!isNew && job.status === 'failed') {
        // Posting a failed URL again is how people retry: requeue it rather than answer "duplicate".
        try {
          const again = await retryJob(job, deps);
          seen.set(job.id, {
            id: job.id,
            url: job.url,
            status: again.status,
            duplicate: false,
            retried: true,
          });
          continue;
        } catch (err) {
          if (!(err instanceof RetryRefusedError)) throw err;
          // Someone else retried it meanwhile: it is a duplicate of that.
        }
      }
      seen.set(job.id, { id: job.id, url: job.url, status: job.status, duplicate: !isNew });
      if (isNew) {
        created.push(job.id);
        deps.logger.info('job queued', { jobId: job.id, source: input.source, folder: part[k]?.[1].folder });
      }
    }
  }
  const firstSeen = new Set<string>();
  for (const id of order) {
    const out = seen.get(id) as EnqueuedJob;
    if (firstSeen.has(id)) {
      const { retried: _retried, ...rest } = out;
      results.push({ ...rest, duplicate: true });
    } else results.push(out);
    firstSeen.add(id);
  }
  if (created.length) {
    try {
      await deps.queue.enqueue(created);
    } catch (err) {
      // The jobs exist as `queued` without a message: the pending index makes the poller send them.
      await handToPoller(created, deps, now);
      throw err;
    }
    deps.metrics.count('JobsQueued', created.length);
  }
  const dups = results.length - created.length;
  if (dups) deps.metrics.count('JobsDuplicate', dups);
  return results;
}
