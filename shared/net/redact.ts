/**
 * URLs made safe for error messages and logs. Notification targets carry their secret in the URL
 * (IFTTT keys, Telegram bot tokens, Discord and Slack webhook tokens), so no URL goes into a message
 * or a log line without passing through {@link redactUrl}.
 */

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/** One row of the path table. */
export interface SecretPathRule {
  /** Only for these hosts, when set. */
  host?: RegExp;
  /** Applied to the raw (percent-encoded) path; `$1` keeps the non-secret prefix. */
  pattern: RegExp;
  replacement: string;
  note: string;
}

/** Path segments known to be secrets, first to last (several may apply to one path). */
export const SECRET_PATH_RULES: readonly SecretPathRule[] = [
  {
    pattern: /(\/bot)\d+(?::|%3A)[^/]*/gi,
    replacement: `$1${REDACTED}`,
    note: 'Telegram Bot API: /bot<id>:<token>/method and /file/bot<token>/path',
  },
  {
    pattern: /(\/with\/key\/)[^/]+/gi,
    replacement: `$1${REDACTED}`,
    note: 'IFTTT Webhooks: /trigger/<event>/with/key/<key> (and /json/with/key/<key>)',
  },
  {
    pattern: /(\/webhooks\/[^/]+\/)[^/]+/gi,
    replacement: `$1${REDACTED}`,
    note: 'Discord: /api[/v10]/webhooks/<id>/<token>; the id alone cannot post',
  },
  {
    pattern: /(\/services\/).+/gi,
    replacement: `$1${REDACTED}`,
    note: 'Slack incoming webhooks: /services/T…/B…/<secret>',
  },
  {
    host: /(^|\.)slack\.com$/i,
    pattern: /(\/(?:triggers|workflows)\/).+/gi,
    replacement: `$1${REDACTED}`,
    note: 'Slack workflow webhooks: /triggers/<team>/<id>/<secret>',
  },
  {
    pattern: /(\/webhookb2\/).+/gi,
    replacement: `$1${REDACTED}`,
    note: 'Microsoft Teams incoming webhooks: /webhookb2/<guid>@<guid>/IncomingWebhook/<secret>/…',
  },
  {
    pattern: /(\/hooks\/).+/gi,
    replacement: `$1${REDACTED}`,
    note: "Zapier /hooks/catch/<account>/<hook>/, Mattermost /hooks/<id>, the relay's own /hooks/<token>",
  },
  {
    host: /(^|\.)ntfy\.sh$/i,
    pattern: /^(\/)[^/]+/g,
    replacement: `$1${REDACTED}`,
    note: 'ntfy.sh: the topic name is the only access control of a public topic',
  },
  {
    // Catch-all for services not listed: long opaque segments mixing letters and digits are tokens far
    // more often than words. Over-redacting an error message costs little; leaking a token does not.
    pattern: /(^|\/)(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}(?=\/|$)/g,
    replacement: `$1${REDACTED}`,
    note: 'any segment of 32+ token characters with both letters and digits',
  },
];

function redactQuery(search: string): string {
  if (search === '' || search === '?') return '';
  const parts = search
    .slice(1)
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      // A bare `?abcdef` may itself be the secret.
      return eq < 0 ? REDACTED : `${p.slice(0, eq)}=${REDACTED}`;
    });
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/**
 * The URL with its secrets replaced by `[redacted]`: scheme, host, port and path are kept; user
 * name and password, every query value and the path segments of {@link SECRET_PATH_RULES} are
 * replaced; the fragment is dropped. Input that is not a URL gives `[invalid URL]`, never the input.
 * @example
 * redactUrl('https://api.telegram.org/bot123:ABC/sendMessage?chat_id=42');
 * // 'https://api.telegram.org/bot[redacted]/sendMessage?chat_id=[redacted]'
 */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '[invalid URL]';
  }
  const userinfo = u.username !== '' || u.password !== '' ? `${REDACTED}@` : '';
  let path = u.pathname;
  for (const rule of SECRET_PATH_RULES) {
    if (rule.host && !rule.host.test(u.hostname)) continue;
    path = path.replace(rule.pattern, rule.replacement);
  }
  // Opaque URLs (mailto:, data:) have no host; their whole path may be the secret.
  if (u.host === '') return `${u.protocol}${REDACTED}`;
  return `${u.protocol}//${userinfo}${u.host}${path}${redactQuery(u.search)}`;
}
