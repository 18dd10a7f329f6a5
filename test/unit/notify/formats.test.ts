import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UnsupportedMessageError } from '../../../shared/notify/errors.js';
import {
  buildReportDigest,
  jobEvent,
  type NotifyMessage,
  outageEvent,
  reportEvent,
  summarizeFailures,
} from '../../../shared/notify/events.js';
import {
  buildRequest,
  cardOf,
  formatDiscord,
  formatDuration,
  formatIfttt,
  formatNtfy,
  formatSlack,
  formatTelegram,
  formatWebhook,
  formatZapier,
  type NotifyRequest,
  truncate,
  truncateUtf8,
  withSignature,
} from '../../../shared/notify/formats.js';
import { verifyInbound } from '../../../shared/notify/sign.js';
import { parseTargetConfig, TARGET_TYPES, type Target } from '../../../shared/notify/targets.js';
import { failedJob, job, SECRETS, T0, target } from './fixtures.js';

// --- The services' documented request shapes, written from their docs (docs/notifications.md cites them). ---

// Discord "Execute Webhook" and the embed limits ("Embed Limits" in the Message resource docs).
const DiscordEmbed = z.strictObject({
  title: z.string().max(256).optional(),
  description: z.string().max(4096).optional(),
  url: z.url().optional(),
  timestamp: z.iso.datetime().optional(),
  color: z.int().min(0).max(0xffffff).optional(),
  footer: z.strictObject({ text: z.string().max(2048) }).optional(),
  fields: z
    .array(z.strictObject({ name: z.string().max(256), value: z.string().max(1024) }))
    .max(25)
    .optional(),
});
const DiscordExecuteWebhook = z
  .strictObject({
    content: z.string().max(2000).optional(),
    username: z.string().min(1).max(80).optional(),
    embeds: z.array(DiscordEmbed).max(10).optional(),
    allowed_mentions: z.strictObject({ parse: z.array(z.enum(['roles', 'users', 'everyone'])) }).optional(),
  })
  .refine((b) => b.content || b.embeds?.length, 'content or embeds is required')
  .refine(
    (b) =>
      (b.embeds ?? []).reduce(
        (n, e) => n + (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0),
        0,
      ) <= 6000,
    'embeds hold at most 6000 characters in all',
  );

// Slack incoming webhooks with Block Kit: section text ≤ 3000, context ≤ 10 elements, ≤ 50 blocks.
const SlackText = z.strictObject({
  type: z.enum(['mrkdwn', 'plain_text']),
  text: z.string().min(1).max(3000),
});
const SlackMessage = z.strictObject({
  text: z.string().min(1),
  blocks: z
    .array(
      z.discriminatedUnion('type', [
        z.strictObject({ type: z.literal('section'), text: SlackText }),
        z.strictObject({ type: z.literal('context'), elements: z.array(SlackText).min(1).max(10) }),
      ]),
    )
    .max(50),
});

