/**
 * HTTP API Lambda (API Gateway HTTP API v2) and the local server's app: parse, authenticate, call one
 * use-case, map the result. Every error is `{"error":{"code","message"}}`, never a stack trace.
 */
import { type Context, Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { type ApiDeps, createApiDeps } from '../shared/app/api-deps.js';
import { loadConfig } from '../shared/app/config.js';
import { bearerOrApiKey, tokenResolver } from '../shared/http/auth.js';
import { errorBody, HttpError } from '../shared/http/errors.js';
import {
  MAX_BODY_BYTES,
  parseIdempotencyKey,
  parseJobBody,
  parseListQuery,
} from '../shared/http/job-input.js';
import { presentJob } from '../shared/http/present.js';
import { resetCircuit } from '../shared/jobs/circuit.js';
import { enqueueJobs } from '../shared/jobs/enqueue.js';
import type { JobSource } from '../shared/jobs/model.js';
import { InvalidCursorError } from '../shared/jobs/store.js';

type Env = { Variables: { userId: string } };

async function createJobs(c: Context<Env>, deps: ApiDeps, source: JobSource) {
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
export function createApiApp(deps: ApiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const authenticate = tokenResolver(deps.store, deps.clock);

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
    c.set(
      'userId',
      await authenticate(bearerOrApiKey(c.req.header('authorization'), c.req.header('x-api-key'))),
    );
    return next();
  });
  app.use('/jobs/*', async (c, next) => {
    if (c.req.method !== 'GET') return next();
    c.set(
      'userId',
      await authenticate(bearerOrApiKey(c.req.header('authorization'), c.req.header('x-api-key'))),
    );
    return next();
  });
  app.use('/reports/*', async (c, next) => {
    if (c.req.method !== 'GET') return next();
    c.set(
      'userId',
      await authenticate(bearerOrApiKey(c.req.header('authorization'), c.req.header('x-api-key'))),
    );
    return next();
  });

  // Any token today; the admin scope only once tokens have scopes.
  app.use('/admin/*', async (c, next) => {
    c.set(
      'userId',
      await authenticate(bearerOrApiKey(c.req.header('authorization'), c.req.header('x-api-key'))),
    );
    return next();
  });

  app.post('/admin/circuit/reset', async (c) => {
    const { before, requeued } = await resetCircuit(deps);
    return c.json({
      circuit: 'closed',
      wasOpen: before.circuitOpen,
      ...(before.circuitReason ? { reason: before.circuitReason } : {}),
      pausedUntil: before.pausedUntil > deps.clock.now() ? new Date(before.pausedUntil).toISOString() : null,
      requeued,
    });
  });

  app.post('/jobs', (c) => createJobs(c, deps, 'api'));

  app.get('/jobs', async (c) => {
    const query = parseListQuery({
      status: c.req.query('status'),
      limit: c.req.query('limit'),
      cursor: c.req.query('cursor'),
    });
    const page = await deps.store.listForUser(c.get('userId'), query);
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
  app.all('/admin/circuit/reset', methodNotAllowed('POST'));

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
  lambdaApp ??= handle(createApiApp(createApiDeps(loadConfig())));
  return lambdaApp(event, context);
};
