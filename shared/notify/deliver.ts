/**
 * Use-cases of the delivery path: turning a job's end into delivery messages (`planJobEvent`), and making
 * one attempt of one message (`processDelivery`): find the recipient, apply the noise rules, sign, send
 * through the SSRF guard, record the outcome, and say when to try again. The same code runs in the
 * deliveries Lambda (SQS) and in the local runtime. docs/pipeline.md "Notifications" says what it costs.
 */
import { createHash } from 'node:crypto';
import type { RelayLogger } from '../app/deps.js';
import type { Clock } from '../fichier/clock.js';
import { presentJob } from '../http/present.js';
import type { Job } from '../jobs/model.js';
import type { JobRecord, JobStore } from '../jobs/store.js';
import type { DeliveryPolicy } from './delivery-policy.js';
import { decideDelivery } from './delivery-policy.js';
import {
  type FailureSummary,
  type JobEvent,
  jobEvent,
  messageIdFor,
  type NotifyEvent,
  type NotifyMessage,
} from './events.js';
import {
  buildRequest,
  type FormatContext,
  formatWebhook,
  formatZapier,
  type NotifyRequest,
  withSignature,
} from './formats.js';
import { admitToCap, type CapState, type NoisePolicy, noiseRuleFor, windowMessage } from './noise.js';
import { redactText } from './redact.js';
import type { DeliverySender } from './send.js';
import { activeSigningSecrets, generateSigningSecret } from './sign.js';
import type {
  DeliveryRecord,
  DeliveryStatus,
  DeliveryStore,
  OutageStore,
  Recipient,
  SigningSecretStore,
  StoredTarget,
  SubscriptionStore,
  TargetStore,
} from './store.js';
import { wantsEvent } from './target-rules.js';
import type { Target, TargetConfig } from './targets.js';

/** One message on the deliveries queue: what to send to whom, and how far its retries are. */
export interface DeliveryMessage {
  v: 1;
  userId: string;
  to: Recipient;
  event: NotifyEvent;
  /** Attempts made so far. */
  attempts: number;
  /** Epoch ms of the first attempt (absent before it). */
  firstAttemptAt?: number;
  /** Epoch ms before which the message must not be tried (SQS delays stop at 15 min). */
  notBefore?: number;
  /** `POST /notifications/{id}/test`: one attempt, no cap, no retry, the answer kept in the record. */
  test?: boolean;
  /** The record's attempt count this message saw while another message carried the retries. */
  watch?: number;
}

/** How long past a retry's due time a watching message waits before it takes the delivery over. */
export const TAKEOVER_GRACE_MS = 5 * 60_000;

/** Sends delivery messages to the deliveries queue. */
export interface DeliveryQueue {
  /** Sends each message, hidden for `delayS` seconds (at most 900, SQS's limit). */
  send(items: readonly { message: DeliveryMessage; delayS?: number }[]): Promise<void>;
}

/** Longest SQS message delay. */
export const MAX_QUEUE_DELAY_S = 900;

/** Base URLs of the fixed-host services, replaceable so a local test can stand a loopback server in. */
export interface ServiceUrls {
  /** @default 'https://maker.ifttt.com' */
  ifttt?: string;
  /** @default 'https://api.telegram.org' */
  telegram?: string;
}

/** What the delivery use-cases need. */
export interface NotifyServices {
  targets: TargetStore;
  deliveries: DeliveryStore;
  secrets: SigningSecretStore;
  subscriptions: SubscriptionStore;
  queue: DeliveryQueue;
  send: DeliverySender;
  delivery: DeliveryPolicy;
  noise: NoisePolicy;
  serviceUrls: ServiceUrls;
  /** The relay's status page, linked from messages without a file link. */
  statusUrl?: string;
  /** The outage watch's state (read and written by the poller's watches). */
  outages: OutageStore;
  /** Whether a user has anything that wants job events (cached per instance). */
  wantsJobEvents(userId: string): Promise<boolean>;
  /** Forgets the cached answer for a user (after a change made by this instance). */
  forget(userId: string): void;
}

