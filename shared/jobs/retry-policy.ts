/**
 * What a job does after a failed 1fichier call: the one place that turns a classified answer
 * (`shared/fichier/errors.ts`: kind, retryable, retry-after, maybe-submitted) into an action on the job.
 * `submit.ts`, `poll.ts` and `functions/worker.ts` only carry out the {@link JobAction} it returns.
 */
import { type PacingPolicy, transientDelay } from '../fichier/backoff.js';
import { FichierApiError, type FichierError, FichierPacedError } from '../fichier/errors.js';
import type { UnknownStreak } from './store.js';

/** Waits and limits of the job policy (the env names are in `shared/config/env-names.ts`). */
export interface JobRetryPolicy {
  /**
   * First wait after an unknown 1fichier answer (env `FICHIER_UNKNOWN_BACKOFF_MS`), doubling on each
   * repeat of the same answer. An unknown refusal is often a passing condition, and quick retries of
   * refused calls can get an IP banned. @default 300000
   */
  unknownBackoffMs: number;
  /** Cap of that growing wait. @default 3600000 */
  unknownBackoffMaxMs: number;
  /**
   * A job fails once 1fichier has given the same unknown answer for this long (env
   * `FICHIER_UNKNOWN_GIVE_UP_S`), so nothing waits forever in silence. @default 86400
   */
  unknownGiveUpS: number;
  /** Shortest wait handed to the queue (SQS delays are whole seconds). @default 1000 */
  minDelayMs: number;
}

/** The defaults documented on {@link JobRetryPolicy}. */
export const DEFAULT_JOB_RETRY_POLICY: Readonly<JobRetryPolicy> = Object.freeze({
  unknownBackoffMs: 5 * 60_000,
  unknownBackoffMaxMs: 60 * 60_000,
  unknownGiveUpS: 24 * 3600,
  minDelayMs: 1000,
});

/** What happens to a job after a failed call. */
export type JobAction =
  /** Back to `queued`, its message returned to the queue after `delayMs`. */
  | {
      do: 'requeue';
      delayMs: number;
      reason: string;
      /** The claim does not count as an attempt (the call was not the job's fault). */
      keepAttempt: boolean;
      /** Pause every call for the key until then (an unknown refusal may be key-wide). */
      pauseKeyUntil?: number;
      /** The unknown-answer streak to record on the job, when the answer was unknown. */
      unknown?: UnknownStreak;
    }
  /** 1fichier may hold the job: it stays `submitting` and is reconciled after its lease. */
  | { do: 'reconcile'; reason: string }
  /** The key cannot be used (auth circuit): back to `queued` without a message; work resumes when it closes. */
  | { do: 'hold'; reason: string }
  /** Final. `perUrl`: the refusal is about one URL, so a batch is split to fail only that one. */
  | { do: 'fail'; code: string; message: string; perUrl: boolean };

/** What the decision looks at. */
export interface JobActionContext {
  /** Epoch ms. */
  now: number;
  pacing: PacingPolicy;
  policy: JobRetryPolicy;
  /** Claims of the job so far (drives the transient backoff). */
  attempts: number;
  /** The job's current unknown-answer streak. */
  unknown?: UnknownStreak;
  /** Jitter source of the transient backoff. @default Math.random */
  random?: () => number;
}

type Situation = 'maybeSubmitted' | 'circuitOpen' | 'paced' | FichierApiError['kind'] | 'local';

/** One row per situation: the action and why (the rows are data; {@link decideJobAction} applies them). */
export const JOB_ACTION_RULES: Readonly<Record<Situation, { action: JobAction['do']; note: string }>> = {
  maybeSubmitted: {
    action: 'reconcile',
    note: 'the request may exist at 1fichier (5xx, timeout, unreadable 2xx): find it before any resend',
  },
  circuitOpen: { action: 'hold', note: 'the key is refused: no call until a probe, a reset or a new key' },
  paced: {
    action: 'requeue',
    note: 'the pacer refused a slot (pause or busy): try when it says, no attempt spent',
  },
  flood: {
    action: 'requeue',
    note: 'flood or lock: wait out the pause recorded for the key, no attempt spent',
  },
  auth: { action: 'hold', note: 'the key is refused: the circuit is open, jobs wait in queued' },
  notPremium: { action: 'fail', note: 'the account cannot use the API: every URL would fail alike' },
  rejected: { action: 'fail', note: 'a refusal about this URL or folder: split the batch so only it fails' },
  notFound: { action: 'fail', note: 'the resource does not exist: split the batch so only it fails' },
  transient: { action: 'requeue', note: 'network or 5xx before any creation: capped exponential backoff' },
  unknown: {
    action: 'requeue',
    note: 'a refusal no rule knows: long growing wait, fail after the same answer for unknownGiveUpS',
  },
  local: {
    action: 'fail',
    note: 'our own check refused the input (e.g. a folder name 1fichier cannot hold)',
  },
};

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * The action for a job after `err` (thrown by the 1fichier client or the pacer). Pure: time and jitter
 * come from `ctx`. Errors that are not the client's are not decided here (they are the caller's bug or
 * the store's failure, and must propagate).
 */
