/**
 * Token use-cases: issue a new token (`POST /tokens`, the create-token script, `npm start`), register a
 * given one (`RELAY_TOKEN`, tests), list and revoke a user's tokens.
 */
import { generateToken, hashToken } from '../jobs/ids.js';
import { generateSigningSecret } from '../notify/sign.js';
import {
  checkScope,
  checkTokenName,
  checkUserId,
  newTokenId,
  type Scope,
  type StoredToken,
  scopeAllows,
  type TokenRecord,
} from './model.js';
import { sealSecret } from './sealed-secret.js';
import type { TokenStore } from './store.js';

/** The caller may not do this (a wider scope, another user); the API answers 403 with its message. */
export class TokenForbiddenError extends Error {
  override readonly name = 'TokenForbiddenError';
}

/** Who is asking. */
export interface TokenCaller {
  userId: string;
  scope: Scope;
}

/** What `POST /tokens` takes (already shape-checked). */
export interface NewTokenInput {
  name: string;
  scope?: string;
  signed?: boolean;
  user?: string;
}

/** A token just made: the only time its secret (and signing secret) exist outside the caller. */
export interface IssuedToken {
  record: TokenRecord;
  token: string;
  signingSecret?: string;
}

/**
 * Issues a new token. A caller can give no wider scope than its own, and only an `admin` token can make
 * tokens for another user (that is how a second person gets access to the relay).
 * @example const { token } = await issueToken({ name: 'zapier', scope: 'read' }, caller, deps);
 */
export async function issueToken(
  input: NewTokenInput,
  caller: TokenCaller | 'operator',
  deps: { tokens: Pick<TokenStore, 'putToken'>; clock: { now(): number } },
): Promise<IssuedToken> {
  const name = checkTokenName(input.name);
  const scope = checkScope(input.scope ?? 'full');
  const userId = checkUserId(input.user ?? (caller === 'operator' ? 'default' : caller.userId));
  if (caller !== 'operator') {
    if (userId !== caller.userId && caller.scope !== 'admin') {
      throw new TokenForbiddenError('only an admin token can create tokens for another user');
    }
    if (!scopeAllows(caller.scope, scope)) {
      throw new TokenForbiddenError(`a ${caller.scope} token cannot create a ${scope} token`);
    }
  }
  const token = generateToken();
  const signingSecret = input.signed ? generateSigningSecret() : undefined;
  const record: StoredToken = {
    id: newTokenId(),
    userId,
    name,
    scope,
    createdAt: deps.clock.now(),
    signed: signingSecret !== undefined,
    ...(signingSecret ? { sealedSecret: sealSecret(signingSecret, token) } : {}),
  };
  await deps.tokens.putToken(hashToken(token), record);
  const { sealedSecret: _sealed, ...shown } = record;
  return { record: shown, token, ...(signingSecret ? { signingSecret } : {}) };
}

/**
 * Stores a token whose secret is given (`RELAY_TOKEN`, the local runtime's saved token, tests). Already
 * stored for this user: kept as it is (a token stored before tokens had ids is completed in place).
 */
export async function registerToken(
  tokens: Pick<TokenStore, 'putToken' | 'tokenByHash'>,
  input: { token: string; userId: string; scope?: Scope; name?: string; signingSecret?: string },
  now: number,
): Promise<StoredToken> {
  const hash = hashToken(input.token);
  const existing = await tokens.tokenByHash(hash);
  if (existing?.userId === input.userId && !existing.legacy) return existing;
  const record: StoredToken = {
    id: newTokenId(),
    userId: checkUserId(input.userId),
    name: checkTokenName(input.name ?? existing?.name ?? 'token'),
    scope: input.scope ?? 'full',
    createdAt: existing?.createdAt || now,
    signed: input.signingSecret !== undefined,
    ...(input.signingSecret ? { sealedSecret: sealSecret(input.signingSecret, input.token) } : {}),
  };
  await tokens.putToken(hash, record);
  return record;
}
