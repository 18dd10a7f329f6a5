/**
 * One function per target type turning a message into the HTTP request that service documents
 * (docs/notifications.md cites each). The wording is decided once, in {@link cardOf}; each format only lays
 * it out, escapes it for its markup and keeps it within the service's limits. Pure: the sender adds the
 * per-attempt signature ({@link withSignature}) and does the I/O.
 */
import { UnsupportedMessageError } from './errors.js';
import {
  type FailureSummary,
  fileNameOf,
  type JobEvent,
  messageIdFor,
  type NotifyMessage,
  type OutageCause,
  type OutageNotice,
  type ReasonCount,
  type ReportDigest,
  toEnvelope,
} from './events.js';
import { signDelivery } from './sign.js';
import type { Target, TargetOf } from './targets.js';

/** An HTTP request ready to send. */
export interface NotifyRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  /** The serialised body: for signed requests, exactly the bytes that are signed. */
  body: string;
  /** Deterministic per (target, message): the `webhook-id` of signed requests, the delivery's key otherwise. */
  messageId: string;
  /** The sender must add the Standard Webhooks headers on each attempt ({@link withSignature}). */
  signed: boolean;
}

/** What a format needs besides the message. */
export interface FormatContext {
  /** The relay's status page, linked from messages that have no file link. */
  statusUrl?: string;
  /** How many messages the hourly cap held back since the last one this target got. */
  suppressed?: number;
}

/** The message in neutral terms; every format renders this and only this. */
export interface MessageCard {
  status: 'done' | 'failed' | 'report' | 'problem' | 'recovered';
  /** One short line. */
  title: string;
  /** One sentence saying what happened. */
  summary: string;
  /** More lines of plain text (never URLs: each format renders `link` its own way). */
  details: string[];
  link?: { url: string; label: string };
  /** ISO time of the event. */
  occurredAt: string;
}

const USER_AGENT = 'fichier-relay (notifications)';
const JSON_HEADERS = { 'content-type': 'application/json', 'user-agent': USER_AGENT };

/** A JSON POST to a target, with the message id that stays the same across retries. */
function postJson(
  url: string,
  body: unknown,
  targetId: string,
  message: NotifyMessage,
  opts: { signed?: boolean; headers?: Record<string, string> } = {},
): NotifyRequest {
  return {
    method: 'POST',
    url,
    headers: opts.headers ?? { ...JSON_HEADERS },
    body: JSON.stringify(body),
    messageId: messageIdFor(targetId, message),
    signed: opts.signed === true,
  };
}

/** Most lines listing files in a coalesced message or a report. */
const MAX_LISTED = 10;

const CAUSE_SHORT: Record<OutageCause, string> = {
  circuitOpen: 'API key refused',
  floodPause: 'flood lock',
  queueAge: 'queue stalled',
};
const CAUSE_TEXT: Record<OutageCause, string> = {
  circuitOpen: '1fichier refused the API key; nothing is sent until the key is fixed or an admin resets it',
  floodPause: '1fichier flood-locked the key or IP; every call is paused',
  queueAge: 'uploads have been waiting in the queue for over an hour',
};

/** `10 × notFound, 2 × rejected`. */
export function formatReasons(byReason: readonly ReasonCount[]): string {
  return byReason.map((r) => `${r.count} × ${r.code}`).join(', ');
}

/** `42 min`, `3 h 5 min`, `2 d 3 h`; under a minute is `<1 min`. */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return '<1 min';
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return `${m} min`;
}

function formatTime(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'an unreadable URL';
  }
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function statusLink(ctx: FormatContext): MessageCard['link'] {
  return ctx.statusUrl ? { url: ctx.statusUrl, label: 'Open the relay' } : undefined;
}

// Source URLs are shown by host only: they may be signed URLs whose query string is a credential.
function jobCard(event: JobEvent, ctx: FormatContext): MessageCard {
  const job = event.data;
  const name = fileNameOf(job);
  const from = `From: ${hostOf(job.url)}`;
  if (event.type === 'job.done') {
    const details = job.folder ? [`Folder: ${job.folder}`, from] : [from];
    return {
      status: 'done',
      title: `Upload done: ${name}`,
      summary: `${name} is in your 1fichier account.`,
      details,
      link: job.fileUrl ? { url: job.fileUrl, label: 'Open on 1fichier' } : statusLink(ctx),
      occurredAt: event.occurredAt,
    };
  }
  const reason = job.error ? `${job.error.code}: ${job.error.message}` : 'no reason recorded';
  return {
    status: 'failed',
    title: `Upload failed: ${name}`,
    summary: reason,
    details: [from, `Attempts: ${job.attempts}`],
    link: statusLink(ctx),
    occurredAt: event.occurredAt,
  };
}

