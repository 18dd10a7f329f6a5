import type { Job } from '../jobs/model.js';
import type { JobRecord } from '../jobs/store.js';

/** A job as the HTTP API shows it: internal fields (owner, claim, lease) left out. */
export function presentJob(r: JobRecord): Job {
  const job: Job = {
    id: r.id,
    url: r.url,
    status: r.status,
    folder: r.folder,
    source: r.source,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    attempts: r.attempts,
  };
  if (r.remoteId !== undefined) job.remoteId = r.remoteId;
  if (r.fileUrl !== undefined) job.fileUrl = r.fileUrl;
  if (r.error !== undefined) job.error = r.error;
  if (r.callbackUrl !== undefined) job.callbackUrl = r.callbackUrl;
  return job;
}
