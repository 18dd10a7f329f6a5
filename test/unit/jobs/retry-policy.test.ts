import { describe, expect, it } from 'vitest';
import { DEFAULT_PACING } from '../../../shared/fichier/backoff.js';
import { FichierApiError, FichierError, FichierPacedError } from '../../../shared/fichier/errors.js';
import {
  actionForUnsent,
  DEFAULT_JOB_RETRY_POLICY,
  decideJobAction,
  JOB_ACTION_RULES,
  type JobActionContext,
} from '../../../shared/jobs/retry-policy.js';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const op = 'remote/request.cgi';
const ctx = (over: Partial<JobActionContext> = {}): JobActionContext => ({
  now: T0,
  pacing: DEFAULT_PACING,
  policy: DEFAULT_JOB_RETRY_POLICY,
  attempts: 1,
  random: () => 0.5,
  ...over,
});
const apiError = (init: Partial<ConstructorParameters<typeof FichierApiError>[0]>) =>
  new FichierApiError({ kind: 'transient', retryable: true, operation: op, ...init });

describe('the job policy table', () => {
  it('has one row, with a note, for every error kind and situation', () => {
    for (const kind of [
      'auth',
      'notPremium',
      'flood',
      'notFound',
      'rejected',
      'transient',
      'unknown',
    ] as const) {
      expect(JOB_ACTION_RULES[kind].note.length).toBeGreaterThan(10);
    }
    expect(JOB_ACTION_RULES.maybeSubmitted.action).toBe('reconcile');
  });

  it.each([
    ['a maybe-submitted answer', apiError({ maybeSubmitted: true, retryable: false }), 'reconcile'],
    ['an auth refusal', apiError({ kind: 'auth', retryable: false }), 'hold'],
    ['a flood', apiError({ kind: 'flood' }), 'requeue'],
    ['a transient error', apiError({ kind: 'transient' }), 'requeue'],
    ['an unknown answer', apiError({ kind: 'unknown', apiMessage: '#913 odd' }), 'requeue'],
    ['a refusal of one URL', apiError({ kind: 'rejected', retryable: false }), 'fail'],
    ['a missing resource', apiError({ kind: 'notFound', retryable: false }), 'fail'],
    ['a non-premium account', apiError({ kind: 'notPremium', retryable: false }), 'fail'],
  ])('the row applied: %s → %s', (_name, err, action) => {
    expect(decideJobAction(err, ctx()).do).toBe(action);
    const kind = err.maybeSubmitted ? 'maybeSubmitted' : err.kind;
    expect(JOB_ACTION_RULES[kind].action).toBe(action);
  });
});

describe('decideJobAction', () => {
  it('reconciles a maybe-submitted answer whatever its kind: never a blind resend', () => {
    for (const kind of ['transient', 'unknown', 'rejected'] as const) {
      expect(decideJobAction(apiError({ kind, maybeSubmitted: true }), ctx()).do).toBe('reconcile');
    }
  });

  it('waits out a flood for the pause the client recorded, without spending an attempt', () => {
    const a = decideJobAction(apiError({ kind: 'flood', retryAfterMs: 42_000 }), ctx());
    expect(a).toMatchObject({ do: 'requeue', delayMs: 42_000, keepAttempt: true });
  });

  it('waits an IP lock for the long IP-lock pause when the answer named no time', () => {
    const a = decideJobAction(apiError({ kind: 'flood', ipLock: true }), ctx());
    expect(a).toMatchObject({ do: 'requeue', delayMs: DEFAULT_PACING.ipLockPauseMs });
  });

  it('backs off transient errors exponentially with jitter from the injected source', () => {
    const first = decideJobAction(apiError({}), ctx({ attempts: 1, random: () => 1 }));
    const third = decideJobAction(apiError({}), ctx({ attempts: 3, random: () => 1 }));
    expect(first).toMatchObject({ do: 'requeue', delayMs: 1000, keepAttempt: false });
    expect(third).toMatchObject({ do: 'requeue', delayMs: 2000 });
  });

  it('hands a pacer refusal back with its own wait, and an open circuit as a hold', () => {
    expect(decideJobAction(new FichierPacedError(op, 'busy', 2500), ctx())).toMatchObject({
      do: 'requeue',
      delayMs: 2500,
      keepAttempt: true,
    });
    expect(decideJobAction(new FichierPacedError(op, 'circuitOpen', 1), ctx()).do).toBe('hold');
  });

  it('splits a batch only for refusals about one URL, not for a refusal of the account', () => {
    expect(decideJobAction(apiError({ kind: 'rejected', retryable: false }), ctx())).toMatchObject({
      perUrl: true,
    });
    expect(decideJobAction(apiError({ kind: 'notPremium', retryable: false }), ctx())).toMatchObject({
      perUrl: false,
    });
  });

  it('fails a local check (not a 1fichier answer) at once', () => {
    expect(decideJobAction(new FichierError('folder name longer than 250 characters'), ctx()).do).toBe(
      'fail',
    );
  });
});

