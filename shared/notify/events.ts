/**
 * What the relay tells people about: the event types, their data, the signed envelope and the message id.
 * Pure: nothing here sends, stores or reads the clock (times are in the events).
 */
import { createHash } from 'node:crypto';
import type { Job } from '../jobs/model.js';

/** Every event type a delivery can carry, as the envelope's `type` (Standard Webhooks: full-stop delimited). */
export const NOTIFY_EVENT_TYPES = ['job.done', 'job.failed', 'report', 'outage'] as const;
export type NotifyEventType = (typeof NOTIFY_EVENT_TYPES)[number];

/**
 * The event types a target subscribes to with `events`. `report` is not among them: a report is the
 * digest, and a target gets it by choosing `digest: "hourly" | "daily"`.
 */
export const SUBSCRIBABLE_EVENT_TYPES = ['job.done', 'job.failed', 'outage'] as const;
export type SubscribableEventType = (typeof SUBSCRIBABLE_EVENT_TYPES)[number];

/** How often a target gets the report digest. */
export const DIGEST_SCHEDULES = ['none', 'hourly', 'daily'] as const;
export type DigestSchedule = (typeof DIGEST_SCHEDULES)[number];

/** What stops uploads from moving, as the outage watch sees it. */
export type OutageCause =
  /** 1fichier refused the API key: the auth circuit is open and no call is made. */
  | 'circuitOpen'
  /** 1fichier flood-locked the key or IP for longer than the alert threshold. */
  | 'floodPause'
  /** The oldest queued job has waited longer than the alert threshold. */
  | 'queueAge';

/** Data of an `outage` event: one `problem` when uploads stop, one `recovered` when they move again. */
export interface OutageNotice {
  state: 'problem' | 'recovered';
  /** For `problem`, the causes seen when it started; for `recovered`, every cause seen during the outage. */
  causes: OutageCause[];
  /** ISO time the outage started. */
  since: string;
  /** ISO time it ended (`recovered` only). */
  until?: string;
  /** Extra words from the source, e.g. the circuit's reason (`Not authenticated #100`). */
  detail?: string;
}

/** One count per failure reason (`JobError.code`), largest first. */
export interface ReasonCount {
  code: string;
  count: number;
}

/** Data of a `report` event: what happened during one digest period. */
export interface ReportDigest {
  digest: Exclude<DigestSchedule, 'none'>;
  /** ISO bounds; jobs that ended at `from` ≤ `updatedAt` < `to` are counted. */
  period: { from: string; to: string };
  done: number;
  failed: number;
  failedByReason: ReasonCount[];
  /** The first uploads done in the period (at most `maxEntries`). */
  completed: { id: string; name: string; url: string; fileUrl: string }[];
  /** The first failures in the period (at most `maxEntries`). */
  failures: { id: string; name: string; url: string; code: string }[];
}

export type JobEvent =
  | { type: 'job.done'; occurredAt: string; data: Job }
  | { type: 'job.failed'; occurredAt: string; data: Job };
export type ReportEvent = { type: 'report'; occurredAt: string; data: ReportDigest };
export type OutageEvent = { type: 'outage'; occurredAt: string; data: OutageNotice };

/** One event, as it enters the notification pipeline. `occurredAt` is ISO; `data` is the envelope's data. */
export type NotifyEvent = JobEvent | ReportEvent | OutageEvent;

/**
 * Several `job.failed` events of one target folded into one message by the coalescing window.
 * Its `type` is internal: it is never an envelope type, and machine targets (webhook, Zapier) never get one.
 */
export interface FailureSummary {
  type: 'failures';
  /** ISO time of the last failure folded in. */
  occurredAt: string;
  count: number;
  byReason: ReasonCount[];
  jobs: Job[];
}

/** Anything a target can be sent. */
export type NotifyMessage = NotifyEvent | FailureSummary;

/** The body of a signed delivery (Standard Webhooks payload structure). */
export interface WebhookEnvelope<E extends NotifyEvent = NotifyEvent> {
  type: E['type'];
  /** When the event occurred (not when it was delivered: that is the `webhook-timestamp` header). */
  timestamp: string;
  data: E['data'];
}

/** The event a job's terminal state makes, or `undefined` while the job is still moving. */
export function jobEvent(job: Job): JobEvent | undefined {
  if (job.status === 'done') return { type: 'job.done', occurredAt: job.updatedAt, data: job };
  if (job.status === 'failed') return { type: 'job.failed', occurredAt: job.updatedAt, data: job };
  return undefined;
}

