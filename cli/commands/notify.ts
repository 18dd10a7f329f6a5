/** `relay notify add|ls|rm|test`: the `/notifications` routes. */
import { listOf, RelayApi } from '../api.js';
import { type CommandContext, type CommandSpec, str, strs } from '../args.js';
import { EXIT, usageError } from '../errors.js';
import { formatTime, table } from '../output.js';
import { readSecret } from '../prompt.js';

const TYPES = ['webhook', 'discord', 'slack', 'telegram', 'ntfy', 'ifttt', 'zapier'];

interface Target {
  id: string;
  type: string;
  endpoint?: string;
  url?: string;
  events?: string[];
  digest?: string;
  [k: string]: unknown;
}

async function add(ctx: CommandContext): Promise<number> {
  const [type, urlArg, ...rest] = ctx.positionals;
  if (!type || !TYPES.includes(type) || rest.length)
    throw usageError(
      `give a type (${TYPES.join(', ')}) and, for URL types, the URL (or - to read it hidden from stdin)`,
      'notify add',
    );
  const body: Record<string, unknown> = { type };
  const urlTypes = ['webhook', 'discord', 'slack', 'zapier'];
  if (urlTypes.includes(type)) {
    if (!urlArg)
      throw usageError(
        `a ${type} target needs its URL (- reads it from stdin, keeping its secret out of shell history)`,
        'notify add',
      );
    // Discord/Slack/Zapier URLs hold a secret: `-` reads it without echo.
    body.url = urlArg === '-' ? await readSecret(ctx.out.io, `${type} URL: `, `${type} URL`) : urlArg;
  } else if (urlArg) throw usageError(`a ${type} target takes options, not a URL`, 'notify add');
  if (type === 'telegram') {
    body.botToken =
      str(ctx.values, 'bot-token') ?? (await readSecret(ctx.out.io, 'Telegram bot token: ', 'bot token'));
    const chat = str(ctx.values, 'chat-id');
    if (!chat) throw usageError('a telegram target needs --chat-id', 'notify add');
    body.chatId = /^-?\d+$/.test(chat) ? Number(chat) : chat;
  }
  if (type === 'ntfy') {
    const topic = str(ctx.values, 'topic');
    if (!topic) throw usageError('an ntfy target needs --topic', 'notify add');
    body.topic = topic;
    const server = str(ctx.values, 'server');
    if (server) body.server = server;
    const token = str(ctx.values, 'ntfy-token');
    if (token) body.token = token;
  }
  if (type === 'ifttt') {
    const event = str(ctx.values, 'event-name');
    if (!event)
      throw usageError(
        'an ifttt target needs --event-name (your "Receive a web request" trigger)',
        'notify add',
      );
    body.event = event;
    body.key = str(ctx.values, 'key') ?? (await readSecret(ctx.out.io, 'IFTTT Webhooks key: ', 'IFTTT key'));
  }
  const events = strs(ctx.values, 'event');
  if (events.length) body.events = events;
  const digest = str(ctx.values, 'digest');
  if (digest) body.digest = digest;
  const api = new RelayApi(await ctx.connect());
  const t = await api.request<Target>({ method: 'POST', path: '/notifications', json: body });
  if (ctx.out.json) ctx.out.printJson(t);
  else
    ctx.out.line(
      `Notification target ${t.id} (${t.type}) added${t.events ? ` for ${t.events.join(', ')}` : ''}. Try it: relay notify test ${t.id}`,
    );
  return EXIT.ok;
}

/** One entry of `GET /deliveries` (the fields the CLI shows). */
interface Delivery {
  recipientId?: string;
  status: string;
  lastStatus?: number;
  lastAttemptAt?: string;
  occurredAt?: string;
  event?: string;
}

