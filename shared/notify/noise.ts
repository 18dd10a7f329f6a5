/**
 * Keeping notifications worth reading: failures coalesced per target, an hourly cap per target, one
 * problem and one recovery per outage, and the digest schedule. Every function is pure and takes the time
 * as an argument; the caller stores the small state values between calls.
 */
import type { Job } from '../jobs/model.js';
import {
  type DigestSchedule,
  type FailureSummary,
  type JobEvent,
  jobEvent,
  type NotifyMessage,
  type OutageCause,
  type OutageNotice,
  summarizeFailures,
} from './events.js';
import { TARGET_AUDIENCE, type TargetType } from './target-rules.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Thresholds and windows of the noise rules. */
export interface NoisePolicy {
  /**
   * Failures of one target within this window after the first one go out as one message.
   * @default 60000 (1 min)
   */
  coalesceWindowMs: number;
  /**
   * Most messages one target gets in any 60 min (a sliding window) (env `NOTIFY_MAX_PER_HOUR`).
   * Outage and report messages are neither capped nor counted.
   * @default 30
   */
  maxPerHour: number;
  /**
   * A flood pause longer than this is an outage people should hear about; shorter ones are routine.
   * @default 600000 (10 min)
   */
  floodPauseAlertMs: number;
  /**
   * The oldest queued job waiting longer than this is an outage.
   * @default 3600000 (1 h)
   */
  queueAgeAlertMs: number;
  /**
   * How long every cause must stay clear before `recovered` is sent, so a flapping cause makes one outage
   * rather than a problem/recovered pair each time.
   * @default 300000 (5 min)
   */
  recoverQuietMs: number;
  /**
   * Hour of the day (UTC) the daily digest is sent.
   * @default 8
   */
  dailyDigestHourUtc: number;
}

/** The defaults documented on {@link NoisePolicy}. */
export const DEFAULT_NOISE_POLICY: Readonly<NoisePolicy> = Object.freeze({
  coalesceWindowMs: 60_000,
  maxPerHour: 30,
  floodPauseAlertMs: 10 * 60_000,
  queueAgeAlertMs: HOUR_MS,
  recoverQuietMs: 5 * 60_000,
  dailyDigestHourUtc: 8,
});

/** Which noise rules apply to a target. */
export interface NoiseRule {
  coalesce: boolean;
  capped: boolean;
  note: string;
}

/** The rules by audience (targets.ts says which audience each type has). */
export const NOISE_RULES: Readonly<Record<'machine' | 'person', NoiseRule>> = {
  machine: {
    coalesce: false,
    capped: false,
    note: 'programs need every job id; they dedupe on webhook-id and choose events themselves',
  },
  person: {
    coalesce: true,
    capped: true,
    note: 'a burst of 50 failures should be one message, and no phone should buzz more than the cap',
  },
};

/** The noise rule of a target type. */
export function noiseRuleFor(type: TargetType): NoiseRule {
  return NOISE_RULES[TARGET_AUDIENCE[type].audience];
}

// ---------------------------------------------------------------------------------------------------------
// Coalescing: a fixed window opened by the first failure; everything until it closes goes out together.

/** The failures of one user/target held until their window closes. */
export interface FailureWindow {
  openedAt: number;
  jobs: Job[];
}

/** When a window's message is due. */
export function windowClosesAt(window: FailureWindow, policy: NoisePolicy = DEFAULT_NOISE_POLICY): number {
  return window.openedAt + policy.coalesceWindowMs;
}

/** The message a window makes: the `job.failed` event itself for one failure, a summary for several. */
export function windowMessage(window: FailureWindow): JobEvent | FailureSummary {
  const [only] = window.jobs;
  if (window.jobs.length === 1 && only) {
    const event = jobEvent(only);
    if (event) return event;
  }
  return summarizeFailures(window.jobs);
}

/**
 * Adds one failure at `nowMs`. Joins the open window while it is open; otherwise opens a new one, and
 * hands back the message of the previous window when the caller had not flushed it yet.
 */
