/**
 * Client tokens as an aggregate: what a token may do (its scope), what is stored about it, and what the
 * API shows. Pure: no I/O here.
 */
import { randomBytes } from 'node:crypto';

/**
 * What a token may do. `admin` ⊃ `full` ⊃ {`submit`, `read`}:
 * - `admin`: everything `full` can, plus tokens for other users, the circuit reset, the relay-wide report;
 * - `full`: everything for its own user (jobs, retries, reports, its tokens);
 * - `submit`: create jobs only (`POST /jobs`, `/hooks/<token>`);
 * - `read`: the GET routes (Zapier polling, feed readers).
 */
export type Scope = 'admin' | 'full' | 'submit' | 'read';

/** Every scope, widest first. */
export const SCOPES: readonly Scope[] = ['admin', 'full', 'submit', 'read'];

/** Whether a token of scope `have` may do what needs `need`. */
export function scopeAllows(have: Scope, need: Scope): boolean {
  if (have === need || have === 'admin') return true;
  return have === 'full' && need !== 'admin';
}

/** A stored token, without its secret (the table keeps only the secret's sha256). */
export interface TokenRecord {
  /** Public id (`tok_…`): what `GET /tokens` shows and `DELETE /tokens/{id}` takes. */
  id: string;
  userId: string;
  name: string;
  scope: Scope;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the latest use, as of the latest usage flush (a few seconds late at most). */
  lastUsedAt?: number;
  /** Every request made with it must be signed per Standard Webhooks. */
  signed: boolean;
}

/**
 * A token record as stored: with a signed token, its signing secret sealed with a key derived from the
 * token itself (`sealed-secret.ts`), so the table alone yields neither.
 */
export interface StoredToken extends TokenRecord {
  sealedSecret?: string;
  /** Stored before tokens had ids and scopes (read as `full`, not listed); completed when registered again. */
  legacy?: true;
}

/** Longest token name. */
export const MAX_TOKEN_NAME = 64;
/** User ids: what the create-token script and `POST /tokens {user}` accept. */
export const USER_ID_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;
/** Token ids as issued: `tok_` + 16 base64url characters (96 random bits). */
export const TOKEN_ID_PATTERN = /^tok_[A-Za-z0-9_-]{16}$/;

/** A new public token id. */
export function newTokenId(random: (n: number) => Uint8Array = randomBytes): string {
  return `tok_${Buffer.from(random(12)).toString('base64url')}`;
}

/** Raised when token input is malformed; the API answers 400 with its message. */
export class InvalidTokenInputError extends Error {
  override readonly name = 'InvalidTokenInputError';
}

/** Checks a user id (script argument, `POST /tokens {user}`). */
export function checkUserId(userId: string): string {
  if (!USER_ID_PATTERN.test(userId)) {
    throw new InvalidTokenInputError('user: 1-64 characters of A-Z a-z 0-9 . _ @ -');
  }
  return userId;
}

/** Checks a token name: 1-64 printable characters, no control characters. */
export function checkTokenName(name: string): string {
  const trimmed = name.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (!trimmed || trimmed.length > MAX_TOKEN_NAME || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new InvalidTokenInputError(`name: 1-${MAX_TOKEN_NAME} characters, no control characters`);
  }
  return trimmed;
}

/** Checks a scope name. */
export function checkScope(scope: string): Scope {
  if (!(SCOPES as readonly string[]).includes(scope)) {
    throw new InvalidTokenInputError(`scope must be one of ${SCOPES.join(', ')}`);
  }
  return scope as Scope;
}

/** What `GET /tokens` shows of a token: never the token or its signing secret. */
export function presentToken(t: TokenRecord): {
  id: string;
  user: string;
  name: string;
  scope: Scope;
  signed: boolean;
  createdAt: string;
  lastUsedAt: string | null;
} {
  return {
    id: t.id,
    user: t.userId,
    name: t.name,
    scope: t.scope,
    signed: t.signed,
    createdAt: new Date(t.createdAt).toISOString(),
    lastUsedAt: t.lastUsedAt === undefined ? null : new Date(t.lastUsedAt).toISOString(),
  };
}
