/**
 * Use-case of the SQS worker: claim the jobs of a batch of messages (`queued → submitting`), group them
 * by folder, send up to `batchMaxUrls` URLs per remote/request.cgi and mark them `submitted`. Long waits
 * (flood pause, busy pacer, lease held by another worker) go back to SQS as a visibility delay; the
 * worker never sleeps them out. Jobs found in `submitting` after their lease are reconciled first.
 */
import type { Deps } from '../app/deps.js';
import { RELAY_METRICS } from '../app/metric-names.js';
import { transientDelay } from '../fichier/backoff.js';
import { FichierApiError, FichierError, FichierPacedError } from '../fichier/errors.js';
import { newClaimToken } from './ids.js';
import { currentKeyState } from './key-state.js';
import {
  markFoundSubmitted,
  newRemoteView,
  reconcileProgress,
  reconcileRemote,
  saveReconcileProgress,
} from './reconcile.js';
import { type JobRecord, TransitionConflictError } from './store.js';

/** One SQS message of the batch. */
export interface SubmitMessage {
  messageId: string;
  jobId: string;
}

/** What to do with one message: delete it, or hand it back to the queue after `delayS`. */
export type MessageOutcome =
  | { messageId: string; action: 'ack' }
  | { messageId: string; action: 'retry'; delayS: number; reason: string };

type Outcome = { action: 'ack' } | { action: 'retry'; delayS: number; reason: string };

const ack: Outcome = { action: 'ack' };
const retryAfter = (ms: number, reason: string): Outcome => ({
  action: 'retry',
  delayS: Math.max(1, Math.ceil(ms / 1000)),
  reason,
});

/** Raised by a stop condition: every job not yet sent gets this outcome. */
class StopBatch extends Error {
  /** Jobs whose request may have reached 1fichier: kept `submitting`, retried after the lease. */
  unknown?: { jobIds: string[]; delayMs: number };
  constructor(
    readonly outcome: Outcome,
    readonly release: boolean,
    readonly giveBackAttempt: boolean,
  ) {
    super(outcome.action === 'retry' ? outcome.reason : 'stop');
  }
}

type SubmitDeps = Pick<
  Deps,
  'config' | 'store' | 'fichier' | 'pacer' | 'keyProvider' | 'clock' | 'logger' | 'metrics' | 'hooks'
>;

/**
 * Processes one batch of messages. Returns one outcome per message; throws only on a failure that
 * leaves the outcome of the whole batch unknown (then every message is redelivered, which is safe).
 */