export function addFailure(
  window: FailureWindow | undefined,
  job: Job,
  nowMs: number,
  policy: NoisePolicy = DEFAULT_NOISE_POLICY,
): { window: FailureWindow; due?: JobEvent | FailureSummary } {
  if (window && nowMs < windowClosesAt(window, policy)) {
    return { window: { openedAt: window.openedAt, jobs: [...window.jobs, job] } };
  }
  const opened = { openedAt: nowMs, jobs: [job] };
  return window ? { window: opened, due: windowMessage(window) } : { window: opened };
}

/** Closes the window when its time has come: the message to send now, or the window kept as it is. */
export function flushWindow(
  window: FailureWindow | undefined,
  nowMs: number,
  policy: NoisePolicy = DEFAULT_NOISE_POLICY,
): { window?: FailureWindow; due?: JobEvent | FailureSummary } {
  if (!window) return {};
  if (nowMs < windowClosesAt(window, policy)) return { window };
  return { due: windowMessage(window) };
}

/**
 * Runs a whole stream of failures through the windows, one window per `key` (user/target): the messages
 * in send order, each with its send time. For tests and for replaying a backlog.
 */
export function coalesceFailures(
  stream: readonly { key: string; job: Job; at: number }[],
  policy: NoisePolicy = DEFAULT_NOISE_POLICY,
): { key: string; sendAt: number; message: JobEvent | FailureSummary }[] {
  const windows = new Map<string, FailureWindow>();
  const out: { key: string; sendAt: number; message: JobEvent | FailureSummary }[] = [];
  for (const item of [...stream].sort((a, b) => a.at - b.at)) {
    const before = windows.get(item.key);
    const closedAt = before ? windowClosesAt(before, policy) : 0;
    const { window, due } = addFailure(before, item.job, item.at, policy);
    if (due) out.push({ key: item.key, sendAt: closedAt, message: due });
    windows.set(item.key, window);
  }
  for (const [key, window] of windows) {
    out.push({ key, sendAt: windowClosesAt(window, policy), message: windowMessage(window) });
  }
  return out.sort((a, b) => a.sendAt - b.sendAt);
}

// ---------------------------------------------------------------------------------------------------------
// Hourly cap: a sliding window (at most `maxPerHour` in any 60 min), so a burst at 10:59 and one at 11:00
// cannot add up to twice the cap as a fixed clock-hour window would allow.

/** What the cap remembers for one target: the send times of the last hour, and what it held back. */
export interface CapState {
  sentAt: number[];
  suppressed: number;
}

/** The cap state of a target that has not been sent anything yet. */
export const EMPTY_CAP: Readonly<CapState> = Object.freeze({ sentAt: [], suppressed: 0 });

/** Message types the cap lets through without counting: each outage is two messages, reports are scheduled. */
export const CAP_EXEMPT: readonly NotifyMessage['type'][] = ['outage', 'report'];

export type CapDecision =
  | {
      send: true;
      state: CapState;
      /** Messages held back since the last one sent: the format mentions them. */
      suppressedBefore: number;
    }
  | {
      send: false;
      state: CapState;
      /** Epoch ms when the next message can go. */
      nextSlotAt: number;
    };

/**
 * Whether a message of `type` may go to a capped target at `nowMs`. A held-back message is not queued: it is
 * counted, the next message sent says how many were skipped, and the digest and `GET /jobs` still show them.
 */
