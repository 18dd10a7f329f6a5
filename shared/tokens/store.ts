/**
 * What the token use-cases need from storage, independent of DynamoDB: tokens by the sha256 of their
 * secret, listed per user, revoked by id; the per-window usage counter shared across instances; and the
 * remembered answers of signed requests (replays by `webhook-id`).
 */
import type { StoredToken, TokenRecord } from './model.js';

/** The token hash is already stored for another user (or with another id). */
export class TokenConflictError extends Error {
  override readonly name = 'TokenConflictError';
}

/** The answer given to a signed request, replayed as is when its `webhook-id` comes again. */
export interface StoredAnswer {
  status: number;
  /** The response body, as sent. */
  body: string;
  contentType: string;
}

/** What {@link TokenStore.claimReplay} found. */
export type ReplayClaim =
  | { state: 'claimed' }
  | { state: 'inProgress' }
  | { state: 'answered'; answer: StoredAnswer };

/** Storage of the token aggregate. */
export interface TokenStore {
  /**
   * Stores a token under the sha256 (hex) of its secret. Storing the same hash again for the same user
   * and id is a no-op success; for anyone else it raises {@link TokenConflictError}.
   */
  putToken(tokenHash: string, token: StoredToken): Promise<void>;
  /** The token stored under this hash (a strongly consistent read). */
  tokenByHash(tokenHash: string): Promise<StoredToken | undefined>;
  /** The user a token hash belongs to. */
  userForToken(tokenHash: string): Promise<string | undefined>;
  /** A user's tokens, oldest first (a query on the user index, no Scan). */
  listTokens(userId: string): Promise<TokenRecord[]>;
  /** Deletes the user's token with this id; false when the user has none with it. */
  revokeToken(userId: string, id: string): Promise<boolean>;
  /**
   * Adds `delta` uses to the token's counter for the window starting at `windowStart` (epoch ms; an older
   * window's count is replaced) and records `lastUsedAt`, in one write. Returns the window's total over
   * every instance, or undefined when the token no longer exists (the write never recreates it).
   */
  addUsage(
    tokenHash: string,
    usage: { windowStart: number; delta: number; lastUsedAt: number },
  ): Promise<number | undefined>;
  /**
   * Claims `webhookId` for the token until `expiresAt` (epoch ms): `claimed` the first time, then
   * `answered` with the remembered answer, or `inProgress` while the first request is still running.
   */
  claimReplay(tokenId: string, webhookId: string, now: number, expiresAt: number): Promise<ReplayClaim>;
  /** Remembers the answer of a claimed `webhookId`. */
  saveReplay(tokenId: string, webhookId: string, answer: StoredAnswer, expiresAt: number): Promise<void>;
  /** Forgets a claim whose request failed on our side (5xx), so the sender's retry is processed. */
  releaseReplay(tokenId: string, webhookId: string): Promise<void>;
}
