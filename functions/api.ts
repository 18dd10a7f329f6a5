/**
 * HTTP API Lambda (API Gateway HTTP API v2) and the local server's app: parse, authenticate, call one
 * use-case, map the result. Every error is `{"error":{"code","message"}}`, never a stack trace.
 */
import { type Context, Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { type ApiDeps, createApiDeps } from '../shared/app/api-deps.js';
import { loadConfig } from '../shared/app/config.js';
import { tokenFromHeaders, tokenResolver } from '../shared/http/auth.js';
import { decodeUtf8Body, readBodyCapped } from '../shared/http/body.js';
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
import { RetryRefusedError, retryJob } from '../shared/jobs/retry.js';
import { InvalidCursorError } from '../shared/jobs/store.js';
import { registerNotifyRoutes } from './routes/notify.js';
import { registerUploadsRoutes } from './routes/uploads.js';

type Env = { Variables: { userId: string } };

async function createJobs(c: Context<Env>, deps: ApiDeps, source: JobSource) {
  const declared = Number(c.req.header('content-length') ?? 0);
  const idempotencyKey = parseIdempotencyKey(c.req.header('idempotency-key'));
  // Refuse an announced oversize body before reading it.
  if (declared > MAX_BODY_BYTES) {
    throw new HttpError(413, 'bodyTooLarge', `body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  // Cut off while reading: a chunked body without Content-Length is never buffered whole.
  const buf = await readBodyCapped(c.req.raw.body, MAX_BODY_BYTES);
  const text = decodeUtf8Body(buf);
  const parsed = parseJobBody(c.req.header('content-type'), text, buf.byteLength, {
    allowPrivateUrls: deps.config.allowPrivateUrls,
  });
  const jobs = await enqueueJobs({ userId: c.get('userId'), source, requests: parsed }, deps);
  if (idempotencyKey) c.header('Idempotency-Key', idempotencyKey);
  const [only] = jobs;
  if (jobs.length === 1 && only && !only.duplicate) c.header('Location', `/jobs/${only.id}`);
  return c.json({ jobs }, 202);
}

/** Realms offered on a 401: Basic too, since Zapier's polling triggers and feed readers send only that. */
const WWW_AUTHENTICATE = 'Bearer realm="fichier-relay", Basic realm="fichier-relay"';

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
  // Before POST /hooks/:token, which would take /hooks/subscriptions.
  registerNotifyRoutes(app, deps, authenticate);
  registerUploadsRoutes(app, deps, authenticate);

  app.post('/hooks/:token', async (c) => {
    c.set('userId', await authenticate(c.req.param('token')));
    return createJobs(c, deps, 'hook');
  });

  /** One authentication step for every header-authenticated route; HEAD is authenticated like GET. */
  const requireToken = (methods: readonly string[]) => async (c: Context<Env>, next: () => Promise<void>) => {
    const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
    if (!methods.includes(method)) return next();
    c.set(
      'userId',
      await authenticate(tokenFromHeaders(c.req.header('authorization'), c.req.header('x-api-key'))),
    );
    return next();
  };
  app.use('/jobs', requireToken(['GET', 'POST']));
  app.use('/jobs/*', requireToken(['GET', 'POST']));
  app.use('/reports/*', requireToken(['GET']));
  // Any token today; the admin scope only once tokens have scopes.
  app.use('/admin/*', requireToken(['POST']));

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
    const format = c.req.query('format');
    if (format !== undefined && format !== 'array') {
      throw new HttpError(
        400,
        'invalidFormat',
        'format must be "array" (a bare JSON array, for Zapier polling)',
      );
    }
    const page = await deps.store.listForUser(c.get('userId'), query);
    const jobs = page.items.map(presentJob);
    if (format === 'array') {
      // Zapier's polling trigger wants a top-level array, newest first, with a stable `id` on each item.
      if (page.next)
        c.header('Link', `</jobs?cursor=${encodeURIComponent(page.next)}&format=array>; rel="next"`);
      return c.json(jobs);
    }
    return c.json({ jobs, ...(page.next ? { next: page.next } : {}) });
  });

  const ownJob = async (c: Context<Env>) => {
    const id = c.req.param('id') ?? '';
    const job = id.length <= 64 ? await deps.store.getJob(id) : undefined;
    if (!job || job.userId !== c.get('userId')) throw new HttpError(404, 'notFound', 'no such job');
    return job;
  };

  app.get('/jobs/:id', async (c) => c.json(presentJob(await ownJob(c))));

  app.post('/jobs/:id/retry', async (c) => {
    const job = await ownJob(c);
    try {
      const queued = await retryJob(job, deps);
      c.header('Location', `/jobs/${job.id}`);
      return c.json(presentJob(queued), 202);
    } catch (err) {
      if (err instanceof RetryRefusedError) throw new HttpError(409, 'notFailed', err.message);
      throw err;
    }
  });

  app.get('/reports/latest', async (c) => {
    if (c.req.query('scope') === 'all') {
      // The relay-wide report holds every user's URLs and links: admin tokens only, once tokens have scopes.
      throw new HttpError(403, 'forbidden', 'the relay-wide report needs an admin token');
    }
    const report = await deps.store.latestReport(c.get('userId'));
    if (!report)
      throw new HttpError(
        404,
        'notFound',
        'no report yet: none of your jobs has ended since the relay started',
      );
    return c.json(report);
  });

  const methodNotAllowed = (allowed: string) => (c: Context) => {
    c.header('Allow', allowed);
    return c.json(errorBody('methodNotAllowed', `use ${allowed}`), 405);
  };
  app.all('/health', methodNotAllowed('GET'));
  app.all('/jobs', methodNotAllowed('GET, POST'));
  app.all('/jobs/:id', methodNotAllowed('GET'));
  app.all('/jobs/:id/retry', methodNotAllowed('POST'));
  app.all('/hooks/:token', methodNotAllowed('POST'));
  app.all('/reports/latest', methodNotAllowed('GET'));
  app.all('/admin/circuit/reset', methodNotAllowed('POST'));

  app.notFound((c) => c.json(errorBody('notFound', 'no such route'), 404));
  app.onError((err, c) => {
    if (err instanceof HttpError) {
      if (err.status === 401) c.header('WWW-Authenticate', WWW_AUTHENTICATE);
      return c.json(errorBody(err.code, err.message), err.status);
    }
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
