/**
 * A job's shown status. The store keeps a sent job `submitting` under the claim that sent it; the
 * request item of that claim (`RemoteStore`) says 1fichier accepted it. So a `submitting` job that a
 * request of its claim holds is shown `submitted`, with that request's id and time: one query per claim
 * read, and no write per job when it is sent.
 */
import type { RemoteRecord, RemoteStore } from './remote-store.js';
import type { JobRecord } from './store.js';

/** The job as people see it, given the followed requests of its claim. */
export function shownJob(job: JobRecord, remotesOfClaim: readonly RemoteRecord[]): JobRecord {
  if (job.status !== 'submitting' || !job.claimToken) return job;
  const remote = remotesOfClaim.find((r) => r.claimToken === job.claimToken && r.jobIds.includes(job.id));
  if (!remote) return job;
  return { ...job, status: 'submitted', remoteId: remote.remoteId, submittedAt: remote.submittedAt };
}

/** {@link shownJob} for many jobs, reading each distinct claim once. */
export async function withShownStatus(
  jobs: readonly JobRecord[],
  remotes: Pick<RemoteStore, 'remotesOfClaim'>,
): Promise<JobRecord[]> {
  const claims = [
    ...new Set(
      jobs.filter((j) => j.status === 'submitting' && j.claimToken).map((j) => j.claimToken as string),
    ),
  ];
  const byClaim = new Map(
    await Promise.all(claims.map(async (c) => [c, await remotes.remotesOfClaim(c)] as const)),
  );
  return jobs.map((j) => shownJob(j, (j.claimToken && byClaim.get(j.claimToken)) || []));
}
