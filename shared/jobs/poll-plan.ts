/**
 * When the poller runs next: soon after a submission, then backing off while requests stay open, and not
 * at all while nothing is open (the slow schedule, every {@link POLL_SAFETY_NET_S} s, is only a safety
 * net). The same plan drives the local runtime's timer and, in AWS, a delayed SQS message to the poller.
 * Every cycle still makes at most one remote/ls.cgi, and remote/info.cgi only for executed requests, so
 * the plan decides how many ls calls an open request costs: about log2(cap / first) of them in its first
 * minute, then one per `maxDelayMs` (or per tenth of its age, for requests open for long).
 */

/** The slow schedule: an idle relay is polled at most this often, and calls 1fichier 0 times then. */
export const POLL_SAFETY_NET_S = 300;

/** How the plan behaves. */
export interface PollPlanPolicy {
  /** The first poll after a submission, and after a cycle that ended jobs. */
  firstDelayMs: number;
  /**
   * The longest wait while a young request is open (`POLL_INTERVAL_S`): a job shows `done` at most this
   * long after 1fichier finished it.
   */
  maxDelayMs: number;
  /** For a request open longer than `maxDelayMs / ageFraction`, the wait may grow to this share of its age. */
  ageFraction: number;
  /** Never wait longer than this (the safety net's period). */
  safetyMs: number;
}

/** The plan's defaults for a poll cycle of `pollIntervalS`. */
export function pollPlanPolicy(pollIntervalS: number): PollPlanPolicy {
  const maxDelayMs = pollIntervalS * 1000;
  return {
    firstDelayMs: Math.min(3000, maxDelayMs),
    maxDelayMs,
    ageFraction: 0.1,
    safetyMs: Math.max(maxDelayMs, POLL_SAFETY_NET_S * 1000),
  };
}

/** What a cycle saw, as the plan needs it. */
export interface PollPlanInput {
  now: number;
  /** `submittedAt` (epoch ms) of each followed request still open after the cycle. */
  openSubmittedAt: readonly number[];
  /** Jobs the pending index holds (lost messages, jobs to reconcile): they need cycles too. */
  pendingJobs: number;
  /** The cycle ended at least one job, or followed a new request. */
  progressed: boolean;
  /** The wait planned after the previous cycle, if one was. */
  previousDelayMs?: number;
  /** The key's flood pause: no call can go before it. */
  pausedUntil?: number;
}

/**
 * The wait until the next cycle, in ms, or `undefined` when nothing is open (the safety net covers it).
 * @example
 * nextPollDelay({ now, openSubmittedAt: [now - 1000], pendingJobs: 0, progressed: true }, pollPlanPolicy(30))
 * // → 3000
 */
export function nextPollDelay(input: PollPlanInput, policy: PollPlanPolicy): number | undefined {
  const open = input.openSubmittedAt.length > 0;
  if (!open && input.pendingJobs === 0) return undefined;
  let delay: number;
  if (!open) {
    // Only reconciliation or re-sending is left: one cycle per poll interval (absence needs two readings
    // that far apart anyway).
    delay = policy.maxDelayMs;
  } else {
    const grown =
      input.progressed || input.previousDelayMs === undefined
        ? policy.firstDelayMs
        : Math.max(policy.firstDelayMs, input.previousDelayMs * 2);
    const youngestAge = input.now - Math.max(...input.openSubmittedAt);
    const cap = Math.max(policy.maxDelayMs, youngestAge * policy.ageFraction);
    delay = Math.min(grown, cap);
    if (input.pendingJobs > 0) delay = Math.min(delay, policy.maxDelayMs);
  }
  if (input.pausedUntil !== undefined && input.pausedUntil > input.now) {
    delay = Math.max(delay, input.pausedUntil - input.now);
  }
  return Math.round(Math.min(delay, policy.safetyMs));
}

