/**
 * What to do after one delivery attempt, decided in one place: the status rules as a table with a note per
 * row, and the retry delay as pure maths (randomness and time are parameters, so tests never sleep).
 */
import { parseRetryAfter } from '../fichier/backoff.js';

/** How deliveries are retried. */
export interface DeliveryPolicy {
  /**
   * Shortest wait before a retry, and the base of the exponential ceiling (env `NOTIFY_RETRY_BASE_MS`).
   * @default 10000
   */
  retryBaseMs: number;
  /**
   * Cap of the exponential ceiling and of an honoured `Retry-After`: a dead endpoint is tried about
   * twice an hour once the ceiling is reached, and one bogus header cannot park a delivery for a week.
   * @default 3600000 (1 h)
   */
  retryMaxMs: number;
  /**
   * Time after the first attempt when a delivery that keeps failing is given up (`failed`).
   * @default 86400000 (24 h)
   */
  giveUpAfterMs: number;
}

/** The defaults documented on {@link DeliveryPolicy}. */
export const DEFAULT_DELIVERY_POLICY: Readonly<DeliveryPolicy> = Object.freeze({
  retryBaseMs: 10_000,
  retryMaxMs: 60 * 60_000,
  giveUpAfterMs: 24 * 60 * 60_000,
});

/** What the sender learned from one attempt. */
export type DeliveryAnswer =
  /** The target answered with an HTTP status. */
  | { kind: 'http'; status: number; retryAfter?: string | string[] | null }
  /** No answer: connection refused or reset, DNS failure, timeout. */
  | { kind: 'network'; error?: unknown }
  /** Never sent because the address is not allowed (the SSRF guard refused it): waiting will not help. */
  | { kind: 'blocked'; reason: string };

/** Where a delivery stands after an attempt. */
export type DeliveryOutcome =
  /** The target took it. */
  | 'delivered'
  /** The target says it wants no more: remove the subscription. */
  | 'gone'
  /** Try again later. */
  | 'retry'
  /** Stop: the target refused it, or retries ran out. */
  | 'failed';

/** One row of the status table: statuses `from`..`to` inclusive. */
export interface DeliveryRule {
  from: number;
  to: number;
  outcome: DeliveryOutcome;
  note: string;
}

/** How the answer's status decides the outcome, first match wins (docs/notifications.md "Retries"). */
export const DELIVERY_RULES: readonly DeliveryRule[] = [
  {
    from: 200,
    to: 299,
    outcome: 'delivered',
    note: 'any 2xx is success (Standard Webhooks); Discord answers 204, Slack 200 "ok"',
  },
  {
    from: 410,
    to: 410,
    outcome: 'gone',
    note: 'Standard Webhooks: disable the endpoint; Zapier REST hooks answer 410 once unsubscribed',
  },
  { from: 408, to: 408, outcome: 'retry', note: 'the target timed out reading the request' },
  {
    from: 429,
    to: 429,
    outcome: 'retry',
    note: 'rate limited (Discord, Slack, Telegram all use 429): wait at least Retry-After',
  },
  {
    from: 500,
    to: 599,
    outcome: 'retry',
    note: 'server error or overload (502/504 per Standard Webhooks); 503 may carry Retry-After',
  },
  {
    from: 300,
    to: 399,
    outcome: 'failed',
    note: 'redirects are not followed (Standard Webhooks, Zapier): the target URL must be updated',
  },
  {
    from: 400,
    to: 499,
    outcome: 'failed',
    note: 'the target refused the request (bad URL, revoked token, deleted channel): retrying cannot help',
  },
];

const FALLBACK_RULE: DeliveryRule = {
  from: 0,
  to: Number.MAX_SAFE_INTEGER,
  outcome: 'failed',
  note: 'a status outside 2xx-5xx is not an answer we can act on',
};

/** The decision for one attempt. */
export type DeliveryDecision =
  | { outcome: 'delivered' | 'gone'; note: string }
  | {
      outcome: 'failed';
      note: string;
      /** `rejected`: the answer says retrying cannot help; `expired`: retries ran out. */
      reason: 'rejected' | 'expired';
    }
  | {
      outcome: 'retry';
      note: string;
      /** Epoch ms of the next attempt. */
      retryAt: number;
      delayMs: number;
    };

/** The table row for an HTTP status. */
export function ruleForStatus(status: number): DeliveryRule {
  return DELIVERY_RULES.find((r) => status >= r.from && status <= r.to) ?? FALLBACK_RULE;
}

/**
 * The wait before retry number `retry` (1 = the first retry): full jitter between `retryBaseMs` and the
 * ceiling `min(retryMaxMs, retryBaseMs × 2^retry)`, so the first retry comes 10–20 s after the failure, and
 * many deliveries failing together spread out instead of coming back at once.
 */
export function retryDelay(
  retry: number,
  policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(1, Math.floor(retry));
  const ceiling = Math.max(
    policy.retryBaseMs,
    Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** exponent),
  );
  const r = Math.min(1, Math.max(0, random()));
  return policy.retryBaseMs + Math.floor(r * (ceiling - policy.retryBaseMs));
}

/**
 * Decides what follows one attempt: `delivered`, `gone`, `failed`, or `retry` at a time no later than 24 h
 * (`giveUpAfterMs`) after the first attempt. A `Retry-After` longer than the computed delay is honoured
 * (capped at `retryMaxMs`). The last retry is moved to the deadline rather than dropped, so a target that
 * comes back just before it still gets the message; an attempt failing at or after the deadline is `failed`.
 */
export function decideDelivery(input: {
  answer: DeliveryAnswer;
  /** Attempts made so far, this one included (1 after the first attempt). */
  attempts: number;
  /** Epoch ms of the first attempt. */
  firstAttemptAt: number;
  nowMs: number;
  policy?: DeliveryPolicy;
  random?: () => number;
}): DeliveryDecision {
  const policy = input.policy ?? DEFAULT_DELIVERY_POLICY;
  const { answer } = input;
  let note: string;
  let retryAfterMs: number | undefined;
  if (answer.kind === 'blocked') {
    return { outcome: 'failed', reason: 'rejected', note: `not sent: ${answer.reason}` };
  }
  if (answer.kind === 'network') {
    note = 'no answer (network error or timeout)';
  } else {
    const rule = ruleForStatus(answer.status);
    if (rule.outcome === 'delivered' || rule.outcome === 'gone')
      return { outcome: rule.outcome, note: rule.note };
    if (rule.outcome === 'failed') return { outcome: 'failed', reason: 'rejected', note: rule.note };
    note = rule.note;
    retryAfterMs = parseRetryAfter(answer.retryAfter, input.nowMs);
  }

  const deadline = input.firstAttemptAt + policy.giveUpAfterMs;
  if (input.nowMs >= deadline) {
    return {
      outcome: 'failed',
      reason: 'expired',
      note: `${note}; gave up ${formatHours(policy.giveUpAfterMs)} after the first attempt`,
    };
  }
  const backoff = retryDelay(input.attempts, policy, input.random);
  const asked = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, policy.retryMaxMs);
  const retryAt = Math.min(deadline, input.nowMs + Math.max(backoff, asked));
  return { outcome: 'retry', note, retryAt, delayMs: retryAt - input.nowMs };
}

function formatHours(ms: number): string {
  return `${Math.round(ms / 3_600_000)} h`;
}
