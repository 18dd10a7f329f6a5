/**
 * Safe views of targets for logs and API answers after creation. Every target type keeps a credential in
 * its config (most in the URL itself: Discord, Slack, Zapier and IFTTT treat "knowing the URL" as being
 * allowed to post), so nothing but these views may leave the store.
 */
import type { TargetConfig } from './targets.js';

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/** A target as it may be shown: secrets replaced, plus `endpoint`, the URL it posts to, redacted too. */
export type RedactedTarget<T extends TargetConfig = TargetConfig> = T & { endpoint: string };

// Long runs of token characters mixing letters and digits, the shape of path tokens such as our own
// `/hooks/<token>`; ordinary words and numeric ids stay readable.
function looksLikeToken(segment: string): boolean {
  return segment.length >= 20 && /^[\w~.-]+$/.test(segment) && /\d/.test(segment) && /[A-Za-z]/.test(segment);
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * A URL with its likely secrets replaced: the password of user info, every query value, the fragment and
 * token-like path segments. An unparseable URL is replaced whole.
 * @example redactUrl('https://example.com/hook?key=abc') // 'https://example.com/hook?key=[redacted]'
 */
export function redactUrl(url: string): string {
  const u = parse(url);
  if (!u) return REDACTED;
  const userinfo = u.username ? `${u.username}${u.password ? `:${REDACTED}` : ''}@` : '';
  const path = u.pathname
    .split('/')
    .map((s) => (looksLikeToken(s) ? REDACTED : s))
    .join('/');
  const query = u.search
    ? `?${u.search
        .slice(1)
        .split('&')
        .map((pair) => {
          const eq = pair.indexOf('=');
          return eq < 0 ? pair : `${pair.slice(0, eq)}=${REDACTED}`;
        })
        .join('&')}`
    : '';
  const hash = u.hash ? `#${REDACTED}` : '';
  return `${u.protocol}//${userinfo}${u.host}${path}${query}${hash}`;
}

function replaceSegment(url: string, pattern: RegExp): string {
  return redactUrl(url.replace(pattern, `$1${REDACTED}`));
}

// The ntfy docs call the topic "essentially a password"; a short prefix is enough to recognise it.
function maskTopic(topic: string): string {
  return topic.length > 6 ? `${topic.slice(0, 3)}${REDACTED}` : REDACTED;
}

/**
 * The safe view of a target: IFTTT key, Telegram bot token (its secret half), the token segment of Discord,
 * Slack and Zapier URLs, the ntfy access token and most of its topic, query strings and URL passwords.
 * @example redactTarget({ type: 'ifttt', event: 'upload', key: 'k…', … }).endpoint
 * // 'https://maker.ifttt.com/trigger/upload/with/key/[redacted]'
 */
export function redactTarget<T extends TargetConfig>(target: T): RedactedTarget<T> {
  const t: TargetConfig = target;
  const view = (fields: Partial<TargetConfig> & { endpoint: string }) =>
    ({ ...target, ...fields }) as RedactedTarget<T>;
  switch (t.type) {
    case 'webhook': {
      const url = redactUrl(t.url);
      return view({ url, endpoint: url });
    }
    case 'discord': {
      const url = replaceSegment(t.url, /(\/webhooks\/\d+\/)[^/?#]+/);
      return view({ url, endpoint: url });
    }
    case 'slack': {
      const url = replaceSegment(t.url, /(\/services\/[^/]+\/[^/]+\/)[^/?#]+/);
      return view({ url, endpoint: url });
    }
    case 'zapier': {
      const url = replaceSegment(t.url, /(\/hooks\/catch\/[^/]+\/)[^/?#]+/);
      return view({ url, endpoint: url });
    }
    case 'telegram': {
      const botId = t.botToken.split(':')[0] ?? '';
      const botToken = `${botId}:${REDACTED}`;
      return view({ botToken, endpoint: `https://api.telegram.org/bot${botToken}/sendMessage` });
    }
    case 'ntfy': {
      const topic = maskTopic(t.topic);
      const endpoint = `${redactUrl(t.server).replace(/\/+$/, '')}/${topic}`;
      return view(t.token ? { topic, token: REDACTED, endpoint } : { topic, endpoint });
    }
    case 'ifttt':
      return view({
        key: REDACTED,
        endpoint: `https://maker.ifttt.com/trigger/${encodeURIComponent(t.event)}/with/key/${REDACTED}`,
      });
  }
}

/** The secret strings of a target, longest first (for {@link redactText}). */
export function secretsOf(target: TargetConfig): string[] {
  const found: string[] = [];
  const fromUrl = (url: string) => {
    const u = parse(url);
    if (!u) return;
    if (u.password) found.push(u.password);
    for (const [, value] of u.searchParams) if (value) found.push(value);
    if (u.hash.length > 1) found.push(u.hash.slice(1));
    for (const s of u.pathname.split('/')) if (looksLikeToken(s)) found.push(s);
  };
  const lastSegmentOf = (url: string, pattern: RegExp) => {
    const m = url.match(pattern);
    if (m?.[1]) found.push(m[1]);
  };
  switch (target.type) {
    case 'webhook':
      fromUrl(target.url);
      break;
    case 'discord':
      lastSegmentOf(target.url, /\/webhooks\/\d+\/([^/?#]+)/);
      fromUrl(target.url);
      break;
    case 'slack':
      lastSegmentOf(target.url, /\/services\/[^/]+\/[^/]+\/([^/?#]+)/);
      break;
    case 'zapier':
      lastSegmentOf(target.url, /\/hooks\/catch\/[^/]+\/([^/?#]+)/);
      break;
    case 'telegram':
      found.push(target.botToken);
      lastSegmentOf(target.botToken, /:(.+)$/);
      break;
    case 'ntfy':
      found.push(target.topic);
      if (target.token) found.push(target.token);
      fromUrl(target.server);
      break;
    case 'ifttt':
      found.push(target.key);
      break;
  }
  return [...new Set(found)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

/**
 * `text` (a log line, an error message from the HTTP client) with every secret of the target replaced,
 * in plain and percent-encoded form.
 */
export function redactText(text: string, target: TargetConfig): string {
  let out = text;
  for (const secret of secretsOf(target)) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join(REDACTED);
  }
  return out;
}