function failuresCard(summary: FailureSummary, ctx: FormatContext): MessageCard {
  const listed = summary.jobs
    .slice(0, MAX_LISTED)
    .map((j) => `${fileNameOf(j)} — ${j.error?.code || 'unknown'}`);
  if (summary.count > listed.length) listed.push(`…and ${summary.count - listed.length} more`);
  return {
    status: 'failed',
    title: `${plural(summary.count, 'upload', 'uploads')} failed`,
    summary: `${plural(summary.count, 'upload', 'uploads')} failed: ${formatReasons(summary.byReason)}`,
    details: listed,
    link: statusLink(ctx),
    occurredAt: summary.occurredAt,
  };
}

function reportCard(digest: ReportDigest, occurredAt: string, ctx: FormatContext): MessageCard {
  const label = digest.digest === 'hourly' ? 'Hourly' : 'Daily';
  const reasons = digest.failed > 0 ? ` (${formatReasons(digest.failedByReason)})` : '';
  const details = [
    `From ${formatTime(digest.period.from)} to ${formatTime(digest.period.to)}`,
    ...digest.completed.slice(0, MAX_LISTED).map((c) => `Done: ${c.name}`),
    ...digest.failures.slice(0, MAX_LISTED).map((f) => `Failed: ${f.name} — ${f.code}`),
  ];
  const listed = Math.min(digest.completed.length, MAX_LISTED) + Math.min(digest.failures.length, MAX_LISTED);
  if (digest.done + digest.failed > listed) details.push(`…and ${digest.done + digest.failed - listed} more`);
  return {
    status: 'report',
    title: `${label} report: ${digest.done} done, ${digest.failed} failed`,
    summary:
      digest.done + digest.failed === 0
        ? 'No upload ended in this period.'
        : `${plural(digest.done, 'upload', 'uploads')} done, ${digest.failed} failed${reasons}.`,
    details,
    link: statusLink(ctx),
    occurredAt,
  };
}

function outageCard(notice: OutageNotice, occurredAt: string, ctx: FormatContext): MessageCard {
  const short = notice.causes.map((c) => CAUSE_SHORT[c]).join(', ');
  if (notice.state === 'problem') {
    const details = [`Since ${formatTime(notice.since)}`];
    if (notice.detail) details.push(notice.detail);
    return {
      status: 'problem',
      title: `Uploads paused: ${short}`,
      summary: `${notice.causes.map((c) => CAUSE_TEXT[c]).join('; ')}.`,
      details,
      link: statusLink(ctx),
      occurredAt,
    };
  }
  const until = notice.until ?? occurredAt;
  const pausedFor = formatDuration(Date.parse(until) - Date.parse(notice.since));
  return {
    status: 'recovered',
    title: 'Uploads running again',
    summary: `Uploads were paused for ${pausedFor} (${short}) and are moving again.`,
    details: [`From ${formatTime(notice.since)} to ${formatTime(until)}`],
    link: statusLink(ctx),
    occurredAt,
  };
}

/** The neutral wording of a message, shared by every format. */
export function cardOf(message: NotifyMessage, ctx: FormatContext = {}): MessageCard {
  let card: MessageCard;
  switch (message.type) {
    case 'job.done':
    case 'job.failed':
      card = jobCard(message, ctx);
      break;
    case 'failures':
      card = failuresCard(message, ctx);
      break;
    case 'report':
      card = reportCard(message.data, message.occurredAt, ctx);
      break;
    case 'outage':
      card = outageCard(message.data, message.occurredAt, ctx);
      break;
  }
  if (ctx.suppressed && ctx.suppressed > 0) {
    card.details.push(
      `${plural(ctx.suppressed, 'earlier notification was', 'earlier notifications were')} skipped: hourly limit reached`,
    );
  }
  return card;
}

/** Cuts `text` to at most `max` UTF-16 units, ending with `…`, never splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = Math.max(0, max - 1);
  const code = text.charCodeAt(cut - 1);
  if (cut > 0 && code >= 0xd800 && code <= 0xdbff) cut--;
  return `${text.slice(0, cut)}…`;
}

/** Cuts `text` to at most `maxBytes` bytes of UTF-8, ending with `…`, on a code point boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const budget = maxBytes - 3; // the ellipsis takes 3 bytes
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > budget) break;
    bytes += size;
    out += ch;
  }
  return `${out}…`;
}

function unsupportedForMachines(type: string, message: NotifyMessage): never {
  throw new UnsupportedMessageError(
    `${type} targets get one delivery per job: a ${message.type} summary is only for chat and push targets`,
  );
}

/** Generic webhook: POST the signed envelope `{type, timestamp, data}` (Standard Webhooks). */
export function formatWebhook(target: TargetOf<'webhook'>, message: NotifyMessage): NotifyRequest {
  if (message.type === 'failures') unsupportedForMachines('webhook', message);
  return postJson(target.url, toEnvelope(message), target.id, message, { signed: true });
}