describe('unknown answers over time (fake clock)', () => {
  const unknown = apiError({ kind: 'unknown', apiMessage: '#913 Premium status is only allowed…' });

  it('waits FICHIER_UNKNOWN_BACKOFF_MS first, doubling on each repeat of the same answer, capped', () => {
    let streak: JobActionContext['unknown'];
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const a = decideJobAction(unknown, ctx({ now: T0 + i * 60_000, unknown: streak }));
      if (a.do !== 'requeue') throw new Error(`expected a requeue, got ${a.do}`);
      delays.push(a.delayMs);
      streak = a.unknown;
    }
    expect(delays).toEqual([300_000, 600_000, 1_200_000, 2_400_000, 3_600_000, 3_600_000]);
    expect(streak).toEqual({ message: unknown.apiMessage, since: T0, count: 6 });
  });

  it('pauses the key for the first backoff, since such a refusal may be about the key', () => {
    const a = decideJobAction(unknown, ctx());
    expect(a).toMatchObject({ do: 'requeue', pauseKeyUntil: T0 + 300_000, keepAttempt: true });
  });

  it('starts a new streak when the answer changes', () => {
    const a = decideJobAction(
      unknown,
      ctx({ unknown: { message: 'another text', since: T0 - 86_000_000, count: 9 } }),
    );
    expect(a).toMatchObject({ do: 'requeue', unknown: { since: T0, count: 1 } });
  });

  it('fails the job with the answer once the same one lasted FICHIER_UNKNOWN_GIVE_UP_S', () => {
    const streak = { message: unknown.apiMessage as string, since: T0, count: 20 };
    const before = decideJobAction(unknown, ctx({ now: T0 + 86_399_000, unknown: streak }));
    const after = decideJobAction(unknown, ctx({ now: T0 + 86_400_000, unknown: streak }));
    expect(before.do).toBe('requeue');
    expect(after).toMatchObject({ do: 'fail', code: 'unknownAnswer' });
    expect(after.do === 'fail' && after.message).toMatch(/#913 Premium status.*24 h/);
  });
});

describe('jobs of a batch that were never sent', () => {
  const policy = { pacing: DEFAULT_PACING, policy: DEFAULT_JOB_RETRY_POLICY };

  it('wait like the job that stopped the batch, without an attempt or a streak', () => {
    const stop = decideJobAction(apiError({ kind: 'unknown', apiMessage: 'x' }), ctx());
    const unsent = actionForUnsent(stop, policy);
    expect(unsent).toMatchObject({ do: 'requeue', keepAttempt: true });
    expect(unsent.do === 'requeue' && unsent.unknown).toBeUndefined();
  });

  it('go again shortly after a maybe-submitted answer, and fail with a refusal of the account', () => {
    expect(actionForUnsent({ do: 'reconcile', reason: 'x' }, policy)).toMatchObject({
      do: 'requeue',
      delayMs: 1000,
    });
    const notPremium = {
      do: 'fail' as const,
      code: 'notPremium',
      message: 'Must be a customer',
      perUrl: false,
    };
    expect(actionForUnsent(notPremium, policy)).toEqual(notPremium);
  });

  it('do not inherit another job’s give-up', () => {
    const gaveUp = { do: 'fail' as const, code: 'unknownAnswer', message: 'kept answering', perUrl: false };
    expect(actionForUnsent(gaveUp, policy).do).toBe('requeue');
  });
});
