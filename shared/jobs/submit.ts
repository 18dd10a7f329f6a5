/**
 * Use-case of the SQS worker: claim the jobs of a batch of messages (`queued → submitting`), group them
 * by folder, send up to `batchMaxUrls` URLs per remote/request.cgi and record each accepted request in one
 * item of the claim (its jobs are shown `submitted` from then on: `shown-status.ts`). What a job
 * does after a failed call is decided by `retry-policy.ts`; this file only carries it out. Long waits go
 * back to SQS as a visibility delay (the worker never sleeps them out). Jobs whose request may exist at
 * 1fichier (a lost answer, or found `submitting` after their lease) go to the pending index, where the
 * poller reconciles them in bulk with one remote/ls.cgi a cycle (`reconcileJobs`).
 */
import type { Deps } from '../app/deps.js';
import { RELAY_METRICS } from '../app/metric-names.js';
import { FichierError } from '../fichier/errors.js';
import type { PacerState } from '../fichier/pacer.js';
import { handToPoller } from './hand-to-poller.js';
import { newClaimToken } from './ids.js';
import { currentKeyState } from './key-state.js';
import { pollPlanPolicy } from './poll-plan.js';
import { waitingNoteFor } from './queue-age.js';
import { actionForUnsent, decideJobAction, type JobAction } from './retry-policy.js';
import { withShownStatus } from './shown-status.js';
import { type JobPatch, type JobRecord, TransitionConflictError } from './store.js';

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

type SubmitDeps = Pick<
  Deps,
  | 'config'
  | 'store'
  | 'remotes'
  | 'pollTimer'
  | 'fichier'
  | 'pacer'
  | 'keyProvider'
  | 'clock'
  | 'logger'
  | 'metrics'
  | 'hooks'
>;

/** Options of {@link submitJobs}. */
export interface SubmitOptions {
  /**
   * Aborted when the batch must stop sending (Lambda's remaining time, or the local runtime's deadline
   * at half the lease): no request starts after it, so no batch outlives its claim.
   */
  signal?: AbortSignal;
  /** Jitter source of the transient backoff (the policy's default when absent). */
  random?: () => number;
}

/** The state of one batch while it runs. */
interface Batch {
  deps: SubmitDeps;
  keyId: string;
  claimToken: string;
  /** Claimed jobs not yet sent or decided, in arrival order. */
  pending: JobRecord[];
  outcomes: Map<string, Outcome>;
  /** Remote requests 1fichier accepted in this batch. */
  sentRequests: number;
  random: (() => number) | undefined;
  signal: AbortSignal | undefined;
  /** Epoch ms after which nothing more is sent (half the lease). */
  sendUntil: number;
  /** The key refusal was counted (once per batch, as one refusal). */
  authCounted?: boolean;
}

/**
 * Processes one batch of messages. Returns one outcome per message; throws only on a failure that
 * leaves the outcome of the whole batch unknown (then every message is redelivered, which is safe).
 */