/** Zapier Catch Hook: a job event as the job JSON itself (what the Zap maps); reports and outages as the envelope. */
export function formatZapier(target: TargetOf<'zapier'>, message: NotifyMessage): NotifyRequest {
  if (message.type === 'failures') unsupportedForMachines('zapier', message);
  const body =
    message.type === 'job.done' || message.type === 'job.failed' ? message.data : toEnvelope(message);
  return postJson(target.url, body, target.id, message);
}

/** Discord's documented limits for execute-webhook messages. */
export const DISCORD_LIMITS = {
  content: 2000,
  embedTitle: 256,
  embedDescription: 4096,
  embedTotal: 6000,
} as const;
// Discord's brand palette (green, red, blurple, yellow).
const DISCORD_COLORS: Record<MessageCard['status'], number> = {
  done: 0x57f287,
  failed: 0xed4245,
  report: 0x5865f2,
  problem: 0xfee75c,
  recovered: 0x57f287,
};

/** Backslash-escapes Discord markdown so file names render as typed; `<` stops mention and emoji syntax. */
export function escapeDiscord(text: string): string {
  return text.replace(/[\\*_~`|[\]<>]/g, '\\$&').replace(/^([#>-])/gm, '\\$1');
}

function discordLink(link: NonNullable<MessageCard['link']>): string {
  return `[${escapeDiscord(link.label)}](${link.url.replace(/[()\s]/g, encodeURIComponent)})`;
}

/**
 * Discord execute webhook: `{content, embeds: [one embed], allowed_mentions}`. The embed links the file
 * (`url`), is coloured by status and stays within the embed limits; `allowed_mentions.parse: []` keeps a
 * file named `@everyone` from pinging anyone.
 */
export function formatDiscord(
  target: TargetOf<'discord'>,
  message: NotifyMessage,
  ctx: FormatContext = {},
): NotifyRequest {
  const card = cardOf(message, ctx);
  const linkLine = card.link ? `\n\n${discordLink(card.link)}` : '';
  const text = [escapeDiscord(card.summary), ...card.details.map(escapeDiscord)].join('\n');
  const description = truncate(text, DISCORD_LIMITS.embedDescription - linkLine.length) + linkLine;
  const embed: Record<string, unknown> = {
    title: truncate(card.title, DISCORD_LIMITS.embedTitle),
    description,
    color: DISCORD_COLORS[card.status],
    timestamp: card.occurredAt,
    footer: { text: 'fichier-relay' },
  };
  if (card.link) embed.url = card.link.url;
  const body = {
    username: 'fichier-relay',
    content: truncate(escapeDiscord(card.title), DISCORD_LIMITS.content),
    embeds: [embed],
    allowed_mentions: { parse: [] },
  };
  return postJson(target.url, body, target.id, message);
}

/** One line for notification previews: the summary, after the title unless it already says it. */
function fallbackText(card: MessageCard): string {
  return card.summary.startsWith(card.title) ? card.summary : `${card.title}: ${card.summary}`;
}

/** Slack's limits for a section block's text and a message's fallback text. */
export const SLACK_LIMITS = { sectionText: 3000, contextText: 3000 } as const;

/** Slack's three control characters (`<!channel>` would ping everyone), escaped as HTML entities. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Slack incoming webhook: `{text, blocks}` with one `section` (mrkdwn) and one `context` block. `text` is the
 * fallback Slack shows in notifications.
 */
export function formatSlack(
  target: TargetOf<'slack'>,
  message: NotifyMessage,
  ctx: FormatContext = {},
): NotifyRequest {
  const card = cardOf(message, ctx);
  const section = truncate(
    [`*${escapeSlack(card.title)}*`, escapeSlack(card.summary), ...card.details.map(escapeSlack)].join('\n'),
    SLACK_LIMITS.sectionText,
  );
  const context = [`fichier-relay · ${formatTime(card.occurredAt)}`];
  if (card.link) {
    const url = escapeSlack(card.link.url).replace(/\|/g, '%7C');
    context.unshift(`<${url}|${escapeSlack(card.link.label)}>`);
  }
  const body = {
    text: truncate(escapeSlack(fallbackText(card)), SLACK_LIMITS.sectionText),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: section } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: truncate(context.join(' · '), SLACK_LIMITS.contextText) }],
      },
    ],
  };
  return postJson(target.url, body, target.id, message);
}

/** Telegram's limit: "1-4096 characters after entities parsing". */
export const TELEGRAM_TEXT_MAX = 4096;

/** Telegram HTML parse mode: `<`, `>`, `&` (and `"` inside attributes) must be entities. */
export function escapeTelegramHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Telegram Bot API `sendMessage`: `{chat_id, text, parse_mode: "HTML", link_preview_options}`. The visible
 * text (tags do not count) stays within 4096 characters; the preview is off so a link does not turn a short
 * notice into a large card.
 */
export function formatTelegram(
  target: TargetOf<'telegram'>,
  message: NotifyMessage,
  ctx: FormatContext = {},
): NotifyRequest {
  const card = cardOf(message, ctx);
  const title = truncate(card.title, 256);
  const label = card.link?.label ?? '';
  const fixed = title.length + 1 + (card.link ? 1 + label.length : 0);
  const rest = truncate([card.summary, ...card.details].join('\n'), TELEGRAM_TEXT_MAX - fixed);
  let text = `<b>${escapeTelegramHtml(title)}</b>\n${escapeTelegramHtml(rest)}`;
  if (card.link) text += `\n<a href="${escapeTelegramHtml(card.link.url)}">${escapeTelegramHtml(label)}</a>`;
  const body = {
    chat_id: target.chatId,
    text,
    parse_mode: 'HTML',
    link_preview_options: { is_disabled: true },
  };
  return postJson(`https://api.telegram.org/bot${target.botToken}/sendMessage`, body, target.id, message);
}

/** ntfy's default `message-size-limit`: longer messages become attachments or are refused. */
export const NTFY_MESSAGE_MAX_BYTES = 4096;
const NTFY_STYLE: Record<MessageCard['status'], { tags: string[]; priority: number }> = {
  done: { tags: ['white_check_mark'], priority: 3 },
  failed: { tags: ['x'], priority: 4 },
  report: { tags: ['bar_chart'], priority: 2 },
  problem: { tags: ['warning'], priority: 4 },
  recovered: { tags: ['white_check_mark'], priority: 3 },
};

/**
 * ntfy, published as JSON: POST `{topic, title, message, tags, priority, click}` to the server's root URL.
 * JSON rather than the `Title`/`Tags`/`Click` headers because titles carry file names, and HTTP headers
 * cannot carry most non-Latin-1 characters without RFC 2047 encoding.
 */
export function formatNtfy(
  target: TargetOf<'ntfy'>,
  message: NotifyMessage,
  ctx: FormatContext = {},
): NotifyRequest {
  const card = cardOf(message, ctx);
  const style = NTFY_STYLE[card.status];
  const body: Record<string, unknown> = {
    topic: target.topic,
    title: truncate(card.title, 256),
    message: truncateUtf8([card.summary, ...card.details].join('\n'), NTFY_MESSAGE_MAX_BYTES),
    tags: style.tags,
    priority: style.priority,
  };
  if (card.link) body.click = card.link.url;
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  return postJson(`${target.server}/`, body, target.id, message, { headers });
}

/**
 * IFTTT Webhooks "Receive a web request": POST `{value1, value2, value3}` to
 * `https://maker.ifttt.com/trigger/<event>/with/key/<key>`: value1 the status, value2 the file name (or the
 * summary for messages about several uploads), value3 the link (empty when there is none).
 */
export function formatIfttt(
  target: TargetOf<'ifttt'>,
  message: NotifyMessage,
  ctx: FormatContext = {},
): NotifyRequest {
  const card = cardOf(message, ctx);
  const isJob = message.type === 'job.done' || message.type === 'job.failed';
  const body = {
    value1: card.status,
    value2: isJob ? fileNameOf(message.data) : card.summary,
    value3: card.link?.url ?? '',
  };
  return postJson(
    `https://maker.ifttt.com/trigger/${encodeURIComponent(target.event)}/with/key/${encodeURIComponent(target.key)}`,
    body,
    target.id,
    message,
  );
}

/** The request for any target: dispatches on `target.type`. */
export function buildRequest(target: Target, message: NotifyMessage, ctx: FormatContext = {}): NotifyRequest {
  switch (target.type) {
    case 'webhook':
      return formatWebhook(target, message);
    case 'zapier':
      return formatZapier(target, message);
    case 'discord':
      return formatDiscord(target, message, ctx);
    case 'slack':
      return formatSlack(target, message, ctx);
    case 'telegram':
      return formatTelegram(target, message, ctx);
    case 'ntfy':
      return formatNtfy(target, message, ctx);
    case 'ifttt':
      return formatIfttt(target, message, ctx);
  }
}

/**
 * Adds the Standard Webhooks headers for one attempt to a signed request (unsigned ones are returned as they
 * are). Call it on every attempt: the timestamp is the attempt's, the id stays the message's.
 */
export function withSignature(
  request: NotifyRequest,
  attempt: { timestamp: Date; secrets: readonly string[] },
): NotifyRequest {
  if (!request.signed) return request;
  const headers = signDelivery({
    id: request.messageId,
    timestamp: attempt.timestamp,
    body: request.body,
    secrets: attempt.secrets,
  });
  return { ...request, headers: { ...request.headers, ...headers } };
}
