/**
 * The one authentication step of the HTTP API, declared by every route with the scope it needs:
 * `app.get('/jobs', guard.requireScope('read'), handler)`. In order: the token is resolved (401), a
 * signed token's Standard Webhooks signature is verified on the exact body bytes (401), a repeated
 * `webhook-id` gets the first answer again, the per-token rate limit is applied (429), and the scope is
 * checked (403). HEAD runs the GET route's chain, so it is authenticated like GET.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiDeps } from '../../shared/app/api-deps.js';
import { type ResolvedToken, tokenFromHeaders, tokenResolver } from '../../shared/http/auth.js';
import { readBodyCapped } from '../../shared/http/body.js';
import { errorBody, HttpError } from '../../shared/http/errors.js';
import { MAX_BODY_BYTES } from '../../shared/http/job-input.js';
import { SignatureVerificationError } from '../../shared/notify/errors.js';
import { verifyInbound } from '../../shared/notify/sign.js';
import { type Scope, scopeAllows } from '../../shared/tokens/model.js';
import { openSecret } from '../../shared/tokens/sealed-secret.js';
import { UsageMeter } from '../../shared/tokens/usage.js';

/** What the guard puts in the request context for the routes. */
export type ApiEnv = {
  Variables: {
    userId: string;
    scope: Scope;
    tokenId: string;
    /** The body as read for a signed token's verification: routes must parse these same bytes. */
    rawBody?: Uint8Array;
  };
};

/** Signed requests' answers are remembered this long (Standard Webhooks senders retry for a day or more). */
export const REPLAY_TTL_MS = 24 * 60 * 60 * 1000;
/** Accepted distance between `webhook-timestamp` and now. */
export const SIGNATURE_TOLERANCE_S = 300;
const MAX_WEBHOOK_ID = 128;

/** The guard of one app instance (its token cache and usage counters are per instance). */
export interface Guard {
  /** Middleware: a header token (Bearer, Basic, X-Api-Key) allowed `scope`. */
  requireScope(scope: Scope): MiddlewareHandler<ApiEnv>;
  /** Middleware: the token of the path `/hooks/<token>`; such a route only ever creates jobs. */
  requirePathToken(scope: Scope): MiddlewareHandler<ApiEnv>;
  /** Makes this instance forget the token with this id at once (after it revoked it). */
  forget(tokenId: string): void;
}

type GuardDeps = Pick<ApiDeps, 'tokens' | 'clock' | 'config' | 'logger'>;

