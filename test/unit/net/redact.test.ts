import { describe, expect, it } from 'vitest';
import { REDACTED, redactUrl } from '../../../shared/net/redact.js';

describe('redactUrl', () => {
  it.each([
    [
      'Telegram bot token',
      'https://api.telegram.org/bot123456789:AAE-secret_Token/sendMessage?chat_id=42&text=hi',
      'https://api.telegram.org/bot[redacted]/sendMessage?chat_id=[redacted]&text=[redacted]',
    ],
    [
      'Telegram file path',
      'https://api.telegram.org/file/bot123456789:AAEsecret/photos/a.jpg',
      'https://api.telegram.org/file/bot[redacted]/photos/a.jpg',
    ],
    [
      'IFTTT key',
      'https://maker.ifttt.com/trigger/upload_done/with/key/dEaDbEeF123',
      'https://maker.ifttt.com/trigger/upload_done/with/key/[redacted]',
    ],
    [
      'IFTTT JSON key',
      'https://maker.ifttt.com/trigger/upload_done/json/with/key/dEaDbEeF123',
      'https://maker.ifttt.com/trigger/upload_done/json/with/key/[redacted]',
    ],
    [
      'Discord webhook token',
      'https://discord.com/api/webhooks/112233445566/tOkEn-ABC_def?wait=true',
      'https://discord.com/api/webhooks/112233445566/[redacted]?wait=[redacted]',
    ],
    [
      'Discord versioned API',
      'https://discord.com/api/v10/webhooks/112233445566/tOkEn',
      'https://discord.com/api/v10/webhooks/112233445566/[redacted]',
    ],
    [
      'Slack incoming webhook',
      'https://hooks.slack.com/services/T000/B000/XXXXXXXX',
      'https://hooks.slack.com/services/[redacted]',
    ],
    [
      'Slack workflow trigger',
      'https://hooks.slack.com/triggers/T000/123/abcdef',
      'https://hooks.slack.com/triggers/[redacted]',
    ],
    [
      'Zapier catch hook',
      'https://hooks.zapier.com/hooks/catch/123456/abcdef/',
      'https://hooks.zapier.com/hooks/[redacted]',
    ],
    [
      "the relay's own hook token",
      'http://127.0.0.1:3000/hooks/tok_abc',
      'http://127.0.0.1:3000/hooks/[redacted]',
    ],
    ['ntfy.sh topic', 'https://ntfy.sh/my-private-topic', 'https://ntfy.sh/[redacted]'],
    [
      'Teams webhook',
      'https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d',
      'https://contoso.webhook.office.com/webhookb2/[redacted]',
    ],
    [
      'an unknown service with a long token segment',
      'https://notify.example/send/a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8/now',
      'https://notify.example/send/[redacted]/now',
    ],
    [
      'user name and password',
      'https://alice:s3cret@feeds.example.com/rss.xml',
      'https://[redacted]@feeds.example.com/rss.xml',
    ],
    [
      'a bare query token',
      'https://feeds.example.com/rss?abcdef',
      'https://feeds.example.com/rss?[redacted]',
    ],
    ['the fragment', 'https://feeds.example.com/rss#access_token=abc', 'https://feeds.example.com/rss'],
    ['a port', 'http://feeds.example.com:8080/rss.xml', 'http://feeds.example.com:8080/rss.xml'],
  ])('redacts %s', (_what, input, expected) => {
    expect(redactUrl(input)).toBe(expected);
    expect(redactUrl(new URL(input))).toBe(expected);
  });

  it('keeps ordinary paths readable', () => {
    expect(redactUrl('https://example.com/blog/2024/feed.xml')).toBe(
      'https://example.com/blog/2024/feed.xml',
    );
    expect(redactUrl('https://example.com/bottles/')).toBe('https://example.com/bottles/');
  });

  it('never returns input it cannot parse', () => {
    expect(redactUrl('not a url with secret=xyz')).toBe('[invalid URL]');
    expect(redactUrl('mailto:alice@example.com')).toBe(`mailto:${REDACTED}`);
  });
});
