/**
 * Routes of the outbound side: the account's signing secret, notification targets, Zapier REST hooks and
 * their samples, and the delivery log. Registered on the API app by `registerNotifyRoutes`; each route
 * declares the token scope it needs in {@link NOTIFY_ROUTE_SCOPES}.
 */
import { randomBytes } from 'node:crypto';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { ApiDeps } from '../../shared/app/api-deps.js';
import { tokenFromHeaders } from '../../shared/http/auth.js';
import { decodeUtf8Body, readBodyCapped } from '../../shared/http/body.js';
import { HttpError } from '../../shared/http/errors.js';
import { parseJsonText } from '../../shared/http/json-body.js';
import { presentJob } from '../../shared/http/present.js';
import type { Job } from '../../shared/jobs/model.js';
import { checkOutboundUrl } from '../../shared/net/url-guard.js';
import { type DeliveryMessage, sampleJob } from '../../shared/notify/deliver.js';
import { InvalidTargetConfigError } from '../../shared/notify/errors.js';
import { type JobEvent, messageIdFor } from '../../shared/notify/events.js';
import { redactTarget, redactUrl } from '../../shared/notify/redact.js';
import {
  activeSigningSecrets,
  generateSigningSecret,
  ROTATION_OVERLAP_MS,
} from '../../shared/notify/sign.js';
import {
  HOOK_EVENTS,
  type HookEvent,
  MAX_SUBSCRIPTIONS_PER_USER,
  MAX_TARGETS_PER_USER,
  type StoredTarget,
} from '../../shared/notify/store.js';
import { parseTargetConfig, type TargetConfig } from '../../shared/notify/targets.js';
import type { ApiEnv } from './guard.js';

/** Token scopes (`admin` ⊃ `full` ⊃ {`submit`, `read`}). */
export type RouteScope = 'read' | 'submit' | 'full' | 'admin';

/** The scope each route of this module needs: GETs `read` (but the secret is `full`), writes `full`. */
export const NOTIFY_ROUTE_SCOPES = {
  'GET /account': 'full',
  'POST /account/webhook-secret/rotate': 'full',
  'POST /notifications': 'full',
  'GET /notifications': 'read',
  'DELETE /notifications/:id': 'full',
  'POST /notifications/:id/test': 'full',
  'POST /hooks/subscriptions': 'full',
  'DELETE /hooks/subscriptions/:id': 'full',
  'GET /hooks/samples/:event': 'read',
  'GET /deliveries': 'read',
  'GET /uploads.atom': 'read',
  'GET /uploads.json': 'read',
} as const satisfies Record<string, RouteScope>;

type Env = ApiEnv;

/** Resolves a token to its user (the API's resolver). */
export type Authenticate = (token: string | undefined) => Promise<string>;

/**
 * The authentication step of these routes: Bearer, X-Api-Key or Basic (feed readers and Zapier send only
 * Basic). `scope` is declared per route and enforced once tokens carry scopes.
 */
export function scopedAuth(authenticate: Authenticate) {
  return (_scope: RouteScope): MiddlewareHandler<Env> =>
    async (c, next) => {
      c.set(
        'userId',
        await authenticate(tokenFromHeaders(c.req.header('authorization'), c.req.header('x-api-key'))),
      );
      await next();
    };
}

/** Largest body of these routes: a target config or a subscription is a few hundred bytes. */
const MAX_NOTIFY_BODY = 16 * 1024;
/** How long `POST /notifications/{id}/test` waits for the target's answer before answering 202. */
const TEST_WAIT_MS = 10_000;

async function readJson(c: Context<Env>): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, 'unsupportedMediaType', 'send the body as application/json');
  }
  if (Number(c.req.header('content-length') ?? 0) > MAX_NOTIFY_BODY) {
    throw new HttpError(413, 'bodyTooLarge', `body is larger than ${MAX_NOTIFY_BODY} bytes`);
  }
  const text = decodeUtf8Body(await readBodyCapped(c.req.raw.body, MAX_NOTIFY_BODY));
  return parseJsonText(text);
}