/** Builds the guard over the token store. */
export function createGuard(deps: GuardDeps): Guard {
  const authenticate = tokenResolver(deps.tokens, deps.clock);
  const meter = new UsageMeter(deps.tokens, deps.clock, deps.config.tokenRatePerMin, {
    onFlushError: (error) => deps.logger.warn('token usage flush failed', { error }),
  });

  const verifySigned = async (c: Context<ApiEnv>, raw: string, resolved: ResolvedToken) => {
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > MAX_BODY_BYTES) {
      throw new HttpError(413, 'bodyTooLarge', `body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    const body = await readBodyCapped(c.req.raw.body, MAX_BODY_BYTES);
    c.set('rawBody', body);
    const secret = resolved.token.sealedSecret && openSecret(resolved.token.sealedSecret, raw);
    if (!secret)
      throw new HttpError(401, 'invalidSignature', 'this signed token has no usable signing secret');
    try {
      const { id } = verifyInbound({
        headers: c.req.raw.headers,
        body: Buffer.from(body),
        secret,
        toleranceS: SIGNATURE_TOLERANCE_S,
        nowMs: deps.clock.now(),
      });
      if (id.length > MAX_WEBHOOK_ID) {
        throw new HttpError(
          401,
          'invalidSignature',
          `webhook-id is longer than ${MAX_WEBHOOK_ID} characters`,
        );
      }
      return id;
    } catch (err) {
      if (err instanceof SignatureVerificationError) {
        throw new HttpError(
          401,
          'invalidSignature',
          `this token signs its requests (Standard Webhooks): ${err.message}`,
        );
      }
      throw err;
    }
  };

  /** Rate limit, then scope: thrown as HttpErrors. */
  const admit = async (c: Context<ApiEnv>, resolved: ResolvedToken, scope: Scope) => {
    const verdict = await meter.hit(resolved.hash);
    if (!verdict.ok) {
      if (verdict.reason === 'revoked') {
        authenticate.forget(resolved.token.id);
        throw new HttpError(401, 'unauthorized', 'unknown token');
      }
      c.header('Retry-After', String(verdict.retryAfterS));
      throw new HttpError(
        429,
        'rateLimited',
        `more than ${deps.config.tokenRatePerMin} requests a minute with this token; retry in ${verdict.retryAfterS} s`,
      );
    }
    if (!scopeAllows(resolved.token.scope, scope)) {
      throw new HttpError(
        403,
        'forbidden',
        `this route needs a token with the "${scope}" scope (or wider); this token has "${resolved.token.scope}"`,
      );
    }
    c.set('userId', resolved.token.userId);
    c.set('scope', resolved.token.scope);
    c.set('tokenId', resolved.token.id);
  };

  const guard =
    (tokenOf: (c: Context<ApiEnv>) => string | undefined, scope: Scope): MiddlewareHandler<ApiEnv> =>
    async (c, next) => {
      const raw = tokenOf(c);
      const resolved = await authenticate(raw);
      if (!resolved.token.signed || !raw) {
        await admit(c, resolved, scope);
        return next();
      }
      const webhookId = await verifySigned(c, raw, resolved);
      const tokenId = resolved.token.id;
      const now = deps.clock.now();
      const claim = await deps.tokens.claimReplay(tokenId, webhookId, now, now + REPLAY_TTL_MS);
      if (claim.state === 'answered') {
        c.header('Webhook-Replayed', 'true');
        return c.body(claim.answer.body, claim.answer.status as 200, {
          'content-type': claim.answer.contentType,
        });
      }
      if (claim.state === 'inProgress') {
        throw new HttpError(
          409,
          'replayInProgress',
          'a request with this webhook-id is still being processed',
        );
      }
      try {
        await admit(c, resolved, scope);
      } catch (err) {
        if (err instanceof HttpError) {
          await deps.tokens.saveReplay(
            tokenId,
            webhookId,
            {
              status: err.status,
              body: JSON.stringify(errorBody(err.code, err.message)),
              contentType: 'application/json',
            },
            now + REPLAY_TTL_MS,
          );
        } else {
          await deps.tokens.releaseReplay(tokenId, webhookId);
        }
        throw err;
      }
      await next();
      // Errors of the route were already turned into c.res by the app's onError.
      const res = c.res;
      if (res.status >= 500) {
        await deps.tokens.releaseReplay(tokenId, webhookId);
        return;
      }
      await deps.tokens.saveReplay(
        tokenId,
        webhookId,
        {
          status: res.status,
          body: await res.clone().text(),
          contentType: res.headers.get('content-type') ?? 'application/json',
        },
        now + REPLAY_TTL_MS,
      );
    };

  return {
    requireScope: (scope) =>
      guard((c) => tokenFromHeaders(c.req.header('authorization'), c.req.header('x-api-key')), scope),
    requirePathToken: (scope) => guard((c) => c.req.param('token'), scope),
    forget: (id) => authenticate.forget(id),
  };
}

/**
 * The request body's bytes: those the guard read to verify a signature, else read now with the size
 * limit enforced while reading. Routes parse these, never the stream again.
 */
export async function requestBytes(
  c: Context<ApiEnv>,
  maxBytes: number = MAX_BODY_BYTES,
): Promise<Uint8Array> {
  const seen = c.get('rawBody');
  if (seen) {
    if (seen.byteLength > maxBytes) {
      throw new HttpError(413, 'bodyTooLarge', `body is larger than ${maxBytes} bytes`);
    }
    return seen;
  }
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > maxBytes) throw new HttpError(413, 'bodyTooLarge', `body is larger than ${maxBytes} bytes`);
  return readBodyCapped(c.req.raw.body, maxBytes);
}