async function ls(ctx: CommandContext): Promise<number> {
  const api = new RelayApi(await ctx.connect());
  const res = await api.request<unknown>({ path: '/notifications' });
  const list = listOf<Target>(res, 'notifications');
  // The last delivery of each target, from the delivery log (newest first), when the relay has one.
  const deliveries = list.length
    ? listOf<Delivery>(
        await api.request<unknown>({ path: '/deliveries', query: { limit: 200 }, allow404: true }),
        'deliveries',
      )
    : [];
  const lastOf = (id: string) => deliveries.find((d) => d.recipientId === id);
  if (ctx.out.json) {
    ctx.out.printJson({ notifications: list.map((t) => ({ ...t, lastDelivery: lastOf(t.id) ?? null })) });
    return EXIT.ok;
  }
  if (list.length === 0) ctx.out.line('No notification targets: relay notify add <type> …');
  else
    for (const l of table([
      ['ID', 'TYPE', 'EVENTS', 'LAST DELIVERY', 'WHERE'],
      ...list.map((t) => {
        const d = lastOf(t.id);
        const at = d?.lastAttemptAt ?? d?.occurredAt;
        return [
          t.id,
          t.type,
          (t.events ?? []).join(','),
          d ? `${at ? formatTime(at) : ''} ${d.status}${d.lastStatus ? ` (HTTP ${d.lastStatus})` : ''}` : '-',
          String(t.endpoint ?? t.url ?? ''),
        ];
      }),
    ]))
      ctx.out.line(l);
  return EXIT.ok;
}

async function rm(ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length === 0)
    throw usageError('give the id(s) of the target(s) to remove', 'notify rm');
  const api = new RelayApi(await ctx.connect());
  for (const id of ctx.positionals)
    await api.request({ method: 'DELETE', path: `/notifications/${encodeURIComponent(id)}` });
  if (ctx.out.json) ctx.out.printJson({ removed: ctx.positionals });
  else ctx.out.line(`Removed ${ctx.positionals.join(', ')}.`);
  return EXIT.ok;
}

async function test(ctx: CommandContext): Promise<number> {
  const [id, ...rest] = ctx.positionals;
  if (!id || rest.length) throw usageError('give one target id', 'notify test');
  const api = new RelayApi(await ctx.connect());
  const res = await api.request<{
    delivered: boolean;
    status?: string;
    httpStatus?: number;
    answer?: string;
    note?: string;
  }>({
    method: 'POST',
    path: `/notifications/${encodeURIComponent(id)}/test`,
  });
  if (ctx.out.json) ctx.out.printJson(res);
  else if (res.delivered)
    ctx.out.line(`Test message delivered to ${id}${res.httpStatus ? ` (HTTP ${res.httpStatus})` : ''}.`);
  else
    ctx.out.line(
      ctx.out.paint.red(
        `Test message to ${id} not delivered (${res.status ?? 'failed'}${res.httpStatus ? `, HTTP ${res.httpStatus}` : ''})${res.note ? `: ${res.note}` : ''}${res.answer ? ` — the target answered: ${res.answer}` : ''}`,
      ),
    );
  return res.delivered ? EXIT.ok : EXIT.failed;
}

/** The notification commands. */
export const notifyCommands: CommandSpec[] = [
  {
    name: 'notify add',
    summary: 'Add a notification target (signed webhook, Discord, Slack, Telegram, ntfy, IFTTT, Zapier).',
    args: '<type> [url|-]',
    details:
      'Secrets (Discord/Slack/Zapier URLs, bot tokens, IFTTT keys) can be read hidden: give - as the URL, or leave out --bot-token / --key.',
    options: {
      event: {
        type: 'string',
        multiple: true,
        value: '<event>',
        description: 'job.done, job.failed, outage (default all)',
      },
      digest: { type: 'string', value: '<none|hourly|daily>', description: 'report digest schedule' },
      'bot-token': {
        type: 'string',
        value: '<token>',
        description: 'telegram: the bot token (else asked for, hidden)',
      },
      'chat-id': { type: 'string', value: '<id>', description: 'telegram: chat id or @channel' },
      topic: { type: 'string', value: '<topic>', description: 'ntfy: the topic' },
      server: { type: 'string', value: '<url>', description: 'ntfy: the server (default https://ntfy.sh)' },
      'ntfy-token': { type: 'string', value: '<tk_…>', description: 'ntfy: an access token' },
      'event-name': { type: 'string', value: '<name>', description: 'ifttt: the trigger’s event name' },
      key: {
        type: 'string',
        value: '<key>',
        description: 'ifttt: the Webhooks key (else asked for, hidden)',
      },
    },
    run: add,
  },
  { name: 'notify ls', summary: 'List notification targets with their last delivery.', run: ls },
  { name: 'notify rm', summary: 'Remove notification targets.', args: '<id…>', run: rm },
  { name: 'notify test', summary: 'Send a test notification to a target.', args: '<id>', run: test },
];