/** The next cycle as the poller recorded it in its report: the message that runs it carries `planId`. */
export interface PlannedPoll {
  planId: string;
  /** ISO time the next cycle is due. */
  at: string;
  delayMs: number;
}

/** Why a poll message or tick runs a cycle or not (see {@link shouldRunCycle}). */
export type PollTrigger =
  /** The slow schedule: always runs. */
  | { kind: 'tick' }
  /** The message the previous cycle planned. */
  | { kind: 'next'; planId: string }
  /** A worker that just submitted a request asks for a cycle soon. */
  | { kind: 'soon' };

/**
 * Whether a trigger runs a cycle, given the latest cycle's end and plan (from its report). A planned
 * message runs only if it is still the plan (a newer cycle replaced it otherwise: its chain ends here);
 * a worker's "soon" runs unless a cycle just ran or one is planned within `firstDelayMs` anyway.
 */
export function shouldRunCycle(
  trigger: PollTrigger,
  latest: { lastCycleAt?: number; next?: PlannedPoll } | undefined,
  now: number,
  policy: PollPlanPolicy,
): boolean {
  if (trigger.kind === 'tick') return true;
  if (trigger.kind === 'next') return latest?.next?.planId === trigger.planId;
  const justRan = latest?.lastCycleAt !== undefined && now - latest.lastCycleAt < policy.firstDelayMs / 2;
  const plannedAt = latest?.next ? Date.parse(latest.next.at) : Number.NaN;
  const plannedSoon = Number.isFinite(plannedAt) && plannedAt - now <= policy.firstDelayMs;
  return !justRan && !plannedSoon;
}

/** Runs the poller after a delay: a delayed SQS message in AWS, the local runtime's timer locally. */
export interface PollTimer {
  /** Asks for a cycle in about `delayMs` (SQS rounds to whole seconds, at most 15 minutes). */
  pollIn(delayMs: number, trigger: Exclude<PollTrigger, { kind: 'tick' }>): Promise<void>;
}

/**
 * Sends a worker's "soon" only when no "soon" this process sent is still due by then, and at least
 * `minLeadMs` from now: every worker invocation that sent a request asks, and in AWS each ask is an SQS
 * message (and a poller invocation that reads it). The cycle of a "soon" due that late starts after this
 * request was recorded, even when `shouldRunCycle` drops the message because a cycle just ran (within
 * `firstDelayMs / 2`, the lead to pass): that cycle started after this request too. Planned (`next`)
 * messages always go.
 */
export function coalesceSoonPolls(inner: PollTimer, clock: { now(): number }, minLeadMs: number): PollTimer {
  /** When the latest "soon" sent is due (epoch ms). */
  let dueAt = Number.NEGATIVE_INFINITY;
  return {
    async pollIn(delayMs, trigger) {
      if (trigger.kind !== 'soon') return inner.pollIn(delayMs, trigger);
      const now = clock.now();
      const at = now + delayMs;
      if (dueAt - now >= minLeadMs && dueAt <= at) return;
      const previous = dueAt;
      dueAt = at;
      try {
        await inner.pollIn(delayMs, trigger);
      } catch (err) {
        dueAt = previous;
        throw err;
      }
    },
  };
}

/** A timer that never fires: only the slow schedule runs the poller (tests, scripts). */
export const noPollTimer: PollTimer = { pollIn: async () => {} };

/** Parses a poll message body; undefined for anything but a known trigger. */
export function parsePollTrigger(body: string): Exclude<PollTrigger, { kind: 'tick' }> | undefined {
  try {
    const v = JSON.parse(body) as { kind?: unknown; planId?: unknown };
    if (v.kind === 'soon') return { kind: 'soon' };
    if (v.kind === 'next' && typeof v.planId === 'string' && v.planId.length <= 64) {
      return { kind: 'next', planId: v.planId };
    }
  } catch {
    // Not JSON: not ours.
  }
  return undefined;
}