export async function submitJobs(
  batch: readonly SubmitMessage[],
  deps: SubmitDeps,
  opts: SubmitOptions = {},
): Promise<MessageOutcome[]> {
  const { config, store, clock, logger, metrics } = deps;
  const outcomes = new Map<string, Outcome>();
  const result = (): MessageOutcome[] =>
    batch.map((m) => ({ messageId: m.messageId, ...(outcomes.get(m.jobId) ?? ack) }));

  const now = clock.now();
  const { keyId, state: pacer } = await currentKeyState(deps);
  const jobIds = [...new Set(batch.map((m) => m.jobId))];
  if (pacer.circuitOpen) {
    // Jobs stay queued in the table; they are sent again once the circuit closes.
    logger.warn('submit blocked: 1fichier circuit open', {
      keyId,
      reason: pacer.circuitReason,
      jobs: jobIds.length,
    });
    metrics.count(RELAY_METRICS.circuitOpen, jobIds.length);
    // Their messages are acknowledged: the pending index is how they are found when the circuit closes.
    await handToPoller(jobIds, deps, now);
    return result();
  }
  if (pacer.pausedUntil - now > config.maxPacerWaitMs) {
    const wait = pacer.pausedUntil - now;
    logger.info('submit deferred: pause', { keyId, waitMs: wait, jobs: jobIds.length });
    metrics.count('SubmitDeferredPause', jobIds.length);
    for (const id of jobIds) outcomes.set(id, retryAfter(wait, 'pause'));
    return result();
  }

  const claimToken = newClaimToken();
  const leaseUntil = now + config.submittingLeaseS * 1000;
  const claim: JobPatch = {
    status: 'submitting',
    claimToken,
    leaseUntil,
    submitAttemptAt: now,
    attemptsDelta: 1,
    nextAttemptAt: null,
    waitReason: null,
  };
  const b: Batch = {
    deps,
    keyId,
    claimToken,
    pending: [],
    outcomes,
    random: opts.random,
    signal: opts.signal,
    sendUntil: now + (config.submittingLeaseS * 1000) / 2,
    sentRequests: 0,
  };

  // Claim first, without reading: the claim is conditional on the job being `queued` and due, which is
  // every job of a normal batch. Only the jobs it could not claim (missing, being sent, sent, ended,
  // waiting out a deferral) are read, strongly, and decided below.
  const unclaimed: string[] = [];
  await Promise.all(
    jobIds.map(async (id) => {
      try {
        b.pending.push(await store.transition(id, { status: 'queued', dueBy: now }, claim, now));
      } catch (err) {
        if (!(err instanceof TransitionConflictError)) throw err;
        unclaimed.push(id);
      }
    }),
  );
  const jobs = new Map((unclaimed.length ? await store.getJobs(unclaimed) : []).map((j) => [j.id, j]));
  await noteLongWaits(
    [...b.pending.map((j) => ({ status: 'queued' as const, createdAt: j.createdAt })), ...jobs.values()],
    keyId,
    pacer,
    deps,
    now,
  );

  // A job past its attempts is failed under the claim just taken, never sent.
  const gaveUp = b.pending.filter((j) => j.attempts - 1 - (j.attemptsAtRetry ?? 0) >= config.maxAttempts);
  if (gaveUp.length) {
    b.pending = b.pending.filter((j) => !gaveUp.includes(j));
    await Promise.all(
      gaveUp.map((job) => {
        const spent = job.attempts - 1 - (job.attemptsAtRetry ?? 0);
        const message = `gave up after ${spent} attempts${job.error ? `: ${job.error.message}` : ''}`;
        return failJob(job, { status: 'submitting', claimToken }, 'gaveUp', message, deps);
      }),
    );
  }

  // A redelivered message of a sent job: its claim's request item says it was sent (one query per claim,
  // only for jobs found `submitting`, which messages that flow never are).
  const held = [...jobs.values()].filter((j) => j.status === 'submitting');
  for (const shown of held.length ? await withShownStatus(held, deps.remotes) : []) {
    if (shown.status === 'submitted') jobs.delete(shown.id);
  }

  const toReconcile: JobRecord[] = [];
  for (const id of unclaimed) {
    const job = jobs.get(id);
    if (!job) {
      if (!held.some((j) => j.id === id)) logger.warn('message for an unknown job', { jobId: id });
      continue;
    }
    if (job.status === 'submitting') {
      if ((job.leaseUntil ?? 0) > now)
        outcomes.set(id, retryAfter((job.leaseUntil ?? now) - now + 1000, 'held by another worker'));
      else toReconcile.push(job);
      continue;
    }
    if (job.status !== 'queued') continue; // terminal: a redelivery
    if ((job.nextAttemptAt ?? 0) > now) {
      outcomes.set(id, retryAfter((job.nextAttemptAt ?? now) - now, job.waitReason ?? 'waiting'));
      continue;
    }
    // Queued and due now, though the claim found it otherwise: it changed meanwhile; look again soon.
    outcomes.set(id, retryAfter(1000, 'changed while claimed'));
  }
  // Keep the messages' order (Promise.all finishes in any order): requests then follow arrival order.
  const order = new Map(jobIds.map((id, i) => [id, i]));
  b.pending.sort((x, y) => (order.get(x.id) ?? 0) - (order.get(y.id) ?? 0));

  if (toReconcile.length) {
    // Reconciliation runs in bulk in the poller (one remote/ls.cgi a cycle for every such job), never per
    // batch here: the pending index is how it finds these jobs, and their messages are done.
    await handToPoller(
      toReconcile.map((j) => j.id),
      deps,
      now,
    );
    logger.info('jobs past their lease handed to the poller for reconciliation', {
      jobs: toReconcile.length,
    });
  }

  if (b.pending.length) {
    logger.info('jobs submitting', { jobIds: b.pending.map((j) => j.id), leaseUntil });
  }
  await sendAll(b);
  if (b.sentRequests > 0) {
    // Done shows within seconds: the poller looks at the new requests soon (it backs off from there).
    try {
      await deps.pollTimer.pollIn(pollPlanPolicy(config.pollIntervalS).firstDelayMs, { kind: 'soon' });
    } catch (err) {
      logger.warn('could not ask for a poll cycle soon', { error: (err as Error).message });
    }
  }
  return result();
}

