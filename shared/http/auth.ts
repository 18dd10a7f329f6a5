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

/** The token from `Authorization: Bearer <token>`, else from `X-Api-Key`; a malformed Authorization wins (and fails). */
export function bearerOrApiKey(
  authorization: string | undefined,
  apiKey: string | undefined,
): string | undefined {
  if (authorization) return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
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
    if (!token) throw new HttpError(401, 'unauthorized', 'send Authorization: Bearer <token> or X-Api-Key');
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
