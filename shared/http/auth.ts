/**
 * Client authentication for the HTTP API: where the token comes from, and token → record through the
 * token store.
 */
import type { Clock } from '../fichier/memory-pacer.js';
import { hashToken } from '../jobs/ids.js';
import type { StoredToken } from '../tokens/model.js';
import type { TokenStore } from '../tokens/store.js';
import { HttpError } from './errors.js';

/** Longer tokens are refused without a lookup. */
const MAX_TOKEN_LENGTH = 200;
/**
 * Known tokens are remembered this long per instance: a revoked token keeps working at most this long
 * (the contract is 5 s; the rest is margin for the revoking write and clock skew).
 */
export const TOKEN_CACHE_MS = 4_000;
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

/** A request's token, resolved: its stored record and the hash it is stored under. */
export interface ResolvedToken {
  hash: string;
  token: StoredToken;
}

/** A token resolver, and how to make it forget a token at once (a revocation on this instance). */
export interface TokenResolver {
  (token: string | undefined): Promise<ResolvedToken>;
  /** Drops the cached token with this public id. */
  forget(tokenId: string): void;
}

/**
 * Resolves tokens to their records through the store (tokens are stored as sha256 only), remembering
 * known ones for {@link TOKEN_CACHE_MS}: one read less per request, and a revoked token stops working on
 * every instance within that time. Unknown or missing tokens raise a 401 `HttpError`; unknown ones are
 * never remembered.
 */
export function tokenResolver(
  tokens: Pick<TokenStore, 'tokenByHash'>,
  clock: Pick<Clock, 'now'>,
): TokenResolver {
  const cache = new Map<string, { token: StoredToken; until: number }>();
  const resolve = async (token: string | undefined): Promise<ResolvedToken> => {
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
    if (hit && hit.until > now) return { hash, token: hit.token };
    cache.delete(hash);
    const found = await tokens.tokenByHash(hash);
    if (!found) throw new HttpError(401, 'unauthorized', 'unknown token');
    if (cache.size >= TOKEN_CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(hash, { token: found, until: now + TOKEN_CACHE_MS });
    return { hash, token: found };
  };
  const forget = (tokenId: string) => {
    for (const [hash, entry] of cache) if (entry.token.id === tokenId) cache.delete(hash);
  };
  return Object.assign(resolve, { forget });
}