/**
 * Notes on the pacer item a job of the batch that has waited long (the queue's age for the report and
 * the outage watch: `queue-age.ts`). Never fails the batch.
 */
async function noteLongWaits(
  jobs: Iterable<Pick<JobRecord, 'status' | 'createdAt'>>,
  keyId: string,
  pacer: PacerState,
  deps: Pick<SubmitDeps, 'pacer' | 'logger'>,
  now: number,
): Promise<void> {
  const note = waitingNoteFor(jobs, pacer, now);
  if (!note) return;
  try {
    await deps.pacer.noteWaiting(keyId, note);
  } catch (err) {
    deps.logger.warn('could not note the queue age', { error: (err as Error).message });
  }
}

/** Sends the pending jobs folder by folder, chunk by chunk, until done or stopped by an action. */
async function sendAll(b: Batch): Promise<void> {
  const { config, clock, logger } = b.deps;
  for (const [folder, group] of groupBy([...b.pending], (j) => j.folder)) {
    let folderId: number;
    try {
      folderId = await b.deps.fichier.resolveFolder(folder);
    } catch (err) {
      if (!(err instanceof FichierError)) throw err;
      const action = actionFor(err, group[0] as JobRecord, b);
      if (action.do === 'fail') {
        // A folder 1fichier refuses (or our check finds invalid) will never work: fail its jobs only.
        for (const job of group) await apply(job, { ...action, code: 'folderRejected' }, b);
        continue;
      }
      await stop(group, action, b);
      return;
    }
    for (let i = 0; i < group.length; i += config.batchMaxUrls) {
      // Never send once half the lease is gone (or the invocation's deadline passed): past the lease the
      // jobs may be reconciled and resent by someone else while our request is still on its way.
      if (clock.now() > b.sendUntil || b.signal?.aborted) {
        logger.warn('submit stopped: deadline reached', { jobs: b.pending.length });
        await stopRest(
          { do: 'requeue', delayMs: 1000, reason: 'batch deadline reached', keepAttempt: true },
          b,
        );
        return;
      }
      const stopped = await sendChunk(group.slice(i, i + config.batchMaxUrls), folderId, b);
      if (stopped) return;
    }
  }
}

/**
 * Sends one chunk. Returns true when the batch must stop (the rest of the jobs already have their
 * outcome). A refusal about one URL splits the chunk so that only that URL fails.
 */
async function sendChunk(chunk: JobRecord[], folderId: number, b: Batch): Promise<boolean> {
  const { clock, logger, metrics } = b.deps;
  let remoteId: number;
  try {
    // The deadline only stops new requests (checked before each chunk): aborting one in flight would
    // leave its fate unknown. The client's own timeouts keep a request well inside the lease.
    const res = await b.deps.fichier.remoteRequest({ urls: chunk.map((j) => j.url), folder_id: folderId });
    remoteId = res.id;
  } catch (err) {
    if (!(err instanceof FichierError)) throw err;
    const first = actionFor(err, chunk[0] as JobRecord, b);
    if (first.do === 'fail' && first.perUrl && chunk.length > 1) {
      for (const job of chunk) {
        if (await sendChunk([job], folderId, b)) return true;
      }
      return false;
    }
    if (first.do === 'fail' && first.perUrl) {
      await apply(chunk[0] as JobRecord, first, b);
      return false;
    }
    // Each job of the chunk gets its own decision (its own unknown-answer streak).
    for (const job of chunk) await apply(job, actionFor(err, job, b), b);
    if (first.do === 'requeue' && first.pauseKeyUntil !== undefined) {
      await b.deps.pacer.pauseUntil(b.keyId, first.pauseKeyUntil);
    }
    await stopRest(first, b);
    return true;
  }
  metrics.count('RemoteRequests');
  b.sentRequests += 1;
  await b.deps.hooks.afterRemoteAccepted?.(chunk.map((j) => j.id));
  const at = clock.now();
  // One write for the whole chunk: the request item of this claim. The jobs stay `submitting` under the
  // claim and are shown `submitted` from this write on (shared/jobs/shown-status.ts); the poller ends them.
  await b.deps.remotes.trackRemote({
    remoteId,
    jobIds: chunk.map((j) => j.id),
    submittedAt: at,
    claimToken: b.claimToken,
    complete: true,
  });
  for (const job of chunk) {
    logger.info('job submitted', { jobId: job.id, remoteId, folder: job.folder });
    remove(b.pending, job);
  }
  metrics.count('JobsSubmitted', chunk.length);
  return false;
}