export async function submitJobs(
  batch: readonly SubmitMessage[],
  deps: SubmitDeps,
): Promise<MessageOutcome[]> {
  const { config, store, clock, logger, metrics } = deps;
  const outcomes = new Map<string, Outcome>();
  const setJob = (jobId: string, o: Outcome) => outcomes.set(jobId, o);
  const result = (): MessageOutcome[] =>
    batch.map((m) => ({ messageId: m.messageId, ...(outcomes.get(m.jobId) ?? ack) }));

  const now = clock.now();
  const { keyId, state: pacer } = await currentKeyState(deps);
  const jobIds = [...new Set(batch.map((m) => m.jobId))];
  if (pacer.circuitOpen) {
    // Jobs stay queued in the table; the poller sends them again once the key works.
    logger.warn('submit blocked: 1fichier circuit open', {
      keyId,
      reason: pacer.circuitReason,
      jobs: jobIds.length,
    });
    metrics.count(RELAY_METRICS.circuitOpen, jobIds.length);
    return result();
  }
  if (pacer.pausedUntil - now > config.maxPacerWaitMs) {
    const wait = pacer.pausedUntil - now;
    logger.info('submit deferred: flood pause', { keyId, waitMs: wait, jobs: jobIds.length });
    metrics.count('SubmitDeferredPause', jobIds.length);
    for (const id of jobIds) setJob(id, retryAfter(wait, 'flood pause'));
    return result();
  }

  const jobs = new Map((await store.getJobs(jobIds)).map((j) => [j.id, j]));
  const claimToken = newClaimToken();
  const leaseUntil = now + config.submittingLeaseS * 1000;
  const claimed: JobRecord[] = [];
  const toReconcile: JobRecord[] = [];

  const claims: { id: string; job: JobRecord }[] = [];
  for (const id of jobIds) {
    const job = jobs.get(id);
    if (!job) {
      logger.warn('message for an unknown job', { jobId: id });
      continue;
    }
    if (job.status === 'submitting') {
      if ((job.leaseUntil ?? 0) > now)
        setJob(id, retryAfter((job.leaseUntil ?? now) - now + 1000, 'held by another worker'));
      else toReconcile.push(job);
      continue;
    }
    if (job.status !== 'queued') continue; // already submitted or terminal: a redelivery
    claims.push({ id, job });
  }
  await Promise.all(
    claims.map(async ({ id, job }) => {
      if (job.attempts >= config.maxAttempts) {
        await failJob(job, { status: 'queued' }, 'gaveUp', `gave up after ${job.attempts} attempts`, deps);
        return;
      }
      try {
        claimed.push(
          await store.transition(
            id,
            { status: 'queued' },
            { status: 'submitting', claimToken, leaseUntil, submitAttemptAt: now, attemptsDelta: 1 },
            now,
          ),
        );
      } catch (err) {
        if (!(err instanceof TransitionConflictError)) throw err;
        // Another worker claimed it, or it moved on: that worker (or the poller) owns it now.
      }
    }),
  );
  // Keep the messages' order (Promise.all finishes in any order): requests then follow arrival order.
  const order = new Map(jobIds.map((id, i) => [id, i]));
  claimed.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));

  if (toReconcile.length) {
    // Requests we sent and recorded in full need no remote/info.cgi.
    const view = newRemoteView(await store.openRemotes());
    try {
      const { found, undetermined, progress } = await reconcileRemote(toReconcile, deps.fichier, view);
      await saveReconcileProgress(store, toReconcile, progress);
      for (const job of toReconcile) {
        if (undetermined.has(job.id)) {
          setJob(job.id, retryAfter(60_000, 'reconciliation not finished'));
          continue;
        }
        const remoteId = found.get(job.id);
        const expected = { status: 'submitting' as const, claimToken: job.claimToken ?? '' };
        try {
          if (remoteId !== undefined) {
            await markFoundSubmitted(store, job, remoteId, clock.now());
            logger.info('job reconciled: already accepted by 1fichier', { jobId: job.id, remoteId });
            metrics.count('JobsReconciledSubmitted');
          } else {
            claimed.push(
              await store.transition(
                job.id,
                expected,
                { status: 'submitting', claimToken, leaseUntil, submitAttemptAt: now, attemptsDelta: 1 },
                now,
              ),
            );
            logger.info('job reconciled: not at 1fichier, submitting again', { jobId: job.id });
            metrics.count('JobsReconciledResubmit');
          }
        } catch (err) {
          if (!(err instanceof TransitionConflictError)) throw err;
        }
      }
    } catch (err) {
      if (!(err instanceof FichierError)) throw err;
      // Could not ask 1fichier: keep them `submitting` (with what was read) and try again later.
      await saveReconcileProgress(store, toReconcile, reconcileProgress(toReconcile, view));
      const o = stopFor(err, deps).outcome;
      for (const job of toReconcile) setJob(job.id, o.action === 'ack' ? retryAfter(60_000, err.message) : o);
    }
  }

  if (claimed.length) {
    logger.info('jobs submitting', { jobIds: claimed.map((j) => j.id), leaseUntil });
  }
  const pending = [...claimed];
  try {
    for (const [folder, group] of groupBy(claimed, (j) => j.folder)) {
      let folderId: number;
      try {
        folderId = await deps.fichier.resolveFolder(folder);
      } catch (err) {
        // A folder 1fichier refuses (or the client finds invalid) will never work: fail its jobs.
        const refused =
          err instanceof FichierApiError
            ? err.kind === 'rejected' || err.kind === 'notFound'
            : err instanceof FichierError;
        if (refused) {
          for (const job of group) {
            const message = (err as FichierError).message;
            await failJob(job, { status: 'submitting', claimToken }, 'folderRejected', message, deps);
            remove(pending, job);
          }
          continue;
        }
        throw err instanceof FichierError ? stopFor(err, deps) : err;
      }
      for (let i = 0; i < group.length; i += config.batchMaxUrls) {
        // Never send once half the lease is gone: past the lease the jobs may be reconciled and resent
        // by someone else while our request is still on its way.
        if (clock.now() > now + (config.submittingLeaseS * 1000) / 2) {
          logger.warn('submit stopped: lease half spent', { jobs: pending.length });
          throw new StopBatch(retryAfter(1000, 'lease half spent'), true, true);
        }
        await sendChunk(group.slice(i, i + config.batchMaxUrls), folderId, claimToken, pending, deps);
      }
    }
  } catch (err) {
    if (!(err instanceof StopBatch)) throw err;
    for (const id of err.unknown?.jobIds ?? []) {
      setJob(id, retryAfter(err.unknown?.delayMs ?? 0, 'submit outcome unknown'));
    }
    for (const job of pending) {
      if (err.release) await releaseJob(job, claimToken, err.giveBackAttempt, deps);
      setJob(job.id, err.outcome);
    }
  }
  return result();
}

