/**
 * Use-case of the scheduled poller/reporter. One remote/ls.cgi per cycle, remote/info.cgi only for
 * tracked requests that have executed; jobs become `done` (file link) or `failed` (1fichier's message);
 * sent jobs whose request is older than `stuckAfterS` fail as stuck; `submitting` jobs past their lease are
 * reconciled; `queued` jobs left without a message are sent again once the key may be used.
 */

import { randomUUID } from 'node:crypto';
import type { Deps } from '../app/deps.js';
import { RELAY_METRICS } from '../app/metric-names.js';
import { FichierApiError, FichierError, FichierPacedError } from '../fichier/errors.js';
import type { PacerState } from '../fichier/pacer.js';
import { SlotBank } from '../fichier/slot-bank.js';
import { isRemotePending, type RemoteInfoResult } from '../fichier/types.js';
import type { Report } from '../reports/store.js';
import { emitReportMetrics, summarizeReport } from '../reports/summary.js';
import { probeCircuit } from './circuit.js';
import { currentKeyState } from './key-state.js';
import type { JobError } from './model.js';
import { nextPollDelay, pollPlanPolicy } from './poll-plan.js';
import { infoOf, listOf, newRemoteView, reconcileJobs } from './reconcile.js';
import type { RemoteRecord } from './remote-store.js';
import { requeueStaleJobs } from './requeue.js';
import { type JobRecord, TransitionConflictError } from './store.js';

/** Most jobs of one status handled per cycle (the next cycle takes the rest). */
export const POLL_MAX_JOBS = 1000;
/**
 * No new remote/info.cgi call once a cycle has run this long (calls are paced ~1 s apart and the poller
 * Lambda has 60 s); the next cycle picks up the rest.
 */
export const POLL_INFO_BUDGET_MS = 40_000;
/**
 * remote/info.cgi calls read before their jobs are settled: their slots are one pacer write, and the
 * first requests of a long cycle show done after this many answers, not after all of them.
 */
export const POLL_INFO_CHUNK = 10;
/**
 * Most entries of `completed` / `failures` kept in a stored report: a report item stays a few KB (a
 * DynamoDB write unit per KB is billed each cycle). `counts` has the totals, and `GET /jobs?status=done`
 * lists every finished job.
 */
export const REPORT_MAX_ENTRIES = 20;

export type PollRemoteDeps = Pick<
  Deps,
  | 'config'
  | 'store'
  | 'remotes'
  | 'reports'
  | 'queue'
  | 'pollTimer'
  | 'fichier'
  | 'pacer'
  | 'keyProvider'
  | 'clock'
  | 'logger'
  | 'metrics'
>;

async function all(
  deps: PollRemoteDeps,
  status: 'queued' | 'submitting',
  changedBefore?: number,
): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listByStatus(status, {
      limit: 100,
      ...(cursor ? { cursor } : {}),
      ...(changedBefore === undefined ? {} : { changedBefore }),
    });
    out.push(...page.items);
    cursor = page.next;
  } while (cursor && out.length < POLL_MAX_JOBS);
  return out;
}