function actionFor(err: FichierError, job: JobRecord, b: Batch): JobAction {
  const { config, clock } = b.deps;
  return decideJobAction(err, {
    now: clock.now(),
    pacing: config.pacing,
    policy: config.retry,
    attempts: job.attempts,
    unknown: job.unknownAnswer,
    ...(b.random ? { random: b.random } : {}),
  });
}

/** Stops the batch after `action`: jobs of `group` get it, then every job not yet sent. */
async function stop(group: JobRecord[], action: JobAction, b: Batch): Promise<void> {
  for (const job of group) await apply(job, action, b);
  await stopRest(action, b);
}

/** Every claimed job not yet sent gets the action that stopped the batch, as it applies to unsent jobs. */
async function stopRest(stopping: JobAction, b: Batch): Promise<void> {
  const { config } = b.deps;
  const action = actionForUnsent(stopping, { pacing: config.pacing, policy: config.retry });
  for (const job of [...b.pending]) await apply(job, action, b);
}

/** Carries out one {@link JobAction} on a job this batch holds in `submitting`. */
async function apply(job: JobRecord, action: JobAction, b: Batch): Promise<void> {
  const { deps, claimToken } = b;
  const { clock, logger, metrics } = deps;
  remove(b.pending, job);
  const expected = { status: 'submitting' as const, claimToken };
  switch (action.do) {
    case 'fail':
      await failJob(job, expected, action.code, action.message, deps);
      return;
    case 'reconcile':
      // 1fichier may hold it: it stays `submitting`, and the poller reconciles it once the lease ends.
      logger.warn('submit outcome unknown, will reconcile', { jobId: job.id, reason: action.reason });
      metrics.count('SubmitUnknownOutcome');
      await handToPoller([job.id], deps, clock.now());
      b.outcomes.set(job.id, ack);
      return;
    case 'hold':
      if (!b.authCounted) {
        b.authCounted = true;
        logger.warn('submit blocked: 1fichier refused the key', { reason: action.reason });
        metrics.count(RELAY_METRICS.authFailures);
      }
      await release(job, expected, { keepAttempt: true, waitReason: action.reason }, deps);
      await handToPoller([job.id], deps, clock.now());
      b.outcomes.set(job.id, ack);
      return;
    case 'requeue': {
      logger.info('submit deferred', { jobId: job.id, delayMs: action.delayMs, reason: action.reason });
      metrics.count('SubmitDeferred');
      await release(
        job,
        expected,
        {
          keepAttempt: action.keepAttempt,
          waitReason: action.reason,
          nextAttemptAt: clock.now() + action.delayMs,
          ...(action.unknown ? { unknownAnswer: action.unknown } : {}),
        },
        deps,
      );
      b.outcomes.set(job.id, retryAfter(action.delayMs, action.reason));
      return;
    }
  }
}

async function release(
  job: JobRecord,
  expected: { status: 'submitting'; claimToken: string },
  how: {
    keepAttempt: boolean;
    waitReason: string;
    nextAttemptAt?: number;
    unknownAnswer?: JobPatch['unknownAnswer'];
  },
  deps: SubmitDeps,
) {
  try {
    await deps.store.transition(
      job.id,
      expected,
      {
        status: 'queued',
        claimToken: null,
        leaseUntil: null,
        waitReason: how.waitReason.slice(0, 500),
        ...(how.keepAttempt ? { attemptsDelta: -1 } : {}),
        ...(how.nextAttemptAt !== undefined ? { nextAttemptAt: how.nextAttemptAt } : {}),
        ...(how.unknownAnswer !== undefined ? { unknownAnswer: how.unknownAnswer } : {}),
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
