/**
 * HTTP API Lambda (API Gateway HTTP API v2) and the local server's app: parse, authenticate, call one
 * use-case, map the result. Every error is `{"error":{"code","message"}}`, never a stack trace.
 */
import { type Context, Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { type ApiDeps, createApiDeps } from '../shared/app/api-deps.js';
import { loadConfig } from '../shared/app/config.js';
import { KeyNotSetError } from '../shared/aws/secrets-key-provider.js';
import { decodeUtf8Body } from '../shared/http/body.js';
import { errorBody, HttpError } from '../shared/http/errors.js';
import {
  parseIdempotencyKey,
  parseJobBody,
  parseListFormat,
  parseListQuery,
} from '../shared/http/job-input.js';
import { presentJob } from '../shared/http/present.js';
import { resetCircuit } from '../shared/jobs/circuit.js';
import { enqueueJobs } from '../shared/jobs/enqueue.js';
import type { JobSource } from '../shared/jobs/model.js';
import { RetryRefusedError, retryJob } from '../shared/jobs/retry.js';
import { withShownStatus } from '../shared/jobs/shown-status.js';
import { InvalidCursorError, type JobRecord } from '../shared/jobs/store.js';
import { MAX_REPORTS_LISTED } from '../shared/reports/store.js';
import { registerFeedRoutes } from './routes/feeds.js';
import { createGuard, type ApiEnv as Env, requestBytes } from './routes/guard.js';
import { answerOtherMethods } from './routes/method-not-allowed.js';
import { registerNotifyRoutes } from './routes/notify.js';
import { createApiDocs, registerOpenApiRoute } from './routes/openapi.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerUploadsRoutes } from './routes/uploads.js';
import { registerWebRoutes } from './routes/web.js';

/** The relay-wide report (admin only); one place, so moving it to the reports store is a one-line change. */
const relayWideReport = (deps: ApiDeps) => deps.reports.latestReport();

async function createJobs(c: Context<Env>, deps: ApiDeps, source: JobSource) {
  const idempotencyKey = parseIdempotencyKey(c.req.header('idempotency-key'));
  // An announced oversize body is refused before reading; a chunked one is cut off while reading. A signed
  // token's request was read (and verified) by the guard: these are the same bytes.
  const buf = await requestBytes(c);
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
  // Every route declares the scope it needs (admin ⊃ full ⊃ {submit, read}).
  const guard = createGuard(deps);
  const { requireScope } = guard;

  app.use('*', async (_c, next) => {
    try {
      await next();
    } finally {
      deps.metrics.flush();
    }
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));
  // Route modules describe their routes next to them (shared/http/openapi.ts); built on first request.
  registerOpenApiRoute(app, createApiDocs);
  // Before POST /hooks/:token, which would take /hooks/subscriptions.
  registerNotifyRoutes(app, deps, requireScope);
  registerUploadsRoutes(app, deps, requireScope);

  // The path form only ever creates jobs, whatever the token's scope.
  app.post('/hooks/:token', guard.requirePathToken('submit'), (c) => createJobs(c, deps, 'hook'));

  app.post('/admin/circuit/reset', requireScope('admin'), async (c) => {
    const { before, requeued } = await resetCircuit(deps);
    return c.json({
      circuit: 'closed',
      wasOpen: before.circuitOpen,
      ...(before.circuitReason ? { reason: before.circuitReason } : {}),
      pausedUntil: before.pausedUntil > deps.clock.now() ? new Date(before.pausedUntil).toISOString() : null,
      requeued,
    });
  });

  app.post('/jobs', requireScope('submit'), (c) => createJobs(c, deps, 'api'));

  app.get('/jobs', requireScope('read'), async (c) => {
    const query = parseListQuery({
      status: c.req.query('status'),
      limit: c.req.query('limit'),
      cursor: c.req.query('cursor'),
    });
    const format = parseListFormat(c.req.query('format'));
    // Sent jobs are stored `submitting` (shown `submitted` through their request): read both as one.
    const stored = query.status === 'submitted' ? { ...query, status: 'submitting' as const } : query;
    const page = await deps.store.listForUser(c.get('userId'), stored);
    const shown = await withShownStatus(page.items, deps.remotes);
    const jobs = shown.filter((j) => !query.status || j.status === query.status).map(presentJob);
    if (format === 'array') {
      // Zapier's polling trigger wants a top-level array, newest first, with a stable `id` on each item.
      if (page.next)
        c.header('Link', `</jobs?cursor=${encodeURIComponent(page.next)}&format=array>; rel="next"`);
      return c.json(jobs);
    }
    return c.json({ jobs, ...(page.next ? { next: page.next } : {}) });
  });

  const ownJob = async (c: Context<Env>): Promise<JobRecord> => {
    const id = c.req.param('id') ?? '';
    const job = id.length <= 64 ? await deps.store.getJob(id) : undefined;
    if (!job || job.userId !== c.get('userId')) throw new HttpError(404, 'notFound', 'no such job');
    return job;
  };

  app.get('/jobs/:id', requireScope('read'), async (c) => {
    const [shown] = await withShownStatus([await ownJob(c)], deps.remotes);
    return c.json(presentJob(shown as JobRecord));
  });

  app.post('/jobs/:id/retry', requireScope('full'), async (c) => {
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

  app.get('/reports/latest', requireScope('read'), async (c) => {
    const scope = c.req.query('scope');
    if (scope !== undefined && scope !== 'all') {
      throw new HttpError(
        400,
        'invalidScope',
        'scope must be "all" (the relay-wide report, admin tokens only)',
      );
    }
    if (scope === 'all' && c.get('scope') !== 'admin') {
      // The relay-wide report holds every user's URLs and links.
      throw new HttpError(403, 'forbidden', 'the relay-wide report needs a token with the "admin" scope');
    }
    const report =
      scope === 'all' ? await relayWideReport(deps) : await deps.reports.latestReport(c.get('userId'));
    if (!report)
      throw new HttpError(
        404,
        'notFound',
        'no report yet: none of your jobs has ended since the relay started',
      );
    return c.json(report);
  });

  app.get('/reports', requireScope('read'), async (c) => {
    const raw = c.req.query('limit') ?? '10';
    const limit = /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_REPORTS_LISTED)) {
      throw new HttpError(400, 'invalidLimit', `limit must be an integer from 1 to ${MAX_REPORTS_LISTED}`);
    }
    const scope = c.req.query('scope');
    if (scope !== undefined && scope !== 'all') {
      throw new HttpError(
        400,
        'invalidScope',
        'scope must be "all" (the relay-wide reports, admin tokens only)',
      );
    }
    if (scope === 'all' && c.get('scope') !== 'admin') {
      throw new HttpError(403, 'forbidden', 'the relay-wide reports need a token with the "admin" scope');
    }
    return c.json({
      reports: await deps.reports.listReports(scope === 'all' ? undefined : c.get('userId'), limit),
    });
  });

  registerTokenRoutes(app, deps, guard);
  registerFeedRoutes(app, deps, (scope) => requireScope(scope));
  registerWebRoutes(app, deps, requireScope('read'));

  answerOtherMethods(app);

  app.notFound((c) => c.json(errorBody('notFound', 'no such route'), 404));
  app.onError((err, c) => {
    if (err instanceof HttpError) {
      if (err.status === 401) c.header('WWW-Authenticate', WWW_AUTHENTICATE);
      return c.json(errorBody(err.code, err.message), err.status);
    }
    if (err instanceof InvalidCursorError) return c.json(errorBody('invalidCursor', err.message), 400);
    if (err instanceof KeyNotSetError) return c.json(errorBody('keyNotSet', err.message), 409);
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
