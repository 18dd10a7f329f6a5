import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api.js';
import { createPollerHandler } from '../../functions/poller.js';
import { createWorkerHandler } from '../../functions/worker.js';
import type { RelayConfig } from '../../shared/app/config.js';
import type { Deps } from '../../shared/app/deps.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness, receiveEvent } from '../support/engines-pipeline.js';

let aws: TestAws;
let config: RelayConfig;
let deps: Deps;
let app: ReturnType<typeof createApiApp>;
const TOKEN = 'fr_test-token-alice';
const BOB = 'fr_test-token-bob';

beforeAll(async () => {
  aws = await startTestAws();
  config = await aws.fresh();
  deps = harness(config).deps;
  await registerToken(deps.tokens, { token: TOKEN, userId: 'alice' }, Date.now());
  await registerToken(deps.tokens, { token: BOB, userId: 'bob' }, Date.now());
  app = createApiApp(deps);
});
afterAll(async () => {
  await aws?.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const postJson = (body: unknown, headers: Record<string, string> = auth) =>
  app.request('/jobs', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

async function errorOf(res: Response) {
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBeTypeOf('string');
  expect(body.error.message).toBeTypeOf('string');
  return body.error;
}

async function aliceJobCount(): Promise<number> {
  return (await deps.store.listForUser('alice', { limit: 100 })).items.length;
}

describe('HTTP API', () => {
  it('answers GET /health without auth', async () => {
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('refuses missing and unknown tokens with 401 JSON', async () => {
    const none = await postJson({ url: 'https://a.example/x' }, {});
    expect(none.status).toBe(401);
    expect((await errorOf(none)).code).toBe('unauthorized');
    const wrong = await postJson({ url: 'https://a.example/x' }, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    const hook = await app.request('/hooks/nope', { method: 'POST', body: 'https://a.example/x' });
    expect(hook.status).toBe(401);
  });

  it('creates a job (202), queues one message, and reports a duplicate as the existing job', async () => {
    const res = await postJson({ url: 'https://A.example/file.iso?sig=1', folder: 'Inbox' });
    expect(res.status).toBe(202);
    const { jobs } = (await res.json()) as {
      jobs: { id: string; url: string; status: string; duplicate: boolean }[];
    };
    expect(jobs).toEqual([
      { id: expect.any(String), url: 'https://a.example/file.iso?sig=1', status: 'queued', duplicate: false },
    ]);
    const again = await postJson({ url: 'https://a.example/file.iso?sig=1#x', folder: '/Inbox/' });
    expect(((await again.json()) as { jobs: unknown[] }).jobs).toEqual([{ ...jobs[0], duplicate: true }]);
    const event = await receiveEvent(aws.sqs, config.queueUrl, 5);
    expect(event.Records.map((r) => JSON.parse(r.body).jobId)).toEqual([jobs[0]?.id]);

    const got = await app.request(`/jobs/${jobs[0]?.id}`, { headers: auth });
    expect(got.status).toBe(200);
    const job = (await got.json()) as Record<string, unknown>;
    expect(job).toMatchObject({
      id: jobs[0]?.id,
      status: 'queued',
      folder: 'Inbox',
      source: 'api',
      attempts: 0,
    });
    expect(job).not.toHaveProperty('userId');
  });

  it('accepts form bodies on /hooks/:token and text bodies with X-Api-Key', async () => {
    const form = await app.request(`/hooks/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'url=https%3A%2F%2Fifttt.example%2Fa&url=https%3A%2F%2Fifttt.example%2Fb&folder=IFTTT',
    });
    expect(form.status).toBe(202);
    const formJobs = ((await form.json()) as { jobs: { id: string }[] }).jobs;
    expect(formJobs).toHaveLength(2);
    expect((await deps.store.getJob(formJobs[0]?.id ?? ''))?.source).toBe('hook');
    const text = await app.request('/jobs', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-api-key': TOKEN, 'idempotency-key': 'abc-123' },
      body: 'https://text.example/1\nhttps://text.example/2\n',
    });
    expect(text.status).toBe(202);
    expect(((await text.json()) as { jobs: unknown[] }).jobs).toHaveLength(2);
  });

  it('answers bad input with a 4xx JSON error and writes nothing', async () => {
    const before = await aliceJobCount();
    const cases: [Response, number][] = [
      [await postJson({ urls: ['https://ok.example/1', 'ftp://bad.example/2'] }), 400],
      [await postJson({ url: 'https://ok.example/1', folder: '../etc' }), 400],
      [await postJson({ nope: true }), 400],
      [await postJson({ urls: Array.from({ length: 501 }, (_, i) => `https://ok.example/${i}`) }), 413],
      [await postJson({ url: `https://ok.example/${'x'.repeat(300 * 1024)}` }), 413],
      [
        await app.request('/jobs', {
          method: 'POST',
          headers: { ...auth, 'content-type': 'image/png' },
          body: 'x',
        }),
        415,
      ],
      [await postJson({ url: 'https://ok.example/1' }, { ...auth, 'idempotency-key': 'x'.repeat(300) }), 400],
    ];
    for (const [res, status] of cases) {
      expect(res.status).toBe(status);
      const err = await errorOf(res);
      expect(err.message).not.toMatch(/\bat .*\.ts:\d+/);
    }
    expect(await aliceJobCount()).toBe(before);
  });

  it("hides other users' jobs (404) and lists the caller's newest first with a cursor and a status filter", async () => {
    const mine = (
      (await (await postJson({ urls: ['https://list.example/1', 'https://list.example/2'] })).json()) as {
        jobs: { id: string }[];
      }
    ).jobs;
    const theirs = await app.request(`/jobs/${mine[0]?.id}`, { headers: { authorization: `Bearer ${BOB}` } });
    expect(theirs.status).toBe(404);
    expect((await errorOf(theirs)).code).toBe('notFound');
    expect((await app.request('/jobs/unknown-id', { headers: auth })).status).toBe(404);

    const total = await aliceJobCount();
    const seen: { id: string; createdAt: string }[] = [];
    let cursor: string | undefined;
    do {
      const res = await app.request(`/jobs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        headers: auth,
      });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { jobs: { id: string; createdAt: string }[]; next?: string };
      expect(page.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...page.jobs);
      cursor = page.next;
    } while (cursor);
    expect(seen).toHaveLength(total);
    expect(new Set(seen.map((j) => j.id)).size).toBe(total);
    const times = seen.map((j) => j.createdAt);
    expect([...times].sort().reverse()).toEqual(times);

    const queued = await app.request('/jobs?status=queued&limit=100', { headers: auth });
    expect(
      ((await queued.json()) as { jobs: { status: string }[] }).jobs.every((j) => j.status === 'queued'),
    ).toBe(true);
    expect((await app.request('/jobs?status=nope', { headers: auth })).status).toBe(400);
    expect((await app.request('/jobs?limit=0', { headers: auth })).status).toBe(400);
    const badCursor = await app.request('/jobs?cursor=garbage', { headers: auth });
    expect(badCursor.status).toBe(400);
    expect((await errorOf(badCursor)).code).toBe('invalidCursor');
  });

  it('serves each user the report of their own jobs only, and never the relay-wide one', async () => {
    const fresh = await aws.fresh();
    const h = harness(fresh);
    await registerToken(h.deps.tokens, { token: TOKEN, userId: 'alice' }, Date.now());
    await registerToken(h.deps.tokens, { token: BOB, userId: 'bob' }, Date.now());
    const app2 = createApiApp(h.deps);
    const asBob = { authorization: `Bearer ${BOB}` };
    expect((await app2.request('/reports/latest', { headers: auth })).status).toBe(404);
    const create = (token: string, url: string) =>
      app2.request('/jobs', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: url,
      });
    await create(TOKEN, 'https://alice.example/secret-a.bin?sig=alice');
    await create(BOB, 'https://bob.example/secret-b.bin?sig=bob');
    await createWorkerHandler(h.deps)(await receiveEvent(aws.sqs, fresh.queueUrl, 2));
    const [request] = h.fake.requests;
    h.fake.finish(request?.id ?? 0, { 'https://bob.example/secret-b.bin?sig=bob': 'Download failed #1' });
    const relayWide = await createPollerHandler(h.deps)();
    expect(relayWide.completed).toHaveLength(1);
    expect(relayWide.failures).toHaveLength(1);

    const alice = await app2.request('/reports/latest', { headers: auth });
    expect(alice.status).toBe(200);
    const aliceText = await alice.text();
    expect(aliceText).toContain('secret-a.bin');
    expect(aliceText).not.toContain('bob');
    const bob = await (await app2.request('/reports/latest', { headers: asBob })).text();
    expect(bob).toContain('secret-b.bin');
    expect(bob).not.toContain('alice');
    expect(JSON.parse(bob)).toMatchObject({ counts: { done: 0, failed: 1 } });
    const all = await app2.request('/reports/latest?scope=all', { headers: auth });
    expect(all.status).toBe(403);
  });

  it('answers unknown routes with 404 JSON and wrong methods with 405 JSON', async () => {
    const missing = await app.request('/nope', { headers: auth });
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('notFound');
    const wrong = await app.request('/jobs', { method: 'DELETE', headers: auth });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
    expect((await errorOf(wrong)).code).toBe('methodNotAllowed');
    expect((await app.request('/health', { method: 'POST' })).status).toBe(405);
  });

  it('answers an internal failure with 500 JSON and no stack trace', async () => {
    const broken = createApiApp({
      ...deps,
      store: {
        ...deps.store,
        getJob: async () => {
          throw new Error('dynamo exploded at /secret/path.ts:12');
        },
      },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const res = await broken.request('/jobs/x', { headers: auth });
    expect(res.status).toBe(500);
    const err = await errorOf(res);
    expect(err.code).toBe('internal');
    expect(err.message).not.toMatch(/exploded|path\.ts/);
  });
});
