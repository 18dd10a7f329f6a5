/**
 * Client authentication for the HTTP API: where the token comes from, and token → user through the store.
 */
import type { Clock } from '../fichier/memory-pacer.js';
import { hashToken } from '../jobs/ids.js';
import type { JobStore } from '../jobs/store.js';
import { HttpError } from './errors.js';

/** Longer tokens are refused without a lookup. */
const MAX_TOKEN_LENGTH = 200;
/** Known tokens are remembered this long per instance (a deleted token keeps working at most this long). */
const TOKEN_CACHE_MS = 60_000;
const TOKEN_CACHE_MAX = 1000;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The token of an `Authorization: Basic` header. Zapier's polling triggers and feed readers
 * (`https://x:<token>@host/…`) can only send Basic auth: the token is the password with any username, or
 * the username with an empty password. Undefined when the credentials are malformed (not base64, not
 * UTF-8, no colon, or both parts empty).
 */
function basicToken(encoded: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  let decoded: string;
  try {
    decoded = strictUtf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return password || user || undefined;
}

/**
 * The client token of a request: `Authorization: Bearer <token>`, `Authorization: Basic …` (see
 * {@link basicToken}), else `X-Api-Key`. A malformed Authorization wins (and fails), so a typo is never
 * silently replaced by another header.
 */
export function tokenFromHeaders(
  authorization: string | undefined,
  apiKey: string | undefined,
): string | undefined {
  if (authorization) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (bearer) return bearer[1];
    const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization);
    return basic ? basicToken(basic[1] as string) : undefined;
  }
  return apiKey?.trim() || undefined;
}

/**
 * Resolves tokens to user ids through the store (tokens are stored as sha256 only), remembering known
 * ones briefly: one read less per request. Unknown or missing tokens raise a 401 `HttpError`.
 */
export function tokenResolver(
  store: Pick<JobStore, 'userForToken'>,
  clock: Pick<Clock, 'now'>,
): (token: string | undefined) => Promise<string> {
  const cache = new Map<string, { userId: string; until: number }>();
  return async (token) => {
    if (!token) {
      throw new HttpError(
        401,
        'unauthorized',
        'send Authorization: Bearer <token>, X-Api-Key: <token>, or Basic auth with the token as the password',
      );
    }
    if (token.length > MAX_TOKEN_LENGTH) throw new HttpError(401, 'unauthorized', 'unknown token');
    // Looked up by its sha256: no comparison of the secret itself happens anywhere, so timing reveals nothing.
    const hash = hashToken(token);
    const now = clock.now();
    const hit = cache.get(hash);
    if (hit && hit.until > now) return hit.userId;
    const userId = await store.userForToken(hash);
    if (!userId) throw new HttpError(401, 'unauthorized', 'unknown token');
    if (cache.size >= TOKEN_CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(hash, { userId, until: now + TOKEN_CACHE_MS });
    return userId;
  };
}