export function decideJobAction(err: FichierError, ctx: JobActionContext): JobAction {
  const { now, pacing, policy } = ctx;
  const floor = (ms: number) => Math.max(policy.minDelayMs, Math.ceil(ms));
  if (!(err instanceof FichierApiError)) {
    return { do: 'fail', code: 'invalid', message: err.message, perUrl: false };
  }
  if (err.maybeSubmitted) return { do: 'reconcile', reason: `submit outcome unknown: ${err.message}` };
  if (err instanceof FichierPacedError) {
    if (err.refusal === 'circuitOpen') return { do: 'hold', reason: err.message };
    return {
      do: 'requeue',
      delayMs: floor(err.retryAfterMs ?? pacing.minIntervalMs),
      reason: err.message,
      keepAttempt: true,
    };
  }
  const message = err.apiMessage ?? err.message;
  switch (err.kind) {
    case 'auth':
      return { do: 'hold', reason: message };
    case 'flood':
      return {
        do: 'requeue',
        delayMs: floor(err.retryAfterMs ?? (err.ipLock ? pacing.ipLockPauseMs : pacing.floodPauseMs)),
        reason: `1fichier flood answer: ${message}`,
        keepAttempt: true,
      };
    case 'notPremium':
      return { do: 'fail', code: 'notPremium', message, perUrl: false };
    case 'rejected':
    case 'notFound':
      return { do: 'fail', code: err.kind, message, perUrl: true };
    case 'transient':
      return {
        do: 'requeue',
        delayMs: floor(
          transientDelay(Math.max(1, ctx.attempts), pacing, err.retryAfterMs, ctx.random ?? Math.random),
        ),
        reason: message,
        keepAttempt: false,
      };
    case 'unknown': {
      const same = ctx.unknown?.message === message;
      const streak: UnknownStreak = {
        message,
        since: same && ctx.unknown ? ctx.unknown.since : now,
        count: same && ctx.unknown ? ctx.unknown.count + 1 : 1,
      };
      const waited = now - streak.since;
      if (waited >= policy.unknownGiveUpS * 1000) {
        const hours = Math.round((waited / 3_600_000) * 10) / 10;
        return {
          do: 'fail',
          code: 'unknownAnswer',
          message: `1fichier kept answering "${message}" for ${hours} h; check your account and the URL, then retry the job`,
          perUrl: false,
        };
      }
      const delayMs = floor(
        Math.min(policy.unknownBackoffMaxMs, policy.unknownBackoffMs * 2 ** (streak.count - 1)),
      );
      return {
        do: 'requeue',
        delayMs,
        reason: `unrecognised 1fichier answer, retry in ${seconds(delayMs)}: ${message}`,
        keepAttempt: true,
        pauseKeyUntil: now + policy.unknownBackoffMs,
        unknown: streak,
      };
    }
  }
}

/**
 * The action for jobs of a batch that were never sent because an earlier call of the batch stopped it:
 * they wait as long as the stopping action says, without spending an attempt or joining a streak.
 */
export function actionForUnsent(
  stop: JobAction,
  ctx: Pick<JobActionContext, 'pacing' | 'policy'>,
): JobAction {
  if (stop.do === 'requeue') {
    return { do: 'requeue', delayMs: stop.delayMs, reason: stop.reason, keepAttempt: true };
  }
  if (stop.do === 'fail' && !stop.perUrl && stop.code !== 'notPremium') {
    // Only a refusal of the account applies to jobs never sent; a job's own give-up does not.
    return {
      do: 'requeue',
      delayMs: ctx.policy.unknownBackoffMs,
      reason: 'an earlier request of the batch was refused',
      keepAttempt: true,
    };
  }
  if (stop.do === 'reconcile') {
    // The previous call's fate is unknown; these were not sent, so they simply go again shortly.
    return {
      do: 'requeue',
      delayMs: Math.max(ctx.policy.minDelayMs, ctx.pacing.minIntervalMs),
      reason: 'an earlier request of the batch has an unknown outcome',
      keepAttempt: true,
    };
  }
  return stop;
}