/** Delivery records read to find each target's latest one in `GET /notifications`. */
const LAST_DELIVERY_SCAN = 100;

const newId = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;
const validId = (id: string, prefix: string) => new RegExp(`^${prefix}_[0-9a-f]{20}$`).test(id);

/** A target as API answers show it after creation: secrets redacted. */
export function presentTarget(t: StoredTarget) {
  return { id: t.id, createdAt: t.createdAt, ...redactTarget(t.config) };
}

/** Refuses a target whose own URL the SSRF guard would refuse (webhook URLs, ntfy servers). */
function checkTargetUrl(config: TargetConfig, allowPrivate: boolean): void {
  const url = config.type === 'webhook' ? config.url : config.type === 'ntfy' ? config.server : undefined;
  if (!url) return;
  const check = checkOutboundUrl(url, { allowPrivate });
  if (!check.ok) {
    const field = config.type === 'webhook' ? 'url' : 'server';
    throw new HttpError(400, 'invalidTarget', `${field}: ${check.message}`);
  }
}

/** Registers the routes. Call it before `POST /hooks/:token`, which would otherwise take `/hooks/subscriptions`. */
export function registerNotifyRoutes(
  app: Hono<Env>,
  deps: ApiDeps,
  requireScope: (scope: RouteScope) => MiddlewareHandler<Env>,
): void {
  // Each route's scope (NOTIFY_ROUTE_SCOPES) is enforced by the API's token guard.
  const auth = requireScope;
  const S = NOTIFY_ROUTE_SCOPES;
  const { notify } = deps;
  const now = () => deps.clock.now();

  app.get('/account', auth(S['GET /account']), async (c) => {
    const userId = c.get('userId');
    const secrets = await notify.secrets.getOrCreate(userId, () => generateSigningSecret());
    const active = activeSigningSecrets(secrets, now());
    return c.json({
      user: userId,
      webhookSecret: secrets.current,
      ...(active.length > 1 && secrets.previous
        ? {
            previousSecretValidUntil: new Date(
              secrets.previous.rotatedAt + ROTATION_OVERLAP_MS,
            ).toISOString(),
          }
        : {}),
    });
  });

  app.post('/account/webhook-secret/rotate', auth(S['POST /account/webhook-secret/rotate']), async (c) => {
    const userId = c.get('userId');
    const before = await notify.secrets.getOrCreate(userId, () => generateSigningSecret());
    const next = generateSigningSecret();
    const at = now();
    if (!(await notify.secrets.rotate(userId, before.current, next, at))) {
      throw new HttpError(409, 'conflict', 'the secret was rotated by another request; read GET /account');
    }
    return c.json({
      webhookSecret: next,
      previousSecretValidUntil: new Date(at + ROTATION_OVERLAP_MS).toISOString(),
    });
  });

  app.post('/notifications', auth(S['POST /notifications']), async (c) => {
    const userId = c.get('userId');
    let config: TargetConfig;
    try {
      config = parseTargetConfig(await readJson(c));
    } catch (err) {
      if (err instanceof InvalidTargetConfigError) {
        const text = err.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
        throw new HttpError(400, 'invalidTarget', text);
      }
      throw err;
    }
    checkTargetUrl(config, deps.config.allowPrivateUrls);
    const existing = await notify.targets.listTargets(userId);
    if (existing.length >= MAX_TARGETS_PER_USER) {
      throw new HttpError(
        409,
        'tooManyTargets',
        `at most ${MAX_TARGETS_PER_USER} notification targets; delete one first`,
      );
    }
    const target: StoredTarget = {
      id: newId('ntf'),
      userId,
      config,
      createdAt: new Date(now()).toISOString(),
    };
    await notify.targets.putTarget(target);
    notify.forget(userId);
    c.header('Location', `/notifications/${target.id}`);
    return c.json(presentTarget(target), 201);
  });

  app.get('/notifications', auth(S['GET /notifications']), async (c) => {
    const userId = c.get('userId');
    const targets = await notify.targets.listTargets(userId);
    // Each target's latest delivery (the status page and the CLI show it), from the newest records.
    const recent = targets.length
      ? await notify.deliveries.listDeliveries(userId, { limit: LAST_DELIVERY_SCAN })
      : [];
    const lastOf = (id: string) => recent.find((d) => d.recipient.kind === 'target' && d.recipient.id === id);
    return c.json({
      notifications: targets.map((t) => {
        const d = lastOf(t.id);
        return {
          ...presentTarget(t),
          ...(d
            ? {
                lastDelivery: {
                  at: d.lastAttemptAt,
                  status: d.status,
                  attempts: d.attempts,
                  event: d.event,
                  ...(d.lastStatus !== undefined ? { code: d.lastStatus } : {}),
                },
              }
            : {}),
        };
      }),
    });
  });

  const ownTarget = async (c: Context<Env>) => {
    const id = c.req.param('id') ?? '';
    const t = validId(id, 'ntf') ? await notify.targets.getTarget(c.get('userId'), id) : undefined;
    if (!t) throw new HttpError(404, 'notFound', 'no such notification target');
    return t;
  };

  app.delete('/notifications/:id', auth(S['DELETE /notifications/:id']), async (c) => {
    const t = await ownTarget(c);
    await notify.targets.deleteTarget(t.userId, t.id);
    notify.forget(t.userId);
    return c.body(null, 204);
  });

  app.post('/notifications/:id/test', auth(S['POST /notifications/:id/test']), async (c) => {
    const t = await ownTarget(c);
    // Sent by the deliveries function like any message (the API itself never sends): wait briefly for it.
    const at = now();
    const event: JobEvent = { type: 'job.done', occurredAt: new Date(at).toISOString(), data: sampleJob(at) };
    const message: DeliveryMessage = {
      v: 1,
      userId: t.userId,
      to: { kind: 'target', id: t.id },
      event,
      attempts: 0,
      test: true,
    };
    await notify.queue.send([{ message }]);
    const id = messageIdFor(t.id, event);
    for (let waited = 0; waited < TEST_WAIT_MS; waited += 250) {
      const record = await notify.deliveries.getDelivery(t.userId, event.occurredAt, id);
      if (record && record.status !== 'retrying') {
        return c.json({
          id,
          delivered: record.status === 'delivered',
          status: record.status,
          ...(record.lastStatus !== undefined ? { httpStatus: record.lastStatus } : {}),
          ...(record.answer ? { answer: record.answer } : {}),
          ...(record.note ? { note: record.note } : {}),
        });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return c.json(
      { id, status: 'pending', message: 'the test message is on its way; see GET /deliveries' },
      202,
    );
  });

  app.post('/hooks/subscriptions', auth(S['POST /hooks/subscriptions']), async (c) => {
    const userId = c.get('userId');
    const body = (await readJson(c)) as { target_url?: unknown; event?: unknown } | null;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(
        400,
        'invalidSubscription',
        'body must be {"target_url": "...", "event": "job.done"}',
      );
    }
    const extra = Object.keys(body).filter((k) => k !== 'target_url' && k !== 'event');
    if (extra.length)
      throw new HttpError(
        400,
        'invalidSubscription',
        `unknown field ${extra.map((k) => `"${k}"`).join(', ')}`,
      );
    if (typeof body.target_url !== 'string' || body.target_url.length > 2048) {
      throw new HttpError(
        400,
        'invalidSubscription',
        'target_url must be the URL Zapier gave (bundle.targetUrl)',
      );
    }
    if (!HOOK_EVENTS.includes(body.event as HookEvent)) {
      throw new HttpError(
        400,
        'invalidSubscription',
        `event must be one of ${HOOK_EVENTS.map((e) => `"${e}"`).join(', ')}`,
      );
    }
    const check = checkOutboundUrl(body.target_url, { allowPrivate: deps.config.allowPrivateUrls });
    if (!check.ok) throw new HttpError(400, 'invalidSubscription', `target_url: ${check.message}`);
    if ((await notify.subscriptions.listSubscriptions(userId)).length >= MAX_SUBSCRIPTIONS_PER_USER) {
      throw new HttpError(
        409,
        'tooManySubscriptions',
        `at most ${MAX_SUBSCRIPTIONS_PER_USER} subscriptions; turn a Zap off first`,
      );
    }
    const id = newId('sub');
    await notify.subscriptions.putSubscription({
      id,
      userId,
      targetUrl: body.target_url,
      event: body.event as HookEvent,
      createdAt: new Date(now()).toISOString(),
    });
    notify.forget(userId);
    return c.json({ id, event: body.event, target_url: redactUrl(body.target_url) }, 201);
  });

  app.delete('/hooks/subscriptions/:id', auth(S['DELETE /hooks/subscriptions/:id']), async (c) => {
    const userId = c.get('userId');
    const id = c.req.param('id');
    if (!validId(id, 'sub') || !(await notify.subscriptions.deleteSubscription(userId, id))) {
      throw new HttpError(404, 'notFound', 'no such subscription');
    }
    notify.forget(userId);
    return c.body(null, 204);
  });

  app.get('/hooks/samples/:event', auth(S['GET /hooks/samples/:event']), async (c) => {
    const event = c.req.param('event') as HookEvent;
    if (!HOOK_EVENTS.includes(event)) {
      throw new HttpError(
        404,
        'notFound',
        `no samples for ${JSON.stringify(event)}; use job.done or job.failed`,
      );
    }
    const status = event === 'job.done' ? 'done' : 'failed';
    const page = await deps.store.listForUser(c.get('userId'), { status, limit: 3 });
    const jobs: Job[] = page.items.map(presentJob);
    if (jobs.length === 0) {
      // Zapier needs one item to show fields while a Zap is built: a made-up job of the right shape.
      const sample = sampleJob(now());
      jobs.push(
        status === 'done'
          ? sample
          : {
              ...sample,
              status: 'failed',
              fileUrl: undefined,
              error: { code: 'notFound', message: 'the source answered 404' },
            },
      );
    }
    // Zapier's performList: an array with the same shape as each delivery (the job JSON).
    return c.json(jobs.map((j) => JSON.parse(JSON.stringify(j))));
  });

  app.get('/deliveries', auth(S['GET /deliveries']), async (c) => {
    const raw = c.req.query('limit');
    const limit = raw === undefined ? 50 : Number(raw);
    if (!/^\d+$/.test(raw ?? '50') || limit < 1 || limit > 200) {
      throw new HttpError(400, 'invalidLimit', 'limit must be an integer from 1 to 200');
    }
    const list = await notify.deliveries.listDeliveries(c.get('userId'), { limit });
    return c.json({
      deliveries: list.map((d) => ({
        id: d.id,
        via: d.via,
        ...(d.recipient.kind === 'callback' ? {} : { recipientId: d.recipient.id }),
        event: d.event,
        ...(d.jobId ? { jobId: d.jobId } : {}),
        status: d.status,
        attempts: d.attempts,
        ...(d.lastStatus !== undefined ? { lastStatus: d.lastStatus } : {}),
        occurredAt: d.occurredAt,
        firstAttemptAt: d.firstAttemptAt,
        lastAttemptAt: d.lastAttemptAt,
        ...(d.nextAttemptAt ? { nextAttemptAt: d.nextAttemptAt } : {}),
        ...(d.note ? { note: d.note } : {}),
      })),
    });
  });
}
