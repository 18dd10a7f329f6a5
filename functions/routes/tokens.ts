/**
 * Token routes: `POST /tokens` (201, the token and signing secret shown once), `GET /tokens` (the
 * caller's tokens with `lastUsedAt`, never a secret), `DELETE /tokens/{id}` (revoked within 5 s on every
 * instance). All need the `full` scope; a token for another user needs `admin`.
 */
import type { Hono } from 'hono';
import * as z from 'zod/mini';
import type { ApiDeps } from '../../shared/app/api-deps.js';
import { decodeUtf8Body } from '../../shared/http/body.js';
import { builtOnFirstUse } from '../../shared/http/built-on-first-use.js';
import { HttpError } from '../../shared/http/errors.js';
import { parseJsonBody } from '../../shared/http/json-body.js';
import type { ApiDocs } from '../../shared/http/openapi.js';
import { issueToken, TokenForbiddenError } from '../../shared/tokens/manage.js';
import { InvalidTokenInputError, presentToken, TOKEN_ID_PATTERN } from '../../shared/tokens/model.js';
import { type ApiEnv, type Guard, requestBytes } from './guard.js';

/** A token-creation body is tiny. */
const MAX_TOKEN_BODY_BYTES = 4096;

/** The body of `POST /tokens` (also in the OpenAPI document), built by the first request that parses one. */
export const newTokenSchema = builtOnFirstUse(() =>
  z.strictObject({
    name: z.string(),
    scope: z.optional(z.string()),
    signed: z.optional(z.boolean()),
    user: z.optional(z.string()),
  }),
);

function parseNewToken(text: string): z.infer<ReturnType<typeof newTokenSchema>> {
  return parseJsonBody(
    newTokenSchema(),
    text,
    'expected {"name", "scope"?: "full" | "submit" | "read" | "admin", "signed"?: boolean, "user"?}',
  );
}

/** Adds the token routes to the OpenAPI document (`createApiDocs` calls it). */
export function documentTokenRoutes(docs: ApiDocs): void {
  // Built here, not at import: only the first GET /openapi.json needs them.
  const tokenViewFields = {
    id: z.string(),
    user: z.string(),
    name: z.string(),
    scope: z.enum(['admin', 'full', 'submit', 'read']),
    signed: z.boolean(),
    createdAt: z.string(),
  };
  /** A token as `GET /tokens` lists it (shared/tokens/model.ts `presentToken`): never a secret. */
  const tokenViewSchema = z.object({ ...tokenViewFields, lastUsedAt: z.nullable(z.string()) });
  /** The answer of `POST /tokens`: the token (and a signed token's signing secret), shown this once. */
  const issuedTokenSchema = z.object({
    ...tokenViewFields,
    token: z.string(),
    signingSecret: z.optional(z.string()),
  });

  docs.add(
    {
      method: 'post',
      path: '/tokens',
      summary: 'Create a client token',
      description:
        "Needs the `full` scope; a token may not get a wider scope than the caller's, and one for another " +
        '`user` needs `admin`. `signed: true` also returns a signing secret for signed webhooks. The token ' +
        'and the secret are shown in this answer only.',
      tags: ['tokens'],
      auth: 'token',
      body: {
        'application/json': {
          schema: newTokenSchema(),
          examples: {
            readOnly: { name: 'zapier trigger', scope: 'read' },
            signedHook: { name: 'ifttt applet', scope: 'submit', signed: true },
          },
        },
      },
      responses: {
        201: {
          description: 'the token, shown once',
          schema: issuedTokenSchema,
          headers: { Location: '`/tokens/<id>`' },
        },
      },
    },
    {
      method: 'get',
      path: '/tokens',
      summary: 'Your tokens, with when each was last used',
      tags: ['tokens'],
      auth: 'token',
      responses: {
        200: { description: 'no secret in it', schema: z.object({ tokens: z.array(tokenViewSchema) }) },
      },
    },
    {
      method: 'delete',
      path: '/tokens/{id}',
      summary: 'Revoke one of your tokens',
      description: 'Refused everywhere within 5 s.',
      tags: ['tokens'],
      auth: 'token',
      params: { id: { schema: z.string(), description: 'the token id (from `GET /tokens`)' } },
      responses: { 204: { description: 'revoked' } },
    },
  );
}

/** Registers the token routes on the app. */
export function registerTokenRoutes(
  app: Hono<ApiEnv>,
  deps: Pick<ApiDeps, 'tokens' | 'clock'>,
  guard: Guard,
): void {
  app.post('/tokens', guard.requireScope('full'), async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/json\b/i.test(type)) {
      throw new HttpError(415, 'unsupportedMediaType', 'send the token as application/json');
    }
    const input = parseNewToken(decodeUtf8Body(await requestBytes(c, MAX_TOKEN_BODY_BYTES)));
    try {
      const issued = await issueToken(input, { userId: c.get('userId'), scope: c.get('scope') }, deps);
      const { lastUsedAt: _never, ...shown } = presentToken(issued.record);
      c.header('Location', `/tokens/${issued.record.id}`);
      c.header('Cache-Control', 'no-store');
      return c.json(
        {
          ...shown,
          token: issued.token,
          ...(issued.signingSecret ? { signingSecret: issued.signingSecret } : {}),
        },
        201,
      );
    } catch (err) {
      if (err instanceof InvalidTokenInputError) throw new HttpError(400, 'invalidBody', err.message);
      if (err instanceof TokenForbiddenError) throw new HttpError(403, 'forbidden', err.message);
      throw err;
    }
  });

  app.get('/tokens', guard.requireScope('full'), async (c) => {
    const tokens = await deps.tokens.listTokens(c.get('userId'));
    return c.json({ tokens: tokens.map(presentToken) });
  });

  app.delete('/tokens/:id', guard.requireScope('full'), async (c) => {
    const id = c.req.param('id');
    // Another user's id is answered exactly like an unknown one.
    if (!TOKEN_ID_PATTERN.test(id) || !(await deps.tokens.revokeToken(c.get('userId'), id))) {
      throw new HttpError(404, 'notFound', 'no such token');
    }
    // This instance stops accepting it at once; the others within their cache time.
    guard.forget(id);
    return c.body(null, 204);
  });
}