export function admitToCap(
  state: CapState,
  type: NotifyMessage['type'],
  nowMs: number,
  policy: NoisePolicy = DEFAULT_NOISE_POLICY,
): CapDecision {
  if (CAP_EXEMPT.includes(type)) return { send: true, state, suppressedBefore: 0 };
  const recent = state.sentAt.filter((t) => t > nowMs - HOUR_MS && t <= nowMs);
  if (recent.length < policy.maxPerHour) {
    return {
      send: true,
      state: { sentAt: [...recent, nowMs], suppressed: 0 },
      suppressedBefore: state.suppressed,
    };
  }
  const oldest = Math.min(...recent);
  return {
    send: false,
    state: { sentAt: recent, suppressed: state.suppressed + 1 },
    nextSlotAt: oldest + HOUR_MS,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Outage watch: observations in, exactly one `problem` when the first cause appears and one `recovered`
// when every cause has stayed clear for `recoverQuietMs`.

/** What the watch looks at, sampled by the poller or the reporter. */
export interface OutageObservation {
  at: number;
  /** The pacer's auth circuit. */
  circuitOpen: boolean;
  circuitReason?: string;
  /** The pacer's `pausedUntil` (epoch ms, 0 when not paused). */
  pausedUntil: number;
  /** Epoch ms the oldest still-queued job was created; absent when the queue is empty. */
  oldestQueuedAt?: number;
}

export type OutageState =
  | { phase: 'clear' }
  | {
      phase: 'down';
      since: number;
      /** Causes active at the latest observation. */
      causes: OutageCause[];
      /** Every cause seen during this outage. */
      seen: OutageCause[];
      /** Since when every cause has been clear (the quiet period before `recovered`). */
      clearSince?: number;
    };

/** The watch's state when nothing is wrong (and at start). */
export const OUTAGE_CLEAR: OutageState = Object.freeze({ phase: 'clear' });

/**
 * The causes active in an observation. A flood pause counts once it is longer than the threshold and then
 * until it ends, so a long pause does not clear itself while it is merely running down.
 */
export function activeCauses(
  obs: OutageObservation,
  state: OutageState = OUTAGE_CLEAR,
  policy: NoisePolicy = DEFAULT_NOISE_POLICY,
): OutageCause[] {
  const causes: OutageCause[] = [];
  if (obs.circuitOpen) causes.push('circuitOpen');
  const remaining = obs.pausedUntil - obs.at;
  const wasFlood = state.phase === 'down' && state.causes.includes('floodPause');
  if (remaining > policy.floodPauseAlertMs || (wasFlood && remaining > 0)) causes.push('floodPause');
  if (obs.oldestQueuedAt !== undefined && obs.at - obs.oldestQueuedAt > policy.queueAgeAlertMs) {
    causes.push('queueAge');
  }
  return causes;
}

/** Feeds one observation (in time order) to the watch: the next state, and the notice to send if any. */
export function observeOutage(
  state: OutageState,
  obs: OutageObservation,
  policy: NoisePolicy = DEFAULT_NOISE_POLICY,
): { state: OutageState; notice?: OutageNotice } {
  const causes = activeCauses(obs, state, policy);
  if (state.phase === 'clear') {
    if (causes.length === 0) return { state };
    const notice: OutageNotice = { state: 'problem', causes, since: iso(obs.at) };
    if (obs.circuitOpen && obs.circuitReason) notice.detail = obs.circuitReason;
    return { state: { phase: 'down', since: obs.at, causes, seen: causes }, notice };
  }
  if (causes.length > 0) {
    const seen = [...new Set([...state.seen, ...causes])];
    return { state: { phase: 'down', since: state.since, causes, seen } };
  }
  const clearSince = state.clearSince ?? obs.at;
  if (obs.at - clearSince < policy.recoverQuietMs) {
    return { state: { ...state, causes: [], clearSince } };
  }
  return {
    state: OUTAGE_CLEAR,
    notice: { state: 'recovered', causes: state.seen, since: iso(state.since), until: iso(clearSince) },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Digest schedule, in UTC.

/** The next digest send time strictly after `afterMs`: the next full hour, or the next daily hour (UTC). */
export function nextDigestAt(
  schedule: DigestSchedule,
  afterMs: number,
  policy: NoisePolicy = DEFAULT_NOISE_POLICY,
): number | undefined {
  if (schedule === 'none') return undefined;
  if (schedule === 'hourly') return Math.floor(afterMs / HOUR_MS) * HOUR_MS + HOUR_MS;
  const today = Math.floor(afterMs / DAY_MS) * DAY_MS + policy.dailyDigestHourUtc * HOUR_MS;
  return today > afterMs ? today : today + DAY_MS;
}

/** The period a digest sent at `sendAt` covers: the hour or the day before it. */
export function digestPeriod(
  schedule: Exclude<DigestSchedule, 'none'>,
  sendAt: number,
): { from: string; to: string } {
  return { from: iso(sendAt - (schedule === 'hourly' ? HOUR_MS : DAY_MS)), to: iso(sendAt) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
