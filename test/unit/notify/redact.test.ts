import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactTarget, redactText, redactUrl, secretsOf } from '../../../shared/notify/redact.js';
import { parseTargetConfig, TARGET_TYPES } from '../../../shared/notify/targets.js';
import { SECRETS, target } from './fixtures.js';

const SECRET_OF = {
  webhook: SECRETS.webhookToken,
  discord: SECRETS.discordToken,
  slack: SECRETS.slackSecret,
  telegram: SECRETS.telegramSecret,
  ntfy: SECRETS.ntfyToken,
  ifttt: SECRETS.iftttKey,
  zapier: SECRETS.zapierHook,
} as const;

describe('redactTarget', () => {
  it.each(TARGET_TYPES)('leaves no secret of a %s target in the safe view', (type) => {
    const t = target(type);

    const shown = JSON.stringify(redactTarget(t));

    expect(shown).not.toContain(SECRET_OF[type]);
    for (const secret of secretsOf(t)) expect(shown).not.toContain(secret);
    expect(shown).toContain(REDACTED);
  });

  it('shows the IFTTT endpoint with the key redacted', () => {
    expect(redactTarget(target('ifttt'))).toMatchObject({
      key: REDACTED,
      endpoint: 'https://maker.ifttt.com/trigger/upload/with/key/[redacted]',
    });
  });

  it('keeps the Telegram bot id and the chat, not the token secret', () => {
    expect(redactTarget(target('telegram'))).toMatchObject({
      botToken: '123456789:[redacted]',
      chatId: -1001234567890,
      endpoint: 'https://api.telegram.org/bot123456789:[redacted]/sendMessage',
    });
  });

  it('keeps the Discord webhook id, Slack workspace and channel ids, Zapier account id', () => {
    expect(redactTarget(target('discord')).url).toBe(
      'https://discord.com/api/webhooks/1234567890123456789/[redacted]',
    );
    expect(redactTarget(target('slack')).url).toBe(
      'https://hooks.slack.com/services/T0123ABCD/B0456EFGH/[redacted]',
    );
    expect(redactTarget(target('zapier')).url).toBe(
      'https://hooks.zapier.com/hooks/catch/123456/[redacted]/',
    );
  });

  it('hides the ntfy token and all but the start of the topic', () => {
    const view = redactTarget(target('ntfy'));

    expect(view).toMatchObject({
      token: REDACTED,
      topic: 'rel[redacted]',
      endpoint: 'https://ntfy.sh/rel[redacted]',
    });
    expect(JSON.stringify(view)).not.toContain(SECRETS.ntfyTopic);
  });

  it('keeps the fields that are not secret and the stored id', () => {
    const view = redactTarget({ ...target('ifttt'), name: 'phone' });

    expect(view).toMatchObject({
      id: 'tgt_ifttt',
      type: 'ifttt',
      event: 'upload',
      name: 'phone',
      digest: 'none',
    });
  });

  it('does not change the target it is given', () => {
    const t = target('discord');
    const before = structuredClone(t);

    redactTarget(t);

    expect(t).toEqual(before);
  });

  it('never shows an IFTTT key, Telegram token or ntfy token, whatever their characters', () => {
    const token = (min: number) =>
      fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${min},40}$`)).filter((s) => /[A-Za-z]/.test(s));
    fc.assert(
      fc.property(token(30), token(16), fc.stringMatching(/^[A-Za-z0-9]{10,40}$/), (tg, key, ntfy) => {
        const targets = [
          parseTargetConfig({ type: 'telegram', botToken: `42424:${tg}`, chatId: 1 }),
          parseTargetConfig({ type: 'ifttt', event: 'e', key }),
          parseTargetConfig({ type: 'ntfy', topic: 'topic', token: `tk_${ntfy}` }),
        ];
        const shown = targets.map((t) => JSON.stringify(redactTarget(t))).join('\n');
        return !shown.includes(tg) && !shown.includes(key) && !shown.includes(`tk_${ntfy}`);
      }),
    );
  });
});

describe('redactUrl', () => {
  it('redacts every query value and keeps the names', () => {
    expect(redactUrl('https://x.example/hook?token=abc123&user=me')).toBe(
      'https://x.example/hook?token=[redacted]&user=[redacted]',
    );
  });

  it('redacts a password in the URL and the fragment', () => {
    expect(redactUrl('https://bob:hunter2@x.example/hook#sig')).toBe(
      'https://bob:[redacted]@x.example/hook#[redacted]',
    );
  });

  it('redacts token-like path segments and keeps words and numeric ids', () => {
    expect(redactUrl('https://relay.example/hooks/rly_8f3k2m9q1x7c4v6b0n5z/12345/upload')).toBe(
      'https://relay.example/hooks/[redacted]/12345/upload',
    );
  });

  it('replaces a URL it cannot parse whole', () => {
    expect(redactUrl('not a url with secret')).toBe(REDACTED);
  });
});

describe('redactText', () => {
  it('removes the secret from an error message, plain and percent-encoded', () => {
    const t = target('telegram');
    const message = `POST https://api.telegram.org/bot123456789:${SECRETS.telegramSecret}/sendMessage failed; retry ${encodeURIComponent(`123456789:${SECRETS.telegramSecret}`)}`;

    const safe = redactText(message, t);

    expect(safe).not.toContain(SECRETS.telegramSecret);
    expect(safe).toContain('failed; retry');
  });

  it('removes a webhook query token from a log line', () => {
    const t = target('webhook');

    expect(redactText(`connect ECONNREFUSED ${t.url}`, t)).toBe(
      'connect ECONNREFUSED https://hooks.example.net/relay?token=[redacted]',
    );
  });
});