/** Deps of the delivery use-cases. */
export interface DeliveryDeps {
  notify: NotifyServices;
  /** The job store, read only: the coalescing window lists the user's recent failures. */
  store: Pick<JobStore, 'listForUser'>;
  clock: Pick<Clock, 'now'>;
  logger: RelayLogger;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The delivery messages a job's end makes: one to its `callbackUrl`, one per target that wants the event,
 * one per REST-hook subscription of that event. None while the job is still moving.
 */
export async function planJobEvent(
  job: JobRecord,
  deps: { notify: Pick<NotifyServices, 'targets' | 'subscriptions'> },
): Promise<DeliveryMessage[]> {
  const event = jobEvent(presentJob(job));
  if (!event) return [];
  const base = { v: 1 as const, userId: job.userId, event, attempts: 0 };
  const out: DeliveryMessage[] = [];
  if (job.callbackUrl) out.push({ ...base, to: { kind: 'callback' } });
  const [targets, subs] = await Promise.all([
    deps.notify.targets.listTargets(job.userId),
    deps.notify.subscriptions.listSubscriptions(job.userId),
  ]);
  for (const t of targets)
    if (wantsEvent(t.config, event.type)) out.push({ ...base, to: { kind: 'target', id: t.id } });
  for (const s of subs)
    if (s.event === event.type) out.push({ ...base, to: { kind: 'subscription', id: s.id } });
  return out;
}

/** Whether any recipient wants job events: a per-instance cache over the user's settings. */
export function cachedJobEventLookup(
  load: (userId: string) => Promise<{ targets: StoredTarget[]; subscriptions: number }>,
  clock: Pick<Clock, 'now'>,
  ttlMs = 60_000,
): Pick<NotifyServices, 'wantsJobEvents' | 'forget'> {
  const cache = new Map<string, { wants: boolean; until: number }>();
  return {
    async wantsJobEvents(userId) {
      const now = clock.now();
      const hit = cache.get(userId);
      if (hit && hit.until > now) return hit.wants;
      const { targets, subscriptions } = await load(userId);
      const wants =
        subscriptions > 0 ||
        targets.some((t) => wantsEvent(t.config, 'job.done') || wantsEvent(t.config, 'job.failed'));
      if (cache.size >= 1000) cache.delete(cache.keys().next().value as string);
      cache.set(userId, { wants, until: now + ttlMs });
      return wants;
    },
    forget(userId) {
      cache.delete(userId);
    },
  };
}

/** What became of one attempt of a message. */
export type DeliveryStep =
  /** Nothing more to do (delivered, failed, gone, suppressed, recipient removed, already handled). */
  | { kind: 'settled'; status: DeliveryStatus | 'dropped' | 'duplicate' }
  /** Send `message` again after `delayS` seconds. */
  | { kind: 'later'; message: DeliveryMessage; delayS: number };

/** A recipient resolved to something a format can address. */
interface Resolved {
  target: Target;
  via: string;
  /** The config whose secrets are redacted from log lines. */
  config: TargetConfig;
  signed: boolean;
  person: boolean;
}

async function resolve(msg: DeliveryMessage, deps: DeliveryDeps): Promise<Resolved | undefined> {
  const { to } = msg;
  if (to.kind === 'callback') {
    const url =
      msg.event.type === 'job.done' || msg.event.type === 'job.failed'
        ? msg.event.data.callbackUrl
        : undefined;
    if (!url) return undefined;
    const target: Target = {
      type: 'webhook',
      id: 'callback',
      url,
      events: ['job.done', 'job.failed'],
      digest: 'none',
    };
    return { target, via: 'callback', config: target, signed: true, person: false };
  }
  if (to.kind === 'subscription') {
    const sub = await deps.notify.subscriptions.getSubscription(msg.userId, to.id);
    if (!sub) return undefined;
    const target: Target = {
      type: 'zapier',
      id: sub.id,
      url: sub.targetUrl,
      events: [sub.event],
      digest: 'none',
    };
    return {
      target,
      via: 'subscription',
      config: { type: 'webhook', url: sub.targetUrl, events: [sub.event], digest: 'none' },
      signed: true,
      person: false,
    };
  }
  const stored = await deps.notify.targets.getTarget(msg.userId, to.id);
  if (!stored) return undefined;
  const target = { ...stored.config, id: stored.id } as Target;
  return {
    target,
    via: stored.config.type,
    config: stored.config,
    signed: stored.config.type === 'webhook',
    person: noiseRuleFor(stored.config.type).coalesce,
  };
}

/** The message id of a coalescing window: the same for every failure in it, so one of them sends. */
export function windowMessageId(targetId: string, windowStart: number): string {
  const hex = createHash('sha256').update(`${targetId}\nfailures/${windowStart}`).digest('hex');
  return `msg_${hex.slice(0, 32)}`;
}

function requestFor(
  r: Resolved,
  message: NotifyMessage,
  ctx: FormatContext,
  urls: ServiceUrls,
): NotifyRequest {
  let req: NotifyRequest;
  if (r.via === 'callback') req = formatWebhook(r.target as Extract<Target, { type: 'webhook' }>, message);
  else if (r.via === 'subscription')
    req = { ...formatZapier(r.target as Extract<Target, { type: 'zapier' }>, message), signed: true };
  else req = buildRequest(r.target, message, ctx);
  const swap = (from: string, to: string | undefined) => {
    if (to && req.url.startsWith(`${from}/`))
      req = { ...req, url: to.replace(/\/+$/, '') + req.url.slice(from.length) };
  };
  swap('https://maker.ifttt.com', urls.ifttt);
  swap('https://api.telegram.org', urls.telegram);
  return req;
}

/** The user's failed jobs that ended in `[from, to)`, newest first (read from the job store). */
async function failuresBetween(deps: DeliveryDeps, userId: string, from: number, to: number): Promise<Job[]> {
  const page = await deps.store.listForUser(userId, { status: 'failed', limit: 100 });
  return page.items
    .filter((j) => {
      const at = Date.parse(j.updatedAt);
      return at >= from && at < to;
    })
    .map(presentJob);
}

/** The cap state of a target from the delivery log of the last hour (reads only). */
async function capStateOf(
  deps: DeliveryDeps,
  userId: string,
  targetId: string,
  now: number,
): Promise<CapState> {
  // A day back: messages skipped since the last one sent count even when that one is over an hour old.
  const recent = await deps.notify.deliveries.listDeliveries(userId, {
    limit: 500,
    since: iso(now - 24 * 3_600_000),
  });
  const mine = recent
    .filter(
      (d) =>
        d.recipient.kind === 'target' &&
        d.recipient.id === targetId &&
        d.event !== 'outage' &&
        d.event !== 'report',
    )
    .sort((a, b) => a.lastAttemptAt.localeCompare(b.lastAttemptAt));
  const sentAt = mine.filter((d) => d.status === 'delivered').map((d) => Date.parse(d.lastAttemptAt));
  const lastSent = sentAt.length ? Math.max(...sentAt) : 0;
  const suppressed = mine.filter(
    (d) => d.status === 'suppressed' && Date.parse(d.lastAttemptAt) >= lastSent,
  ).length;
  return { sentAt, suppressed };
}

/**
 * Makes one attempt of one message at `clock.now()`. Idempotent: a message whose record says it is settled
 * is not sent again, so a redelivered queue message or a replayed job end sends nothing twice.
 * @returns what to do with the queue message: settle it, or send it again after a delay.
 */
export async function processDelivery(msg: DeliveryMessage, deps: DeliveryDeps): Promise<DeliveryStep> {
  const now = deps.clock.now();
  if (msg.notBefore !== undefined && msg.notBefore > now) {
    return {
      kind: 'later',
      message: msg,
      delayS: Math.min(MAX_QUEUE_DELAY_S, Math.ceil((msg.notBefore - now) / 1000)),
    };
  }
  const r = await resolve(msg, deps);
  if (!r) return { kind: 'settled', status: 'dropped' };

  // What is sent, under which id, keyed by which time.
  let message: NotifyMessage = msg.event;
  let id = messageIdFor(r.target.id, msg.event);
  let occurredAt = msg.event.occurredAt;
  const jobId =
    msg.event.type === 'job.done' || msg.event.type === 'job.failed' ? msg.event.data.id : undefined;
  if (r.person && msg.event.type === 'job.failed') {
    // Coalescing in clock-aligned windows: every failure of the window waits for its end, then the first
    // one processed sends the window's message and the others find its record.
    const window = deps.notify.noise.coalesceWindowMs;
    const start = Math.floor(Date.parse(msg.event.occurredAt) / window) * window;
    const end = start + window;
    if (now < end) {
      return {
        kind: 'later',
        message: { ...msg, notBefore: end },
        delayS: Math.max(1, Math.ceil((end - now) / 1000)),
      };
    }
    const failed = msg.event.data;
    const jobs = await failuresBetween(deps, msg.userId, start, end);
    if (!jobs.some((j) => j.id === failed.id)) jobs.push(failed);
    message = windowMessage({ openedAt: start, jobs }) as JobEvent | FailureSummary;
    id = windowMessageId(r.target.id, start);
    occurredAt = iso(start);
  }

  const before = await deps.notify.deliveries.getDelivery(msg.userId, occurredAt, id);
  if (before && before.status !== 'retrying') return { kind: 'settled', status: 'duplicate' };
  if (before && msg.attempts < before.attempts) {
    // Another message carries this delivery's retries (the other failures of a coalescing window, or a
    // replayed job end). Watch it, and take over only if it made no progress by its next attempt plus a
    // grace: one retry chain per message, yet a carrier lost in a crash is replaced.
    const due = before.nextAttemptAt ? Date.parse(before.nextAttemptAt) : now;
    const takeoverAt = due + TAKEOVER_GRACE_MS;
    if (msg.watch !== before.attempts || now < takeoverAt) {
      const next = { ...msg, watch: before.attempts, notBefore: Math.max(takeoverAt, now + 1000) };
      return {
        kind: 'later',
        message: next,
        delayS: Math.min(MAX_QUEUE_DELAY_S, Math.ceil((next.notBefore - now) / 1000)),
      };
    }
  }
  const attempts = Math.max(msg.attempts, before?.attempts ?? 0) + 1;
  const firstAttemptAt = msg.firstAttemptAt ?? (before ? Date.parse(before.firstAttemptAt) : now);
  const record: DeliveryRecord = {
    id,
    userId: msg.userId,
    recipient: msg.to,
    via: r.via,
    event: message.type,
    ...(jobId && message.type !== 'failures' ? { jobId } : {}),
    occurredAt,
    status: 'retrying',
    attempts,
    firstAttemptAt: iso(firstAttemptAt),
    lastAttemptAt: iso(now),
  };

  const ctx: FormatContext = deps.notify.statusUrl ? { statusUrl: deps.notify.statusUrl } : {};
  if (r.person && noiseRuleFor(r.target.type).capped && !msg.test) {
    const cap = admitToCap(
      await capStateOf(deps, msg.userId, r.target.id, now),
      message.type,
      now,
      deps.notify.noise,
    );
    if (!cap.send) {
      await deps.notify.deliveries.putDelivery({
        ...record,
        status: 'suppressed',
        attempts: 0,
        note: 'hourly limit reached',
      });
      deps.logger.info('delivery suppressed', { deliveryId: id, via: r.via, userId: msg.userId });
      return { kind: 'settled', status: 'suppressed' };
    }
    if (cap.suppressedBefore > 0) ctx.suppressed = cap.suppressedBefore;
  }

  let request = requestFor(r, message, ctx, deps.notify.serviceUrls);
  if (request.signed) {
    const secrets = await deps.notify.secrets.getOrCreate(msg.userId, () => generateSigningSecret());
    request = withSignature(request, {
      timestamp: new Date(now),
      secrets: activeSigningSecrets(secrets, now),
    });
  }
  const result = await deps.notify.send(request, { operation: `${r.via} delivery` });
  const decision = decideDelivery({
    answer: result.answer,
    attempts,
    firstAttemptAt,
    nowMs: now,
    policy: deps.notify.delivery,
  });
  const retry = decision.outcome === 'retry' && !msg.test;
  const status: DeliveryStatus =
    decision.outcome === 'retry' ? (retry ? 'retrying' : 'failed') : decision.outcome;
  const note = redactText(result.error ? `${decision.note}: ${result.error}` : decision.note, r.config);
  const done: DeliveryRecord = {
    ...record,
    status,
    ...(result.answer.kind === 'http' ? { lastStatus: result.answer.status } : {}),
    ...(status === 'delivered' ? {} : { note: note.slice(0, 300) }),
    ...(retry && decision.outcome === 'retry' ? { nextAttemptAt: iso(decision.retryAt) } : {}),
    ...(msg.test && result.body ? { answer: redactText(result.body.slice(0, 300), r.config) } : {}),
  };
  await deps.notify.deliveries.putDelivery(done);
  if (decision.outcome === 'gone' && msg.to.kind === 'subscription') {
    await deps.notify.subscriptions.deleteSubscription(msg.userId, msg.to.id);
    deps.notify.forget(msg.userId);
  }
  deps.logger.info('delivery attempt', {
    deliveryId: id,
    via: r.via,
    userId: msg.userId,
    status,
    attempts,
    ...(done.lastStatus !== undefined ? { httpStatus: done.lastStatus } : {}),
    ...(done.note ? { note: done.note } : {}),
  });
  if (!retry || decision.outcome !== 'retry') return { kind: 'settled', status };
  const { watch: _watched, ...carried } = msg;
  const next: DeliveryMessage = { ...carried, attempts, firstAttemptAt, notBefore: decision.retryAt };
  return {
    kind: 'later',
    message: next,
    delayS: Math.min(MAX_QUEUE_DELAY_S, Math.max(1, Math.ceil(decision.delayMs / 1000))),
  };
}

/** A job like the ones the relay reports, for test messages and REST-hook samples. */
export function sampleJob(now: number): Job {
  const at = iso(now);
  return {
    id: 'job_test',
    url: 'https://files.example.com/pub/relay-test.txt',
    status: 'done',
    folder: '',
    source: 'api',
    createdAt: at,
    updatedAt: at,
    attempts: 1,
    remoteId: 1,
    fileUrl: 'https://1fichier.com/?relaytest',
  };
}
