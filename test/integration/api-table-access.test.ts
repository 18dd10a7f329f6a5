/**
 * The API role's DynamoDB grants (infra/cdk/table-access.ts `API_ITEM_ACCESS`) cover every call the API
 * really makes: the app's SDK client talks to dynalite through a recording proxy on 127.0.0.1, every
 * route family is exercised (jobs, hooks, signed requests, tokens, feeds, reports, the status page, the
 * circuit reset, notification targets, REST hooks, the account secret, deliveries, uploads feeds), and each recorded call is checked against the `dynamodb:LeadingKeys` patterns the
 * policy is built from. A prefix missing from the list would work locally and be refused in AWS.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api.js';
import { createPollerHandler } from '../../functions/poller.js';
import { createWorkerHandler } from '../../functions/worker.js';
import {
  API_ITEM_ACCESS,
  type ItemAccess,
  leadingKeyPatterns,
  queryKeyPatterns,
} from '../../infra/cdk/table-access.js';
import { createNotifyServices } from '../../shared/app/notify-deps.js';
import { ensureQueue } from '../../shared/aws/queue.js';
import { aesGcmCipher } from '../../shared/notify/cipher.js';
import { signDelivery } from '../../shared/notify/sign.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { type Harness, harness, receiveEvent } from '../support/engines-pipeline.js';

/** One DynamoDB call as the proxy saw it: the operation, the partition keys it names, on an index or not. */
interface Call {
  op: string;
  keys: string[];
  index: boolean;
}

type Attr = { S?: string };
type Body = Record<string, unknown> & {
  Key?: { pk?: Attr };
  Item?: { pk?: Attr };
  RequestItems?: Record<string, { Keys?: { pk?: Attr }[] }>;
  IndexName?: string;
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, Attr>;
};