// Telegram Bot API sendMessage: chat_id Integer or String, text 1-4096 characters after entities parsing.
const TelegramSendMessage = z.strictObject({
  chat_id: z.union([z.int(), z.string()]),
  text: z.string().min(1),
  parse_mode: z.enum(['HTML', 'MarkdownV2', 'Markdown']).optional(),
  link_preview_options: z.strictObject({ is_disabled: z.boolean().optional() }).optional(),
  disable_notification: z.boolean().optional(),
});
/** What Telegram shows of an HTML-mode text: tags removed, the four supported entities decoded. */
function telegramVisible(html: string): string {
  return html
    .replace(/<\/?(b|a)( href="[^"]*")?>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

// ntfy "Publish as JSON": POST to the root URL; only `topic` is required.
const NtfyPublish = z.strictObject({
  topic: z.string().regex(/^[-_A-Za-z0-9]{1,64}$/),
  message: z.string().optional(),
  title: z.string().optional(),
  tags: z.array(z.string()).optional(),
  priority: z.int().min(1).max(5).optional(),
  click: z.url().optional(),
});

// IFTTT Webhooks "Receive a web request": JSON with value1, value2, value3.
const IftttTrigger = z.strictObject({ value1: z.string(), value2: z.string(), value3: z.string() });

// Standard Webhooks payload structure.
const Envelope = z.strictObject({
  type: z.enum(['job.done', 'job.failed', 'report', 'outage']),
  timestamp: z.iso.datetime(),
  data: z.record(z.string(), z.unknown()),
});

// --- Messages of every kind. ---

const done = jobEvent(job())!;
const failed = jobEvent(failedJob(1))!;
const twelve = summarizeFailures([
  ...Array.from({ length: 10 }, (_, i) => failedJob(i + 1, 'notFound')),
  failedJob(11, 'rejected'),
  failedJob(12, 'rejected'),
]);
const report = reportEvent(
  buildReportDigest({
    digest: 'daily',
    period: { from: '2026-02-28T08:00:00.000Z', to: '2026-03-01T08:00:00.000Z' },
    jobs: [
      job({ updatedAt: '2026-03-01T07:00:00.000Z' }),
      failedJob(3, 'notFound', Date.parse('2026-03-01T07:30:00Z')),
    ],
  }),
);
const problem = outageEvent({
  state: 'problem',
  causes: ['circuitOpen'],
  since: '2026-03-01T10:00:00.000Z',
  detail: 'Not authenticated #100',
});
const recovered = outageEvent({
  state: 'recovered',
  causes: ['circuitOpen', 'queueAge'],
  since: '2026-03-01T10:00:00.000Z',
  until: '2026-03-01T11:42:00.000Z',
});
const MESSAGES: [string, NotifyMessage][] = [
  ['job.done', done],
  ['job.failed', failed],
  ['12 coalesced failures', twelve],
  ['daily report', report],
  ['outage problem', problem],
  ['outage recovered', recovered],
];
const PERSON_MESSAGES = MESSAGES;
const MACHINE_MESSAGES = MESSAGES.filter(([, m]) => m.type !== 'failures');
const CTX = { statusUrl: 'https://relay.example.org/' };

const json = (req: NotifyRequest): unknown => JSON.parse(req.body);

describe('cardOf', () => {
  it('words 12 coalesced failures with counts by reason', () => {
    expect(cardOf(twelve).summary).toBe('12 uploads failed: 10 × notFound, 2 × rejected');
  });

  it('says how many messages the cap skipped', () => {
    expect(cardOf(done, { suppressed: 3 }).details.at(-1)).toBe(
      '3 earlier notifications were skipped: hourly limit reached',
    );
  });

  it('shows the source by host only, never its query string', () => {
    const signed = jobEvent(job({ url: 'https://cdn.example.com/f.zip?X-Amz-Signature=deadbeef' }))!;

    expect(JSON.stringify(cardOf(signed))).not.toContain('deadbeef');
    expect(cardOf(signed).details).toContain('From: cdn.example.com');
  });

  it('words an outage problem and its recovery with the causes and duration', () => {
    expect(cardOf(problem).title).toBe('Uploads paused: API key refused');
    expect(cardOf(recovered).summary).toBe(
      'Uploads were paused for 1 h 42 min (API key refused, queue stalled) and are moving again.',
    );
  });

  it('titles a report with its counts', () => {
    expect(cardOf(report).title).toBe('Daily report: 1 done, 1 failed');
  });
});

describe('formatWebhook', () => {
  const t = target('webhook');

  it.each(MACHINE_MESSAGES)('posts the %s envelope to the target URL', (_name, message) => {
    const req = formatWebhook(t, message);

    expect(req).toMatchObject({ method: 'POST', url: t.url, signed: true });
    expect(req.headers['content-type']).toBe('application/json');
    expect(Envelope.parse(json(req)).type).toBe(message.type);
  });

  it('carries the job JSON as data', () => {
    expect(json(formatWebhook(t, done))).toEqual({
      type: 'job.done',
      timestamp: done.occurredAt,
      data: done.data,
    });
  });

  it('refuses a coalesced summary: programs get one delivery per job', () => {
    expect(() => formatWebhook(t, twelve)).toThrow(UnsupportedMessageError);
  });

  it('is signed by withSignature so that the receiver verifies the exact body', () => {
    const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;

    const signed = withSignature(formatWebhook(t, done), { timestamp: new Date(T0), secrets: [secret] });

    expect(signed.headers['webhook-id']).toBe(signed.messageId);
    expect(verifyInbound({ headers: signed.headers, body: signed.body, secret, nowMs: T0 }).id).toBe(
      signed.messageId,
    );
  });

  it('keeps the same webhook-id on a retry and moves the timestamp', () => {
    const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
    const req = formatWebhook(t, done);

    const first = withSignature(req, { timestamp: new Date(T0), secrets: [secret] });
    const retry = withSignature(formatWebhook(t, done), {
      timestamp: new Date(T0 + 10_000),
      secrets: [secret],
    });

    expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(Number(retry.headers['webhook-timestamp']) - Number(first.headers['webhook-timestamp'])).toBe(10);
  });
});

describe('formatZapier', () => {
  const t = target('zapier');

  it('posts the job JSON as is for a job event', () => {
    const req = formatZapier(t, failed);

    expect(req.url).toBe(t.url);
    expect(json(req)).toEqual(failed.data);
    expect(req.signed).toBe(false);
  });

  it.each([
    ['report', report],
    ['outage', problem],
  ] as const)('posts the %s envelope, whose type lets a Zap filter', (_name, message) => {
    expect(Envelope.parse(json(formatZapier(t, message))).type).toBe(message.type);
  });

  it('refuses a coalesced summary', () => {
    expect(() => formatZapier(t, twelve)).toThrow(UnsupportedMessageError);
  });
});

describe('formatDiscord', () => {
  const t = target('discord');

  it.each(PERSON_MESSAGES)('posts a valid execute-webhook body for %s', (_name, message) => {
    const req = formatDiscord(t, message, CTX);

    expect(req.url).toBe(t.url);
    expect(DiscordExecuteWebhook.safeParse(json(req)).error).toBeUndefined();
  });

  it('links the embed to the 1fichier file and colours it green when done, red when failed', () => {
    const doneBody = DiscordExecuteWebhook.parse(json(formatDiscord(t, done)));
    const failedBody = DiscordExecuteWebhook.parse(json(formatDiscord(t, failed)));

    expect(doneBody.embeds?.[0]).toMatchObject({ url: 'https://1fichier.com/?k3lm9xq2rt', color: 0x57f287 });
    expect(failedBody.embeds?.[0]?.color).toBe(0xed4245);
  });

  it('stays within content and embed limits for a 10 000-character file name', () => {
    const huge = jobEvent(job({ url: `https://x.example/${'a'.repeat(10_000)}.zip` }))!;

    const body = DiscordExecuteWebhook.safeParse(json(formatDiscord(t, huge)));

    expect(body.error).toBeUndefined();
    expect(body.data?.embeds?.[0]?.title).toHaveLength(256);
  });

  it('pings no one and escapes markdown in a file named "@everyone *bold*"', () => {
    const sneaky = jobEvent(job({ url: 'https://x.example/@everyone%20*bold*' }))!;

    const body = DiscordExecuteWebhook.parse(json(formatDiscord(t, sneaky)));

    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.embeds?.[0]?.description).toContain('@everyone \\*bold\\*');
  });

  it('describes the 12 coalesced failures with their counts', () => {
    const body = DiscordExecuteWebhook.parse(json(formatDiscord(t, twelve)));

    expect(body.content).toBe('12 uploads failed');
    expect(body.embeds?.[0]?.description).toContain('12 uploads failed: 10 × notFound, 2 × rejected');
  });
});

describe('formatSlack', () => {
  const t = target('slack');

  it.each(PERSON_MESSAGES)('posts a valid incoming-webhook body for %s', (_name, message) => {
    const req = formatSlack(t, message, CTX);

    expect(req.url).toBe(t.url);
    expect(SlackMessage.safeParse(json(req)).error).toBeUndefined();
  });

  it('is text plus a mrkdwn section and a context block with the file link', () => {
    const body = SlackMessage.parse(json(formatSlack(t, done)));

    expect(body.blocks.map((b) => b.type)).toEqual(['section', 'context']);
    expect(body.text).toBe('Upload done: holiday video.mkv: holiday video.mkv is in your 1fichier account.');
    expect(JSON.stringify(body.blocks[1])).toContain('<https://1fichier.com/?k3lm9xq2rt|Open on 1fichier>');
  });

  it('escapes Slack control characters so a file named <!channel> pings no one', () => {
    const sneaky = jobEvent(job({ url: 'https://x.example/%3C!channel%3E%20&%20co' }))!;

    const req = formatSlack(t, sneaky);

    expect(req.body).toContain('&lt;!channel&gt; &amp; co');
    expect(req.body).not.toContain('<!channel>');
  });

  it('keeps the section within 3000 characters for a huge report', () => {
    const many = reportEvent(
      buildReportDigest({
        digest: 'hourly',
        period: { from: '2026-03-01T09:00:00.000Z', to: '2026-03-01T10:00:00.000Z' },
        jobs: Array.from({ length: 50 }, (_, i) =>
          job({
            id: `j${i}`,
            url: `https://x.example/${'n'.repeat(400)}${i}`,
            updatedAt: '2026-03-01T09:30:00.000Z',
          }),
        ),
      }),
    );

    expect(SlackMessage.safeParse(json(formatSlack(t, many))).error).toBeUndefined();
  });
});

describe('formatTelegram', () => {
  const t = target('telegram');

  it.each(PERSON_MESSAGES)('posts valid sendMessage parameters for %s', (_name, message) => {
    const req = formatTelegram(t, message, CTX);
    const body = TelegramSendMessage.parse(json(req));

    expect(req.url).toBe(`https://api.telegram.org/bot123456789:${SECRETS.telegramSecret}/sendMessage`);
    expect(body).toMatchObject({
      chat_id: -1001234567890,
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
    });
    expect(telegramVisible(body.text).length).toBeLessThanOrEqual(4096);
  });

  it('escapes <, > and & in HTML mode and links with <a href>', () => {
    const sneaky = jobEvent(job({ url: 'https://x.example/%3Cb%3Ea%20&%20b%3C%2Fb%3E' }))!;

    const body = TelegramSendMessage.parse(json(formatTelegram(t, sneaky)));

    expect(body.text).toContain('&lt;b&gt;a &amp; b&lt;/b&gt;');
    expect(body.text).toContain('<a href="https://1fichier.com/?k3lm9xq2rt">Open on 1fichier</a>');
  });

  it('keeps the visible text within 4096 characters for a huge message', () => {
    const huge = jobEvent(failedJob(1, 'rejected'))!;
    huge.data.error = { code: 'rejected', message: '<&>'.repeat(3000) };

    const body = TelegramSendMessage.parse(json(formatTelegram(t, huge)));

    expect(telegramVisible(body.text).length).toBeLessThanOrEqual(4096);
    expect(telegramVisible(body.text).length).toBeGreaterThan(4000);
  });
});

describe('formatNtfy', () => {
  const t = target('ntfy');

  it.each(PERSON_MESSAGES)('publishes %s as JSON to the server root URL', (_name, message) => {
    const req = formatNtfy(t, message, CTX);
    const body = NtfyPublish.parse(json(req));

    expect(req.url).toBe('https://ntfy.sh/');
    expect(body.topic).toBe(SECRETS.ntfyTopic);
  });

  it('sends the access token as a bearer token', () => {
    expect(formatNtfy(t, done).headers.authorization).toBe(`Bearer ${SECRETS.ntfyToken}`);
  });

  it('sends no Authorization header to a public topic', () => {
    const open = { ...parseTargetConfig({ type: 'ntfy', topic: 'abc' }), id: 't' } as Extract<
      Target,
      { type: 'ntfy' }
    >;

    expect(formatNtfy(open, done).headers.authorization).toBeUndefined();
  });

  it('puts a non-Latin title in the JSON body, where headers could not carry it', () => {
    const cyrillic = jobEvent(job({ url: 'https://x.example/%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf' }))!;

    const req = formatNtfy(t, cyrillic);

    expect(NtfyPublish.parse(json(req)).title).toBe('Upload done: отчёт.pdf');
    expect(Object.values(req.headers).every((v) => /^[\x20-\x7e]*$/.test(v))).toBe(true);
  });

  it('opens the file when the notification is tapped and tags it by status', () => {
    const body = NtfyPublish.parse(json(formatNtfy(t, done)));

    expect(body).toMatchObject({
      click: 'https://1fichier.com/?k3lm9xq2rt',
      tags: ['white_check_mark'],
      priority: 3,
    });
    expect(NtfyPublish.parse(json(formatNtfy(t, problem))).tags).toEqual(['warning']);
  });

  it('keeps the message within 4096 bytes of UTF-8', () => {
    const huge = jobEvent(failedJob(1, 'rejected'))!;
    huge.data.error = { code: 'rejected', message: 'é'.repeat(5000) };

    const body = NtfyPublish.parse(json(formatNtfy(t, huge)));

    expect(Buffer.byteLength(body.message ?? '', 'utf8')).toBeLessThanOrEqual(4096);
  });
});

describe('formatIfttt', () => {
  const t = target('ifttt');

  it.each(PERSON_MESSAGES)('triggers the event with value1..3 for %s', (_name, message) => {
    const req = formatIfttt(t, message, CTX);

    expect(req.url).toBe(`https://maker.ifttt.com/trigger/upload/with/key/${SECRETS.iftttKey}`);
    expect(IftttTrigger.safeParse(json(req)).error).toBeUndefined();
  });

  it('sends status, file name and file link for a job', () => {
    expect(json(formatIfttt(t, done))).toEqual({
      value1: 'done',
      value2: 'holiday video.mkv',
      value3: 'https://1fichier.com/?k3lm9xq2rt',
    });
  });

  it('sends the coalesced summary as value2', () => {
    expect(json(formatIfttt(t, twelve, CTX))).toEqual({
      value1: 'failed',
      value2: '12 uploads failed: 10 × notFound, 2 × rejected',
      value3: 'https://relay.example.org/',
    });
  });

  it('sends problem and recovered as value1 of outage messages', () => {
    expect((json(formatIfttt(t, problem)) as { value1: string }).value1).toBe('problem');
    expect((json(formatIfttt(t, recovered)) as { value1: string }).value1).toBe('recovered');
  });
});

describe('buildRequest', () => {
  it.each(TARGET_TYPES)('builds the %s request with a deterministic message id', (type) => {
    const t = target(type);

    const a = buildRequest(t, done, CTX);
    const b = buildRequest(t, done, CTX);

    expect(a).toEqual(b);
    expect(a.messageId).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});

describe('text helpers', () => {
  it('truncate cuts to the limit with an ellipsis and never splits an emoji', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('ab😀cd', 4)).toBe('ab…');
    expect(truncate('abc', 3)).toBe('abc');
  });

  it('truncateUtf8 cuts on a code point within the byte budget', () => {
    const cut = truncateUtf8('é'.repeat(10), 9);

    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(9);
    expect(cut).toBe('ééé…');
  });

  it.each([
    [30_000, '<1 min'],
    [42 * 60_000, '42 min'],
    [3 * 3_600_000, '3 h'],
    [(3 * 60 + 5) * 60_000, '3 h 5 min'],
    [(2 * 24 + 3) * 3_600_000, '2 d 3 h'],
  ])('formatDuration(%i) is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
