/**
 * HTTP API Lambda (API Gateway HTTP API v2) and the local server's app: parse, authenticate, call one
 * use-case, map the result. Every error is `{"error":{"code","message"}}`, never a stack trace.
 */
import { type Context, Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { loadConfig } from '../shared/app/config.js';
import { createDeps, type Deps } from '../shared/app/deps.js';
import { errorBody, HttpError } from '../shared/http/errors.js';
import { MAX_BODY_BYTES, parseIdempotencyKey, parseJobBody } from '../shared/http/job-input.js';
import { presentJob } from '../shared/http/present.js';
import { enqueueJobs } from '../shared/jobs/enqueue.js';
import { hashToken } from '../shared/jobs/ids.js';
import { JOB_STATUSES, type JobSource, type JobStatus } from '../shared/jobs/model.js';
import { InvalidCursorError } from '../shared/jobs/store.js';

type Env = { Variables: { userId: string } };

const MAX_TOKEN_LENGTH = 200;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

function bearerOrApiKey(c: Context): string | undefined {
  const auth = c.req.header('authorization');
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1];
  }
  return c.req.header('x-api-key')?.trim() || undefined;
}

/** Known tokens are remembered this long per instance (a deleted token keeps working at most this long). */
const TOKEN_CACHE_MS = 60_000;
const TOKEN_CACHE_MAX = 1000;

/** Resolves tokens to users through the store, remembering known ones briefly (one read less per request). */
function tokenResolver(deps: Deps) {
  const cache = new Map<string, { userId: string; until: number }>();
  return async (token: string | undefined): Promise<string> => {
    if (!token) throw new HttpError(401, 'unauthorized', 'send Authorization: Bearer <token> or X-Api-Key');
    if (token.length > MAX_TOKEN_LENGTH) throw new HttpError(401, 'unauthorized', 'unknown token');
    // Looked up by its sha256: no comparison of the secret itself happens anywhere, so timing reveals nothing.
    const hash = hashToken(token);
    const now = deps.clock.now();
    const hit = cache.get(hash);
    if (hit && hit.until > now) return hit.userId;
    const userId = await deps.store.userForToken(hash);
    if (!userId) throw new HttpError(401, 'unauthorized', 'unknown token');
    if (cache.size >= TOKEN_CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(hash, { userId, until: now + TOKEN_CACHE_MS });
    return userId;
  };
}

async function createJobs(c: Context<Env>, deps: Deps, source: JobSource) {
  const declared = Number(c.req.header('content-length') ?? 0);
  const idempotencyKey = parseIdempotencyKey(c.req.header('idempotency-key'));
  // Refuse an announced oversize body before reading it.
  if (declared > MAX_BODY_BYTES) {
    throw new HttpError(413, 'bodyTooLarge', `body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  const buf = new Uint8Array(await c.req.arrayBuffer());
  const text = new TextDecoder('utf-8', { fatal: false }).decode(buf);
  const parsed = parseJobBody(c.req.header('content-type'), text, buf.byteLength);
  const jobs = await enqueueJobs({ userId: c.get('userId'), source, requests: parsed }, deps);
  if (idempotencyKey) c.header('Idempotency-Key', idempotencyKey);
  return c.json({ jobs }, 202);
}

/** Builds the HTTP app over the given deps (the local runtime serves it with @hono/node-server). */
export function createApiApp(deps: Deps): Hono<Env> {
  const app = new Hono<Env>();
  const authenticate = tokenResolver(deps);

  app.use('*', async (_c, next) => {
    try {
      await next();
    } finally {
      deps.metrics.flush();
    }
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.post('/hooks/:token', async (c) => {
    c.set('userId', await authenticate(c.req.param('token')));
    return createJobs(c, deps, 'hook');
  });

  app.use('/jobs', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'POST') return next();
    c.set('userId', await authenticate(bearerOrApiKey(c)));
    return next();
  });
  app.use('/jobs/*', async (c, next) => {
    if (c.req.method !== 'GET') return next();
    c.set('userId', await authenticate(bearerOrApiKey(c)));
    return next();
  });
  app.use('/reports/*', async (c, next) => {
    if (c.req.method !== 'GET') return next();
    c.set('userId', await authenticate(bearerOrApiKey(c)));
    return next();
  });

  app.post('/jobs', (c) => createJobs(c, deps, 'api'));

  app.get('/jobs', async (c) => {
    const status = c.req.query('status');
    if (status !== undefined && !JOB_STATUSES.includes(status as JobStatus)) {
      throw new HttpError(400, 'invalidStatus', `status must be one of ${JOB_STATUSES.join(', ')}`);
    }
    const limitRaw = c.req.query('limit');
    const limit = limitRaw === undefined ? DEFAULT_PAGE : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new HttpError(400, 'invalidLimit', `limit must be an integer from 1 to ${MAX_PAGE}`);
    }
    const cursor = c.req.query('cursor');
    if (cursor !== undefined && (cursor.length === 0 || cursor.length > 2000)) {
      throw new HttpError(400, 'invalidCursor', 'cursor is not valid');
    }
    const page = await deps.store.listForUser(c.get('userId'), {
      limit,
      ...(status ? { status: status as JobStatus } : {}),
      ...(cursor ? { cursor } : {}),
    });
    return c.json({ jobs: page.items.map(presentJob), ...(page.next ? { next: page.next } : {}) });
  });

  app.get('/jobs/:id', async (c) => {
    const id = c.req.param('id');
    const job = id.length <= 64 ? await deps.store.getJob(id) : undefined;
    if (!job || job.userId !== c.get('userId')) throw new HttpError(404, 'notFound', 'no such job');
    return c.json(presentJob(job));
  });

  app.get('/reports/latest', async (c) => {
    const report = await deps.store.latestReport();
    if (!report) throw new HttpError(404, 'notFound', 'no report yet: the poller has not run');
    return c.json(report);
  });

  const methodNotAllowed = (allowed: string) => (c: Context) => {
    c.header('Allow', allowed);
    return c.json(errorBody('methodNotAllowed', `use ${allowed}`), 405);
  };
  app.all('/health', methodNotAllowed('GET'));
  app.all('/jobs', methodNotAllowed('GET, POST'));
  app.all('/jobs/:id', methodNotAllowed('GET'));
  app.all('/hooks/:token', methodNotAllowed('POST'));
  app.all('/reports/latest', methodNotAllowed('GET'));

  app.notFound((c) => c.json(errorBody('notFound', 'no such route'), 404));
  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json(errorBody(err.code, err.message), err.status);
    if (err instanceof InvalidCursorError) return c.json(errorBody('invalidCursor', err.message), 400);
    deps.logger.error('request failed', {
      path: c.req.path.replace(/^\/hooks\/[^/]+/, '/hooks/[redacted]'),
      error: err,
    });
    return c.json(errorBody('internal', 'internal error; the request may be retried'), 500);
  });
  return app;
}

let lambdaApp: ReturnType<typeof handle> | undefined;

/** API Gateway HTTP API (payload v2) entry point; deps are built on the first call. */
export const handler: ReturnType<typeof handle> = (event, context) => {
  lambdaApp ??= handle(createApiApp(createDeps(loadConfig())));
  return lambdaApp(event, context);
};