/** The signed envelope `{type, timestamp, data}` of an event. */
export function toEnvelope<E extends NotifyEvent>(event: E): WebhookEnvelope<E> {
  return { type: event.type, timestamp: event.occurredAt, data: event.data };
}

/** Counts of failures per `error.code` (`unknown` when a failed job has none), largest first, then by code. */
export function countReasons(jobs: readonly Pick<Job, 'error'>[]): ReasonCount[] {
  const counts = new Map<string, number>();
  for (const job of jobs) {
    const code = job.error?.code || 'unknown';
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return [...counts]
    .map(([code, count]) => ({ code, count }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/** Folds failed jobs into one {@link FailureSummary}; `occurredAt` is the latest `updatedAt`. */
export function summarizeFailures(jobs: readonly Job[]): FailureSummary {
  let occurredAt = '';
  // ISO times in UTC compare as strings.
  for (const j of jobs) if (j.updatedAt > occurredAt) occurredAt = j.updatedAt;
  return { type: 'failures', occurredAt, count: jobs.length, byReason: countReasons(jobs), jobs: [...jobs] };
}

/**
 * The report digest of one period from the jobs that ended in it (`from` ≤ `updatedAt` < `to`); other jobs
 * are ignored, so the caller may pass a superset.
 */
export function buildReportDigest(input: {
  digest: ReportDigest['digest'];
  period: { from: string; to: string };
  jobs: readonly Job[];
  /** @default 20 */
  maxEntries?: number;
}): ReportDigest {
  const max = input.maxEntries ?? 20;
  const from = Date.parse(input.period.from);
  const to = Date.parse(input.period.to);
  const inPeriod = input.jobs.filter((j) => {
    const at = Date.parse(j.updatedAt);
    return at >= from && at < to;
  });
  const done = inPeriod.filter((j) => j.status === 'done');
  const failed = inPeriod.filter((j) => j.status === 'failed');
  return {
    digest: input.digest,
    period: { from: input.period.from, to: input.period.to },
    done: done.length,
    failed: failed.length,
    failedByReason: countReasons(failed),
    completed: done
      .slice(0, max)
      .map((j) => ({ id: j.id, name: fileNameOf(j), url: j.url, fileUrl: j.fileUrl ?? '' })),
    failures: failed
      .slice(0, max)
      .map((j) => ({ id: j.id, name: fileNameOf(j), url: j.url, code: j.error?.code || 'unknown' })),
  };
}

/** A `report` event for a digest: it occurs at the end of its period. */
export function reportEvent(digest: ReportDigest): ReportEvent {
  return { type: 'report', occurredAt: digest.period.to, data: digest };
}

/** An `outage` event: a problem occurs when it starts, a recovery when it ends. */
export function outageEvent(notice: OutageNotice): OutageEvent {
  return { type: 'outage', occurredAt: notice.until ?? notice.since, data: notice };
}

/**
 * A name people recognise for a job's file: the last path segment of the source URL, percent-decoded,
 * or the host when the path is empty. 1fichier's own links (`https://1fichier.com/?abc`) carry no name.
 */
export function fileNameOf(job: Pick<Job, 'url'>): string {
  let url: URL;
  try {
    url = new URL(job.url);
  } catch {
    return job.url;
  }
  const last = url.pathname.split('/').filter(Boolean).pop();
  if (!last) return url.hostname;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/**
 * What makes a message unique for a target. A job that fails, is retried and fails again has a new
 * `updatedAt`, so the second failure is a new message rather than a duplicate the consumer drops.
 */
export function messageKey(message: NotifyMessage): string {
  switch (message.type) {
    case 'job.done':
    case 'job.failed':
      return `${message.type}/${message.data.id}/${message.data.updatedAt}`;
    case 'report':
      return `report/${message.data.digest}/${message.data.period.from}/${message.data.period.to}`;
    case 'outage':
      return `outage/${message.data.state}/${message.data.since}`;
    case 'failures': {
      const parts = message.jobs.map((j) => `${j.id}@${j.updatedAt}`).sort();
      return `failures/${sha256Hex(parts.join('\n'))}`;
    }
  }
}

/**
 * The `webhook-id` of a message for a target: `msg_` + 32 hex digits of SHA-256 over (target, message key).
 * The same on every retry, so the consumer can use it as an idempotency key (Standard Webhooks); never
 * contains `.`, which the signed content `{id}.{timestamp}.{body}` uses as its delimiter.
 */
export function messageIdFor(targetId: string, message: NotifyMessage): string {
  return `msg_${sha256Hex(`${targetId}\n${messageKey(message)}`).slice(0, 32)}`;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