/** Sends one chunk; on a permanent rejection of several URLs, tries each alone so one bad URL fails alone. */
async function sendChunk(
  chunk: JobRecord[],
  folderId: number,
  claimToken: string,
  pending: JobRecord[],
  deps: SubmitDeps,
): Promise<void> {
  const { store, clock, logger, metrics } = deps;
  let remoteId: number;
  try {
    const res = await deps.fichier.remoteRequest({ urls: chunk.map((j) => j.url), folder_id: folderId });
    remoteId = res.id;
  } catch (err) {
    if (!(err instanceof FichierError)) throw err;
    if (err instanceof FichierApiError && !(err instanceof FichierPacedError) && isPermanent(err)) {
      if (chunk.length > 1) {
        for (const job of chunk) await sendChunk([job], folderId, claimToken, pending, deps);
        return;
      }
      const job = chunk[0] as JobRecord;
      await failJob(job, { status: 'submitting', claimToken }, err.kind, err.apiMessage ?? err.message, deps);
      remove(pending, job);
      return;
    }
    if (err instanceof FichierApiError && err.maybeSubmitted) {
      // 1fichier may hold these: they stay `submitting` and are reconciled after the lease.
      const lease = (chunk[0]?.leaseUntil ?? clock.now()) - clock.now();
      logger.warn('submit outcome unknown, will reconcile', {
        jobs: chunk.map((j) => j.id),
        error: err.message,
      });
      metrics.count('SubmitUnknownOutcome', chunk.length);
      for (const job of chunk) remove(pending, job);
      const stop = stopFor(err, deps);
      stop.unknown = { jobIds: chunk.map((j) => j.id), delayMs: Math.max(lease, 0) + 1000 };
      throw stop;
    }
    throw stopFor(err, deps);
  }
  metrics.count('RemoteRequests');
  await deps.hooks.afterRemoteAccepted?.(chunk.map((j) => j.id));
  const at = clock.now();
  // The request is followed from now on, even if we stop before marking the jobs.
  await store.trackRemote(
    remoteId,
    chunk.map((j) => j.id),
    at,
    { complete: true },
  );
  await Promise.all(
    chunk.map(async (job) => {
      try {
        await store.transition(
          job.id,
          { status: 'submitting', claimToken },
          { status: 'submitted', remoteId, submittedAt: at, claimToken: null, leaseUntil: null },
          at,
        );
        logger.info('job submitted', { jobId: job.id, remoteId, folder: job.folder });
      } catch (err) {
        if (!(err instanceof TransitionConflictError)) throw err;
        // Our lease ran out and someone reconciled it meanwhile; they will have found this same request.
        logger.warn('job changed hands before it was marked submitted', { jobId: job.id, remoteId });
      }
      remove(pending, job);
    }),
  );
  metrics.count('JobsSubmitted', chunk.length);
}

function isPermanent(err: FichierApiError): boolean {
  return err.kind === 'rejected' || err.kind === 'notFound' || err.kind === 'notPremium';
}

/** Maps an error that stops the batch to what happens to every job not yet sent. */
function stopFor(err: FichierError, deps: SubmitDeps): StopBatch {
  const { logger, metrics, config } = deps;
  if (!(err instanceof FichierApiError)) {
    logger.error('submit failed', { error: err.message });
    return new StopBatch(retryAfter(60_000, err.message), true, false);
  }
  if (err.kind === 'auth') {
    logger.warn('submit blocked: 1fichier refused the key', { error: err.message });
    metrics.count(RELAY_METRICS.authFailures);
    return new StopBatch(ack, true, true);
  }
  if (err.kind === 'flood') {
    logger.warn('submit deferred: flood', { error: err.message, retryAfterMs: err.retryAfterMs });
    metrics.count('SubmitDeferredFlood');
    return new StopBatch(
      retryAfter(err.retryAfterMs ?? config.pacing.floodPauseMs, 'flood pause'),
      true,
      true,
    );
  }
  const delay = err.retryAfterMs ?? transientDelay(1, config.pacing);
  logger.warn('submit deferred: transient error', { error: err.message, retryAfterMs: delay });
  metrics.count('SubmitDeferredTransient');
  const busy = err instanceof FichierPacedError;
  return new StopBatch(retryAfter(Math.max(delay, 1000), busy ? 'pacer busy' : err.message), true, busy);
}

async function releaseJob(job: JobRecord, claimToken: string, giveBackAttempt: boolean, deps: SubmitDeps) {
  try {
    await deps.store.transition(
      job.id,
      { status: 'submitting', claimToken },
      {
        status: 'queued',
        claimToken: null,
        leaseUntil: null,
        ...(giveBackAttempt ? { attemptsDelta: -1 } : {}),
      },
      deps.clock.now(),
    );
    deps.logger.info('job back to queued', { jobId: job.id });
  } catch (err) {
    if (!(err instanceof TransitionConflictError)) throw err;
  }
}

async function failJob(
  job: JobRecord,
  expected: { status: 'queued' } | { status: 'submitting'; claimToken: string },
  code: string,
  message: string,
  deps: SubmitDeps,
) {
  try {
    await deps.store.transition(
      job.id,
      expected,
      { status: 'failed', error: { code, message }, claimToken: null, leaseUntil: null },
      deps.clock.now(),
    );
    deps.logger.info('job failed', { jobId: job.id, code, error: message });
    deps.metrics.count('JobsFailed');
  } catch (err) {
    if (!(err instanceof TransitionConflictError)) throw err;
  }
}

function groupBy<T>(items: readonly T[], keyOf: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = keyOf(it);
    const arr = m.get(k);
    if (arr) arr.push(it);
    else m.set(k, [it]);
  }
  return m;
}

function remove<T>(arr: T[], item: T): void {
  const i = arr.indexOf(item);
  if (i !== -1) arr.splice(i, 1);
}
