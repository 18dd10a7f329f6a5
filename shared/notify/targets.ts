/**
 * Notification targets: the config a person gives `POST /notifications`, validated by zod with messages
 * that say what to fix and where to find the right value. Each shape follows the service's documentation
 * (docs/notifications.md).
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';

// zod/mini ships no messages; English ones for anything not worded below (as shared/http/job-input.ts does).
z.config(en());

import { builtOnFirstUse } from '../http/built-on-first-use.js';
import { InvalidTargetConfigError } from './errors.js';
import { DIGEST_SCHEDULES, SUBSCRIBABLE_EVENT_TYPES } from './events.js';

export { TARGET_AUDIENCE, TARGET_TYPES, type TargetType, wantsEvent } from './target-rules.js';

import { TARGET_TYPES, type TargetType } from './target-rules.js';

const textOf = (field: string, what: string) =>
  z.string({
    error: (iss) => (iss.input === undefined ? `${field} is required: ${what}` : `${field} must be text`),
  });

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'https:' || u.protocol === 'http:') && !/\s/.test(value);
  } catch {
    return false;
  }
}

/** Builds the target schemas (see {@link targetConfigSchema}). */
function buildTargetConfigSchema() {
  const common = {
    /** A label for people, e.g. "phone". */
    name: z.optional(
      z.string({ error: 'name must be text' }).check(z.maxLength(100, 'name must be at most 100 characters')),
    ),
    /** Which events the target gets one by one. @default every subscribable type */
    events: z._default(
      z
        .array(
          z.enum(SUBSCRIBABLE_EVENT_TYPES, {
            error: `events may only hold ${SUBSCRIBABLE_EVENT_TYPES.map((t) => `"${t}"`).join(', ')} (reports come with digest)`,
          }),
          { error: 'events must be a list, e.g. ["job.failed", "outage"]' },
        )
        .check(
          z.minLength(1, 'events must name at least one event; to pause a target, delete it'),
          z.refine((list) => new Set(list).size === list.length, 'events lists an event twice'),
        ),
      () => [...SUBSCRIBABLE_EVENT_TYPES],
    ),
    /** When the report digest is sent. @default "none" */
    digest: z._default(
      z.enum(DIGEST_SCHEDULES, { error: 'digest must be "none", "hourly" or "daily"' }),
      'none',
    ),
  };

  const WebhookTargetSchema = z.strictObject({
    type: z.literal('webhook'),
    url: textOf('url', 'the address that receives the signed POSTs').check(
      z.refine(isHttpUrl, 'url must be a full http:// or https:// address'),
    ),
    ...common,
  });

  // Discord shows this URL under Server Settings → Integrations → Webhooks → Copy Webhook URL.
  const DISCORD_URL =
    /^https:\/\/(?:(?:ptb|canary)\.)?discord(?:app)?\.com\/api(?:\/v\d+)?\/webhooks\/\d{5,25}\/[\w-]{20,200}\/?(?:\?[\w=&-]*)?$/;
  const DiscordTargetSchema = z.strictObject({
    type: z.literal('discord'),
    url: textOf('url', 'the Discord webhook URL').check(
      z.regex(
        DISCORD_URL,
        'url must be a Discord webhook URL like https://discord.com/api/webhooks/<id>/<token> ' +
          '(Server Settings → Integrations → Webhooks → Copy Webhook URL)',
      ),
    ),
    ...common,
  });

  // Slack gives this URL when an app's Incoming Webhooks feature is added to a channel.
  const SLACK_URL = /^https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+$/;
  const SlackTargetSchema = z.strictObject({
    type: z.literal('slack'),
    url: textOf('url', 'the Slack incoming webhook URL').check(
      z.regex(
        SLACK_URL,
        'url must be a Slack incoming webhook URL like https://hooks.slack.com/services/T…/B…/… ' +
          '(your Slack app → Incoming Webhooks → Add New Webhook to Workspace)',
      ),
    ),
    ...common,
  });

  // BotFather hands out tokens as `<bot id>:<secret>`; chats are numeric ids (groups negative) or @channelname.
  const TELEGRAM_TOKEN = /^\d{3,20}:[\w-]{30,100}$/;
  const TELEGRAM_CHAT = /^(?:-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/;
  const TelegramTargetSchema = z.strictObject({
    type: z.literal('telegram'),
    botToken: textOf('botToken', 'the token @BotFather gave your bot').check(
      z.regex(TELEGRAM_TOKEN, 'botToken must look like 123456789:AA… (the token @BotFather gave your bot)'),
    ),
    chatId: z
      .union([z.int(), z.string()], {
        error: (iss) =>
          iss.input === undefined ? 'chatId is required: the chat, group or @channel to post in' : undefined,
      })
      .check(
        z.refine(
          (v) => TELEGRAM_CHAT.test(String(v)),
          'chatId must be a numeric chat id (groups start with -) or a public @channelusername',
        ),
      ),
    ...common,
  });

  // ntfy: "Topic names may only contain letters, numbers, underscores and dashes, and may be up to 64 characters".
  const NtfyTargetSchema = z.strictObject({
    type: z.literal('ntfy'),
    topic: textOf('topic', 'the ntfy topic to publish to').check(
      z.regex(/^[-\w]{1,64}$/, 'topic may only hold letters, digits, "-" and "_", up to 64 characters'),
    ),
    server: z._default(
      z.pipe(
        textOf('server', 'the ntfy server').check(
          z.refine(isHttpUrl, 'server must be a full https:// address, e.g. https://ntfy.sh'),
        ),
        z.transform((s: string) => s.replace(/\/+$/, '')),
      ),
      'https://ntfy.sh',
    ),
    token: z.optional(
      textOf('token', 'an ntfy access token').check(
        z.regex(/^tk_[A-Za-z0-9]{10,64}$/, 'token must be an ntfy access token starting with tk_'),
      ),
    ),
    ...common,
  });

  // IFTTT's Webhooks trigger: "Use only letters, numbers, and underscores" for the event name.
  const IftttTargetSchema = z.strictObject({
    type: z.literal('ifttt'),
    event: textOf('event', 'the event name of your "Receive a web request" trigger').check(
      z.regex(
        /^\w{1,100}$/,
        'event may only hold letters, digits and "_" (the event name of your "Receive a web request" trigger)',
      ),
    ),
    key: textOf('key', 'your IFTTT Webhooks key').check(
      z.regex(
        /^[\w-]{16,64}$/,
        'key must be your IFTTT Webhooks key (the last part of the URL on the Webhooks service settings page)',
      ),
    ),
    ...common,
  });

  // A Catch Hook URL from the "Webhooks by Zapier" trigger.
  const ZAPIER_URL = /^https:\/\/hooks\.zapier\.com\/hooks\/catch\/\d+\/[A-Za-z0-9]+\/?$/;
  const ZapierTargetSchema = z.strictObject({
    type: z.literal('zapier'),
    url: textOf('url', 'the Catch Hook URL of your Zap').check(
      z.regex(
        ZAPIER_URL,
        'url must be a Zapier Catch Hook URL like https://hooks.zapier.com/hooks/catch/123456/abcdef/ ' +
          '(Webhooks by Zapier → Catch Hook)',
      ),
    ),
    ...common,
  });

  /** Any target config, told apart by `type`. */
  return z.discriminatedUnion(
    'type',
    [
      WebhookTargetSchema,
      DiscordTargetSchema,
      SlackTargetSchema,
      TelegramTargetSchema,
      NtfyTargetSchema,
      IftttTargetSchema,
      ZapierTargetSchema,
    ],
    {
      // zod types this hook's issues as union ones, but a non-object input reaches it as `invalid_type`.
      error: (iss) => {
        const code: string = iss.code;
        if (code === 'invalid_type') return 'a notification target must be a JSON object with a "type"';
        if (code === 'invalid_union') return `type must be one of ${TARGET_TYPES.join(', ')}`;
        return undefined;
      },
    },
  );
}

/** Any target config, told apart by `type`; built by the first request that parses one. */
export const targetConfigSchema = builtOnFirstUse(buildTargetConfigSchema);

/** A target config as given (defaults not applied). */
export type TargetConfigInput = z.input<ReturnType<typeof buildTargetConfigSchema>>;
/** A validated target config, defaults applied. */
export type TargetConfig = z.output<ReturnType<typeof buildTargetConfigSchema>>;
/** A stored target: its config and the id that keys its messages. */
export type Target = TargetConfig & { id: string };
export type TargetOf<T extends TargetType> = Extract<Target, { type: T }>;

/**
 * Validates a target config and applies the defaults (`events`: all, `digest`: "none", ntfy `server`:
 * https://ntfy.sh). Throws {@link InvalidTargetConfigError} listing every problem.
 */
export function parseTargetConfig(input: unknown): TargetConfig {
  const result = targetConfigSchema().safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    message:
      i.code === 'unrecognized_keys' ? `unknown field ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message,
  }));
  throw new InvalidTargetConfigError(issues, { cause: result.error });
}