/** Runs one poll cycle, stores the report and logs it as one line. */
export async function pollRemoteRequests(deps: PollRemoteDeps): Promise<Report> {
  const { config, store, clock, logger, metrics } = deps;
  const now = clock.now();
  const previous = await deps.reports.latestReport();
  const completed: Report['completed'] = [];
  const failures: Report['failures'] = [];
  /** Each entry's owner, so every user gets a report of their own jobs only. */
  const owners = new Map<string, string>();
  let requeued = 0;
  let reconciled = 0;

  let keyId: string | undefined;
  let pacer: PacerState | null = null;
  try {
    ({ keyId, state: pacer } = await currentKeyState(deps));
  } catch (err) {
    // The placeholder secret (not set yet) is expected after a deploy: no call, no alarm-worthy error.
    if ((err as Error).name === 'KeyNotSetError')
      logger.warn('poller holds: the 1fichier key is not set yet');
    else logger.error('poller cannot read the 1fichier key', { error: (err as Error).message });
  }
  if (keyId && pacer?.circuitOpen && (await probeCircuit(keyId, pacer, deps)) === 'closed') {
    pacer = await deps.pacer.state(keyId);
    requeued += await requeueStaleJobs(deps, now);
  }
  const mayCall = pacer !== null && !pacer.circuitOpen;

  /** Ends a sent job of `remote` (it is `submitting` under the claim that sent it). */
  const finish = async (
    job: JobRecord,
    remote: RemoteRecord,
    patch: { fileUrl: string } | { error: JobError },
  ) => {
    const at = clock.now();
    const expected = { status: 'submitting' as const, claimToken: remote.claimToken };
    const sent = { remoteId: remote.remoteId, submittedAt: remote.submittedAt, unknownAnswer: null };
    try {
      if ('fileUrl' in patch) {
        await store.transition(job.id, expected, { status: 'done', fileUrl: patch.fileUrl, ...sent }, at);
        completed.push({ id: job.id, url: job.url, fileUrl: patch.fileUrl });
        owners.set(job.id, job.userId);
        logger.info('job done', { jobId: job.id, remoteId: remote.remoteId });
        metrics.count('JobsDone');
      } else {
        await store.transition(job.id, expected, { status: 'failed', error: patch.error, ...sent }, at);
        failures.push({ id: job.id, url: job.url, error: patch.error });
        owners.set(job.id, job.userId);
        logger.info('job failed', {
          jobId: job.id,
          remoteId: remote.remoteId,
          code: patch.error.code,
          error: patch.error.message,
        });
        metrics.count('JobsFailed');
        if (patch.error.code === 'stuck') metrics.count(RELAY_METRICS.stuckJobs);
      }
      ended.add(job.id);
    } catch (err) {
      if (!(err instanceof TransitionConflictError)) throw err;
    }
  };
  /** Jobs this cycle ended: a request's open jobs are known without reading them again. */
  const ended = new Set<string>();

  const remotes = await deps.remotes.openRemotes({ limit: POLL_MAX_JOBS });
  // The followed requests also spare reconciliation remote/info.cgi calls for the ones recorded in full.
  const view = newRemoteView(remotes);
  const leaseEnded = (await all(deps, 'submitting', now - config.submittingLeaseS * 1000)).filter(
    (j) => (j.leaseUntil ?? 0) <= now,
  );
  const stuckBefore = now - config.stuckAfterS * 1000;
  const stuckMessage = (remoteId: number) => {
    const hours = Math.round((config.stuckAfterS / 3600) * 10) / 10;
    return `1fichier has not finished remote request ${remoteId} after ${hours} h; submit the URL again if it is still wanted`;
  };

  /** Finishes what can be finished of one followed request; closes it once all its jobs have ended. */
  const settle = async (remote: RemoteRecord, info: RemoteInfoResult | undefined) => {
    const stuck = remote.submittedAt <= stuckBefore;
    /** Jobs this request holds that have not ended: `submitting` under the claim that sent it. */
    const isOpen = (j: JobRecord) => j.status === 'submitting' && j.claimToken === remote.claimToken;
    // Half the read units of a consistent read. A job read stale as open is safe (its end is conditional
    // on the claim); a request whose jobs do not all read open is read again, strongly, before it closes.
    let jobs = await store.getJobs(remote.jobIds, false);
    if (jobs.length < new Set(remote.jobIds).size || !jobs.every(isOpen))
      jobs = await store.getJobs(remote.jobIds);
    await Promise.all(
      jobs.map(async (job) => {
        if (!isOpen(job)) return;
        const idx = info?.links?.indexOf(job.url) ?? -1;
        const r =
          info?.result?.find((x) => x.url === job.url) ?? (idx >= 0 ? info?.result?.[idx] : undefined);
        if (r?.status === 'OK' && r.download_link) await finish(job, remote, { fileUrl: r.download_link });
        else if (r) {
          const message = r.message || '1fichier could not fetch this URL';
          await finish(job, remote, { error: { code: 'remoteFailed', message } });
        } else if (stuck)
          await finish(job, remote, { error: { code: 'stuck', message: stuckMessage(remote.remoteId) } });
      }),
    );
    // Open: read open and not ended by this cycle. A job someone else ended meanwhile counts as open once
    // more, and the next cycle's read closes the request.
    const open = jobs.filter((j) => isOpen(j) && !ended.has(j.id)).length;
    openJobs.set(remote.remoteId, open);
    if (open === 0) await deps.remotes.closeRemote(remote);
  };

  const settled = new Set<number>();
  /** Sent jobs not ended, per request read this cycle (the others count all their jobs). */
  const openJobs = new Map<number, number>();
  if (mayCall && (remotes.length > 0 || leaseEnded.length > 0)) {
    try {
      if (remotes.length > 0) {
        const list = await listOf(deps.fichier, view);
        const executed = new Set(list.filter((e) => !isRemotePending(e.execution_date)).map((e) => e.id));
        const toRead = remotes.filter((r) => executed.has(r.remoteId));
        // The info calls run in chunks: each chunk's pacer slots are taken in one write, and its calls start
        // together, each waiting for a reserved slot of its own, so an answer slower than the spacing does
        // not let the next slot pass unused. A chunk's jobs are settled while the next chunk is read (also
        // when a flood or a pause stops the reading), one request after another: the first requests show
        // done without waiting for the last one's answer, and no burst of job writes holds the process (a
        // worker waiting for its slot in the same process) up.
        let budgetSpent = false;
        let settling: Promise<void> = Promise.resolve();
        let settleFailure: { err: unknown } | undefined;
        let readFailure: { err: unknown } | undefined;
        const settleInTurn = (read: { remote: RemoteRecord; info: RemoteInfoResult }[]) => {
          settling = settling
            .then(async () => {
              for (const { remote, info } of read) {
                await settle(remote, info);
                settled.add(remote.remoteId);
              }
            })
            .catch((err: unknown) => {
              settleFailure ??= { err };
            });
        };
        try {
          // A failed settle stops the reading too: the cycle fails once what is under way has ended.
          for (let i = 0; i < toRead.length && !budgetSpent && !settleFailure; i += POLL_INFO_CHUNK) {
            if (clock.now() - now > POLL_INFO_BUDGET_MS) {
              logger.info('poll cycle time budget spent; the rest waits for the next cycle', {});
              budgetSpent = true;
              break;
            }
            const chunk = toRead.slice(i, i + POLL_INFO_CHUNK);
            if (keyId && deps.pacer instanceof SlotBank) deps.pacer.reserveNext(keyId, chunk.length);
            const read: { remote: RemoteRecord; info: RemoteInfoResult }[] = [];
            try {
              const answers = await Promise.allSettled(
                chunk.map((remote) => infoOf(deps.fichier, view, remote.remoteId)),
              );
              let stopping: unknown;
              answers.forEach((answer, k) => {
                const remote = chunk[k] as RemoteRecord;
                if (answer.status === 'fulfilled') {
                  read.push({ remote, info: answer.value });
                  return;
                }
                const err: unknown = answer.reason;
                // One odd answer about one request must not stop the cycle; a pause or a flood does.
                if (
                  !(err instanceof FichierApiError) ||
                  err instanceof FichierPacedError ||
                  err.kind === 'flood'
                ) {
                  stopping ??= err;
                  return;
                }
                logger.warn('remote/info.cgi unusable for one request; trying it next cycle', {
                  remoteId: remote.remoteId,
                  error: err.message,
                });
              });
              if (stopping !== undefined) throw stopping;
            } finally {
              if (keyId && deps.pacer instanceof SlotBank) deps.pacer.release(keyId);
              settleInTurn(read);
            }
          }
        } catch (err) {
          readFailure = { err };
        }
        await settling;
        // A failed write fails the cycle, as it did before settling moved behind the reading; then what
        // stopped the reading (a flood, a pause) is handled below.
        if (settleFailure) throw settleFailure.err;
        if (readFailure) throw readFailure.err;
      }
      if (leaseEnded.length > 0) {
        const outcome = await reconcileJobs(leaseEnded, deps, view);
        const toQueue: string[] = [];
        for (const job of outcome.absent) {
          try {
            await store.transition(
              job.id,
              { status: 'submitting', claimToken: job.claimToken ?? '' },
              { status: 'queued', claimToken: null, leaseUntil: null },
              clock.now(),
            );
            toQueue.push(job.id);
            logger.info('job reconciled: not at 1fichier, queued again', { jobId: job.id });
          } catch (err) {
            if (!(err instanceof TransitionConflictError)) throw err;
          }
        }
        reconciled += outcome.found + toQueue.length + outcome.failed;
        if (toQueue.length) {
          await deps.queue.enqueue(toQueue);
          requeued += toQueue.length;
        }
        metrics.count('JobsReconciled', reconciled);
      }
    } catch (err) {
      if (!(err instanceof FichierError)) throw err;
      logger.warn('poller could not reach 1fichier this cycle', { error: err.message });
    }
  }

  // Stuck: accepted by 1fichier but never finished (decided without calling 1fichier).
  for (const remote of remotes) {
    if (!settled.has(remote.remoteId) && remote.submittedAt <= stuckBefore) await settle(remote, undefined);
  }

  // Queued jobs whose message was dropped (circuit open, lost queue): send them again when calls may go.
  if (mayCall && pacer && pacer.pausedUntil <= now) {
    requeued += await requeueStaleJobs(deps, now - config.requeueAfterS * 1000);
  }

  // Jobs waiting for 1fichier are not indexed (their SQS messages are their reminders): the queue's own
  // approximate counts stand for them, plus the few the pending index holds because a message was lost.
  const depth = await deps.queue.depth();
  const pendingQueued = await store.countByStatus('queued');
  const pendingSubmitting = await store.countByStatus('submitting');
  const counts: Report['counts'] = {
    queued: depth.waiting + pendingQueued,
    submitting: depth.inFlight + pendingSubmitting,
    // Sent jobs not ended: shown `submitted` (they stay `submitting` under their claim in the store).
    submitted: remotes.reduce((n, r) => n + (openJobs.get(r.remoteId) ?? r.jobIds.length), 0),
    done: completed.length,
    failed: failures.length,
  };
  const pacerNow = keyId && mayCall ? await deps.pacer.state(keyId) : pacer;
  const stillOpen = remotes.filter((r) => (openJobs.get(r.remoteId) ?? r.jobIds.length) > 0);
  const since = previous ? Date.parse(previous.period.to) : Number.NEGATIVE_INFINITY;
  const cycleEnd = clock.now();
  const delayMs = nextPollDelay(
    {
      now: cycleEnd,
      openSubmittedAt: stillOpen.map((r) => r.submittedAt),
      pendingJobs: pendingQueued + pendingSubmitting,
      progressed: completed.length + failures.length > 0 || remotes.some((r) => r.submittedAt > since),
      ...(previous?.next ? { previousDelayMs: previous.next.delayMs } : {}),
      ...(pacerNow ? { pausedUntil: pacerNow.pausedUntil } : {}),
    },
    pollPlanPolicy(config.pollIntervalS),
  );
  const report: Report = {
    period: { from: previous?.period.to ?? null, to: new Date(now).toISOString() },
    counts,
    completed: completed.slice(-REPORT_MAX_ENTRIES),
    failures: failures.slice(-REPORT_MAX_ENTRIES),
    pacer: pacerNow,
    calls: { ...view.calls },
    requeued,
    reconciled,
    ...(delayMs === undefined
      ? {}
      : { next: { planId: randomUUID(), at: new Date(cycleEnd + delayMs).toISOString(), delayMs } }),
  };
  report.summary = summarizeReport(report, { now });
  emitReportMetrics(report.summary, metrics);
  await deps.reports.putReport(report);
  await putUserReports(report, completed, failures, owners, deps);
  if (report.next) {
    try {
      await deps.pollTimer.pollIn(report.next.delayMs, { kind: 'next', planId: report.next.planId });
    } catch (err) {
      // The slow schedule still runs the next cycle.
      logger.warn('could not plan the next poll cycle', { error: (err as Error).message });
    }
  }
  logger.info('poll report', {
    period: report.period,
    counts,
    completed: report.completed.length,
    failures: report.failures.length,
    calls: report.calls,
    requeued,
    reconciled,
    pacer: report.pacer,
  });
  return report;
}

