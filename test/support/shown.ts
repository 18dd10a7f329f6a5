/**
 * Jobs as the API shows them (a sent job is stored `submitting` and shown `submitted` through its
 * claim's request item), for tests that check a job's status through the store.
 */
import type { Deps } from '../../shared/app/deps.js';
import { withShownStatus } from '../../shared/jobs/shown-status.js';
import type { JobRecord } from '../../shared/jobs/store.js';

/** The jobs with these ids (missing ones left out), with their shown status. */
export async function shownJobs(
  deps: Pick<Deps, 'store' | 'remotes'>,
  ids: readonly string[],
): Promise<JobRecord[]> {
  return withShownStatus(await deps.store.getJobs(ids), deps.remotes);
}

/** One job with its shown status, or undefined. */
export async function shownJob(
  deps: Pick<Deps, 'store' | 'remotes'>,
  id: string,
): Promise<JobRecord | undefined> {
  const job = await deps.store.getJob(id);
  return job ? (await withShownStatus([job], deps.remotes))[0] : undefined;
}
