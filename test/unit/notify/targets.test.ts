import { describe, expect, it } from 'vitest';
import { InvalidTargetConfigError } from '../../../shared/notify/errors.js';
import { parseTargetConfig, TARGET_TYPES, wantsEvent } from '../../../shared/notify/targets.js';
import { SECRETS, target } from './fixtures.js';

function issuesOf(input: unknown): string[] {
  try {
    parseTargetConfig(input);
  } catch (err) {
    if (err instanceof InvalidTargetConfigError)
      return err.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    throw err;
  }
  throw new Error('expected the config to be refused');
}

describe('parseTargetConfig', () => {
  it.each(TARGET_TYPES)('accepts a valid %s config and applies the defaults', (type) => {
    const t = target(type);

    expect(t.type).toBe(type);
    expect(t.events).toEqual(['job.done', 'job.failed', 'outage']);
    expect(t.digest).toBe('none');
  });

  it('defaults the ntfy server to https://ntfy.sh and drops a trailing slash from a given one', () => {
    const plain = parseTargetConfig({ type: 'ntfy', topic: 'abc' });
    const own = parseTargetConfig({ type: 'ntfy', topic: 'abc', server: 'https://ntfy.example.org/' });

    expect(plain).toMatchObject({ server: 'https://ntfy.sh' });
    expect(own).toMatchObject({ server: 'https://ntfy.example.org' });
  });

  it('accepts a Telegram @channel as chatId', () => {
    expect(
      parseTargetConfig({
        type: 'telegram',
        botToken: `1234:${SECRETS.telegramSecret}`,
        chatId: '@relaynews',
      }),
    ).toMatchObject({
      chatId: '@relaynews',
    });
  });

  it.each([
    [
      'an unknown type',
      { type: 'email', to: 'me@example.com' },
      'type: type must be one of webhook, discord, slack, telegram, ntfy, ifttt, zapier',
    ],
    ['no type at all', { url: 'https://x.example' }, 'type: type must be one of'],
    [
      'a value that is not an object',
      'https://discord.com/api/webhooks/1/2',
      'must be a JSON object with a "type"',
    ],
    [
      'a webhook url without scheme',
      { type: 'webhook', url: 'example.com/hook' },
      'url: url must be a full http:// or https:// address',
    ],
    ['a missing webhook url', { type: 'webhook' }, 'url: url is required'],
    [
      'a Slack URL given as Discord',
      { type: 'discord', url: 'https://hooks.slack.com/services/T1/B1/x' },
      'url: url must be a Discord webhook URL like https://discord.com/api/webhooks/<id>/<token>',
    ],
    [
      'a Discord URL given as Slack',
      { type: 'slack', url: 'https://discord.com/api/webhooks/1/abc' },
      'url: url must be a Slack incoming webhook URL',
    ],
    [
      'a Telegram token without the bot id',
      { type: 'telegram', botToken: SECRETS.telegramSecret, chatId: 1 },
      'botToken: botToken must look like 123456789:AA…',
    ],
    [
      'a missing Telegram chat',
      { type: 'telegram', botToken: `1234:${SECRETS.telegramSecret}` },
      'chatId: chatId is required',
    ],
    [
      'a Telegram chat that is a name',
      { type: 'telegram', botToken: `1234:${SECRETS.telegramSecret}`, chatId: 'my group' },
      'chatId: chatId must be a numeric chat id',
    ],
    [
      'an ntfy topic with a space',
      { type: 'ntfy', topic: 'my uploads' },
      'topic: topic may only hold letters, digits, "-" and "_"',
    ],
    [
      'an ntfy token of another shape',
      { type: 'ntfy', topic: 'abc', token: 'secret' },
      'token: token must be an ntfy access token starting with tk_',
    ],
    [
      'an IFTTT event with a dash',
      { type: 'ifttt', event: 'up-load', key: SECRETS.iftttKey },
      'event: event may only hold letters, digits and "_"',
    ],
    [
      'an IFTTT key that is a URL',
      { type: 'ifttt', event: 'upload', key: 'https://maker.ifttt.com/use/abc' },
      'key: key must be your IFTTT Webhooks key',
    ],
    [
      'a Zapier URL that is not a Catch Hook',
      { type: 'zapier', url: 'https://zapier.com/app/zaps' },
      'url: url must be a Zapier Catch Hook URL',
    ],
    [
      'report among events',
      { type: 'ifttt', event: 'upload', key: SECRETS.iftttKey, events: ['report'] },
      'events.0: events may only hold "job.done", "job.failed", "outage" (reports come with digest)',
    ],
    [
      'an empty event list',
      { type: 'ifttt', event: 'upload', key: SECRETS.iftttKey, events: [] },
      'events: events must name at least one event',
    ],
    [
      'an event listed twice',
      { type: 'ifttt', event: 'upload', key: SECRETS.iftttKey, events: ['outage', 'outage'] },
      'events: events lists an event twice',
    ],
    [
      'a weekly digest',
      { type: 'ifttt', event: 'upload', key: SECRETS.iftttKey, digest: 'weekly' },
      'digest: digest must be "none", "hourly" or "daily"',
    ],
    [
      'a misspelt field',
      { type: 'ifttt', event: 'upload', key: SECRETS.iftttKey, digset: 'daily' },
      'unknown field "digset"',
    ],
  ])('refuses %s with a message saying what to fix', (_what, input, expected) => {
    expect(issuesOf(input).join('\n')).toContain(expected);
  });

  it('lists every problem at once and keeps the zod error as cause', () => {
    let caught: unknown;
    try {
      parseTargetConfig({ type: 'telegram', botToken: 'x', chatId: 'y' });
    } catch (err) {
      caught = err;
    }

    expect(caught).toBeInstanceOf(InvalidTargetConfigError);
    expect((caught as InvalidTargetConfigError).issues.map((i) => i.path)).toEqual(['botToken', 'chatId']);
    expect((caught as Error).cause).toBeDefined();
  });
});

describe('wantsEvent', () => {
  it('follows events for jobs and outages', () => {
    const t = parseTargetConfig({
      type: 'ifttt',
      event: 'upload',
      key: SECRETS.iftttKey,
      events: ['job.failed'],
    });

    expect(wantsEvent(t, 'job.failed')).toBe(true);
    expect(wantsEvent(t, 'job.done')).toBe(false);
    expect(wantsEvent(t, 'outage')).toBe(false);
  });

  it('sends reports only to targets with a digest', () => {
    const none = parseTargetConfig({ type: 'ifttt', event: 'upload', key: SECRETS.iftttKey });
    const daily = parseTargetConfig({
      type: 'ifttt',
      event: 'upload',
      key: SECRETS.iftttKey,
      digest: 'daily',
    });

    expect(wantsEvent(none, 'report')).toBe(false);
    expect(wantsEvent(daily, 'report')).toBe(true);
  });
});