/**
 * Writes the report of each user whose jobs ended this cycle: their own files and failures only (the
 * relay-wide report holds every user's URLs and links, so it is never served to a client token).
 */
async function putUserReports(
  report: Report,
  completed: Report['completed'],
  failures: Report['failures'],
  owners: ReadonlyMap<string, string>,
  deps: Pick<Deps, 'reports'>,
): Promise<void> {
  const byUser = new Map<string, { completed: Report['completed']; failures: Report['failures'] }>();
  const slot = (id: string) => {
    const user = owners.get(id) as string;
    const known = byUser.get(user);
    if (known) return known;
    const fresh = { completed: [] as Report['completed'], failures: [] as Report['failures'] };
    byUser.set(user, fresh);
    return fresh;
  };
  for (const c of completed) slot(c.id).completed.push(c);
  for (const f of failures) slot(f.id).failures.push(f);
  for (const [userId, mine] of byUser) {
    const previous = await deps.reports.latestReport(userId);
    const mineReport: Report = {
      period: { from: previous?.period.to ?? null, to: report.period.to },
      // The in-flight counts are relay-wide today (the status index has no user key); done and failed
      // are this user's.
      counts: { ...report.counts, done: mine.completed.length, failed: mine.failures.length },
      completed: mine.completed.slice(-REPORT_MAX_ENTRIES),
      failures: mine.failures.slice(-REPORT_MAX_ENTRIES),
      pacer: report.pacer,
      calls: report.calls,
      requeued: report.requeued,
      reconciled: report.reconciled,
    };
    await deps.reports.putReport(mineReport, userId);
  }
}