/** The table partition keys a request names (for a Query: the `pk = :value` of its key condition). */
function keysOf(op: string, body: Body): string[] {
  if (op === 'BatchGetItem') {
    return Object.values(body.RequestItems ?? {}).flatMap((t) => (t.Keys ?? []).map((k) => k.pk?.S ?? ''));
  }
  if (op === 'Query') {
    for (const [, name, value] of (body.KeyConditionExpression ?? '').matchAll(/(#?\w+)\s*=\s*(:\w+)/g)) {
      const attribute = name?.startsWith('#') ? body.ExpressionAttributeNames?.[name] : name;
      if (attribute === 'pk') return [body.ExpressionAttributeValues?.[value ?? '']?.S ?? ''];
    }
    return [''];
  }
  return [body.Key?.pk?.S ?? body.Item?.pk?.S ?? ''];
}

const LEVEL: Record<string, ItemAccess> = {
  GetItem: 'read',
  BatchGetItem: 'read',
  ConditionCheckItem: 'read',
  PutItem: 'write',
  UpdateItem: 'write',
  DeleteItem: 'delete',
};

const matches = (pattern: string, key: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(key);

/** Why the API role would refuse `call`, or undefined when its grants allow it. */
function refusal(call: Call): string | undefined {
  if (call.op === 'Query' && call.index) return undefined;
  const patterns =
    call.op === 'Query'
      ? queryKeyPatterns(API_ITEM_ACCESS)
      : LEVEL[call.op]
        ? leadingKeyPatterns(API_ITEM_ACCESS, LEVEL[call.op] as ItemAccess)
        : [];
  const denied = call.keys.filter((k) => !patterns.some((p) => matches(p, k)));
  return denied.length ? `${call.op} on ${denied.join(', ')}` : undefined;
}

let aws: TestAws;
let proxy: Server;
let h: Harness;
let app: ReturnType<typeof createApiApp>;
let queueUrl: string;
const calls: Call[] = [];
let recording = true;
const ADMIN = 'fr_table-access-admin';

beforeAll(async () => {
  aws = await startTestAws();
  const target = new URL(aws.engines.dynamoEndpoint);
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      if (recording) {
        const body = JSON.parse(raw.toString('utf8') || '{}') as Body;
        calls.push({ op, keys: keysOf(op, body), index: body.IndexName !== undefined });
      }
      const out = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      out.end(raw);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const fresh = await aws.fresh({ tokenRatePerMin: 100_000 });
  // A deliveries queue, so `POST /notifications/{id}/test` can hand its message over (nothing consumes it).
  const deliveries = await ensureQueue(aws.sqs, `deliveries-${randomBytes(4).toString('hex')}`);
  const config = { ...fresh, notify: { ...fresh.notify, queueUrl: deliveries } };
  queueUrl = config.queueUrl;
  // The app's DynamoDB client is created after this, so it goes through the proxy.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  h = harness(config);
  // The notification stores with a sealing key, on a client that also goes through the proxy.
  const key = randomBytes(32);
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  h.deps.notify = createNotifyServices(config, doc, h.clock, { cipher: aesGcmCipher(async () => key) });
  await registerToken(h.deps.tokens, { token: ADMIN, userId: 'alice', scope: 'admin' }, h.clock.now());
  app = createApiApp(h.deps);
});
afterAll(async () => {
  if (aws) process.env.AWS_ENDPOINT_URL_DYNAMODB = aws.engines.dynamoEndpoint;
  await new Promise((resolve) => proxy?.close(resolve));
  await aws?.close();
});

/** Runs `fn` without recording: the worker and the poller have their own grants. */
async function unrecorded(fn: () => Promise<unknown>): Promise<void> {
  recording = false;
  try {
    await fn();
  } finally {
    recording = true;
  }
}

const send = async (path: string, init: RequestInit & { token?: string } = {}) => {
  const { token = ADMIN, ...rest } = init;
  const res = await app.request(path, {
    ...rest,
    headers: { authorization: `Bearer ${token}`, ...(rest.headers as Record<string, string>) },
  });
  return { status: res.status, body: (await res.text()) || '{}' };
};
const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('the API role', () => {
  it('allows every DynamoDB call the API makes on each of its routes', async () => {
    const expectStatus = (r: { status: number; body: string }, status: number) =>
      expect(r.status, r.body).toBe(status);

    // Jobs and hooks; a sent job is shown `submitted` through its claim's request item.
    const created = await send('/jobs', json({ url: 'https://files.example/a.bin' }));
    expectStatus(created, 202);
    const jobId = (JSON.parse(created.body) as { jobs: { id: string }[] }).jobs[0]?.id ?? '';
    expectStatus(await send(`/hooks/${ADMIN}`, json({ url: 'https://files.example/b.bin' })), 202);
    await unrecorded(async () => createWorkerHandler(h.deps)(await receiveEvent(aws.sqs, queueUrl, 2)));
    const shown = await send(`/jobs/${jobId}`, { token: ADMIN });
    expectStatus(shown, 200);
    expect(JSON.parse(shown.body).status).toBe('submitted');
    expectStatus(await send('/jobs?status=submitted'), 200);
    expectStatus(await send('/status'), 200);
    expectStatus(await send(`/jobs/${jobId}/retry`, { method: 'POST' }), 409);

    // Reports, once the poller wrote them.
    await unrecorded(async () => {
      for (const r of h.fake.requests) h.fake.finish(r.id);
      await createPollerHandler(h.deps)();
    });
    expectStatus(await send('/reports/latest'), 200);
    expectStatus(await send('/reports?limit=5'), 200);
    expectStatus(await send('/reports?scope=all'), 200);

    // Tokens, and a signed request (its answer is kept for replays).
    const made = await send('/tokens', json({ name: 'ci', scope: 'submit', signed: true }));
    expectStatus(made, 201);
    const signed = JSON.parse(made.body) as { id: string; token: string; signingSecret: string };
    const body = JSON.stringify({ url: 'https://files.example/signed.bin' });
    const headers = signDelivery({
      id: 'msg_access_1',
      timestamp: new Date(h.clock.now()),
      body,
      secrets: [signed.signingSecret],
    });
    for (let i = 0; i < 2; i++) {
      const res = await send('/jobs', {
        method: 'POST',
        token: signed.token,
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      expectStatus(res, 202);
    }
    expectStatus(await send('/tokens'), 200);
    expectStatus(await send(`/tokens/${signed.id}`, { method: 'DELETE' }), 204);

    // Feeds.
    const feed = await send('/feeds', json({ url: 'https://example.com/podcast.xml', folder: 'Podcasts' }));
    expectStatus(feed, 201);
    const feedId = (JSON.parse(feed.body) as { id: string }).id;
    expectStatus(await send('/feeds'), 200);
    expectStatus(await send(`/feeds/${feedId}`), 200);
    expectStatus(await send(`/feeds/${feedId}`, { ...json({ enabled: false }), method: 'PATCH' }), 200);
    expectStatus(await send(`/feeds/${feedId}`, { method: 'DELETE' }), 204);
    const opml =
      '<?xml version="1.0"?><opml version="2.0"><head/><body>' +
      '<outline text="n" type="rss" xmlUrl="https://example.com/news.rss"/></body></opml>';
    expectStatus(await send('/feeds/import', json({ opml })), 201);

    // Notifications: targets, the account's signing secret, REST hooks, deliveries, uploads feeds.
    const target = await send(
      '/notifications',
      json({ type: 'ifttt', event: 'upload_done', key: 'k3y_table_access_1234', events: ['job.done'] }),
    );
    expectStatus(target, 201);
    const targetId = (JSON.parse(target.body) as { id: string }).id;
    expectStatus(await send('/notifications'), 200);
    // Nothing delivers here: the route waits for the delivery record, then answers 202.
    expectStatus(await send(`/notifications/${targetId}/test`, { method: 'POST' }), 202);
    expectStatus(await send(`/notifications/${targetId}`, { method: 'DELETE' }), 204);
    expectStatus(await send('/account'), 200);
    expectStatus(await send('/account/webhook-secret/rotate', { method: 'POST' }), 200);
    const hook = await send(
      '/hooks/subscriptions',
      json({ target_url: 'https://hooks.zapier.com/hooks/standard/1/abc/', event: 'job.done' }),
    );
    expectStatus(hook, 201);
    const hookId = (JSON.parse(hook.body) as { id: string }).id;
    expectStatus(await send(`/hooks/subscriptions/${hookId}`, { method: 'DELETE' }), 204);
    expectStatus(await send('/hooks/samples/job.done'), 200);
    expectStatus(await send('/deliveries'), 200);
    expectStatus(await send('/uploads.atom'), 200);
    expectStatus(await send('/uploads.json'), 200);

    // The circuit reset (pacer, pending index).
    expectStatus(await send('/admin/circuit/reset', { method: 'POST' }), 200);

    expect(calls.filter((c) => c.op === 'Scan')).toEqual([]);
    expect(calls.map(refusal).filter(Boolean)).toEqual([]);
    // The calls the grants were widened for were really made (so this test sees them).
    const seen = (op: string, prefix: string) =>
      calls.some((c) => c.op === op && !c.index && c.keys.some((k) => k.startsWith(prefix)));
    expect(seen('Query', 'CLAIM#')).toBe(true);
    expect(seen('Query', 'REPORTS#')).toBe(true);
    expect(seen('Query', 'FEEDS#')).toBe(true);
    expect(seen('UpdateItem', 'TOKEN#')).toBe(true);
    expect(seen('PutItem', 'REPLAY#')).toBe(true);
    expect(seen('GetItem', 'FEEDLOG#')).toBe(true);
    expect(seen('Query', 'NOTIFY#')).toBe(true);
    expect(seen('PutItem', 'NOTIFY#')).toBe(true);
    expect(seen('DeleteItem', 'NOTIFY#')).toBe(true);
    expect(seen('Query', 'DELIVERY#')).toBe(true);
    expect(seen('GetItem', 'DELIVERY#')).toBe(true);
    expect(calls.some((c) => c.op === 'Query' && c.index)).toBe(true);
  });

  it('would refuse a call outside the list (the check is not vacuous)', () => {
    expect(refusal({ op: 'DeleteItem', keys: ['JOB#j1'], index: false })).toMatch(/DeleteItem on JOB#j1/);
    expect(refusal({ op: 'Query', keys: ['JOB#j1'], index: false })).toBeDefined();
    expect(refusal({ op: 'PutItem', keys: ['FEEDSEEN#fd_1'], index: false })).toBeDefined();
    expect(refusal({ op: 'Scan', keys: [''], index: false })).toBeDefined();
  });
});
