/**
 * Tokens over the real app, dynalite and fauxqs: creating, listing and revoking them, scopes on every
 * route, revocation within 5 s on another instance, the per-token rate limit shared by two instances,
 * signed (Standard Webhooks) tokens with replays answered as the first time, and two users who never see
 * each other's jobs, links, reports or tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api.js';
import { createPollerHandler } from '../../functions/poller.js';
import { createWorkerHandler } from '../../functions/worker.js';
import type { Deps } from '../../shared/app/deps.js';
import { signDelivery } from '../../shared/notify/sign.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness, receiveEvent } from '../support/engines-pipeline.js';

let aws: TestAws;
let deps: Deps;
let clock: ReturnType<typeof harness>['clock'];
let app: ReturnType<typeof createApiApp>;
const ADMIN = 'fr_tokens-admin-alice';
const FULL = 'fr_tokens-full-alice';

beforeAll(async () => {
  aws = await startTestAws();
  ({ deps, clock } = harness({ ...(await aws.fresh()), tokenRatePerMin: 1000 }));
  await registerToken(deps.tokens, { token: ADMIN, userId: 'alice', scope: 'admin' }, clock.now());
  await registerToken(deps.tokens, { token: FULL, userId: 'alice', scope: 'full' }, clock.now());
  app = createApiApp(deps);
});
afterAll(async () => {
  await aws?.close();
});

type Json = Record<string, unknown>;
const as = (token: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  ...extra,
});
const createToken = async (by: string, body: Json, on = app) =>
  on.request('/tokens', {
    method: 'POST',
    headers: as(by, { 'content-type': 'application/json' }),
    body: JSON.stringify(body),
  });
const newToken = async (by: string, body: Json, on = app) => {
  const res = await createToken(by, body, on);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as {
    id: string;
    user: string;
    scope: string;
    token: string;
    signingSecret?: string;
  };
};
const postJob = (token: string, url: string, on = app) =>
  on.request('/jobs', { method: 'POST', headers: as(token, { 'content-type': 'text/plain' }), body: url });
const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;
const jobCount = async (userId: string) =>
  (await deps.store.listForUser(userId, { limit: 100 })).items.length;

describe('POST /tokens, GET /tokens, DELETE /tokens/{id}', () => {
  it('creates a token (201 with the secret once), lists it without any secret, with lastUsedAt once used', async () => {
    const res = await createToken(FULL, { name: 'zapier polling', scope: 'read' });
    expect(res.status).toBe(201);
    const made = (await res.json()) as Json;
    expect(Object.keys(made).sort()).toEqual(['createdAt', 'id', 'name', 'scope', 'signed', 'token', 'user']);
    expect(made).toMatchObject({ user: 'alice', name: 'zapier polling', scope: 'read', signed: false });
    expect(String(made.id)).toMatch(/^tok_/);
    expect(res.headers.get('location')).toBe(`/tokens/${made.id}`);

    const listed = async () => {
      const list = await app.request('/tokens', { headers: as(FULL) });
      expect(list.status).toBe(200);
      const text = await list.text();
      expect(text).not.toContain(String(made.token));
      return (JSON.parse(text) as { tokens: Json[] }).tokens.find((t) => t.id === made.id);
    };
    const before = await listed();
    expect(before).toMatchObject({ id: made.id, name: 'zapier polling', scope: 'read', lastUsedAt: null });
    expect(before).not.toHaveProperty('token');
    expect(before).not.toHaveProperty('signingSecret');

    expect((await app.request('/jobs', { headers: as(String(made.token)) })).status).toBe(200);
    expect((await listed())?.lastUsedAt).toBe(new Date(clock.now()).toISOString());
  });

  it('gives no wider scope than the caller has, and another user only from an admin token', async () => {
    const wider = await createToken(FULL, { name: 'x', scope: 'admin' });
    expect(wider.status).toBe(403);
    const forBob = await createToken(FULL, { name: 'x', user: 'bob' });
    expect(forBob.status).toBe(403);
    expect((await errorOf(forBob)).message).toMatch(/admin/);

    const bob = await newToken(ADMIN, { name: 'bob laptop', user: 'bob' });
    expect(bob).toMatchObject({ user: 'bob', scope: 'full' });
    expect((await postJob(bob.token, 'https://bob.example/own.bin')).status).toBe(202);
    expect(await jobCount('bob')).toBe(1);
    const bobList = (await (await app.request('/tokens', { headers: as(bob.token) })).json()) as {
      tokens: Json[];
    };
    expect(bobList.tokens.map((t) => t.user)).toEqual(['bob']);
  });

  it('refuses malformed bodies with 400/415 JSON and creates nothing', async () => {
    const before = ((await (await app.request('/tokens', { headers: as(FULL) })).json()) as { tokens: [] })
      .tokens.length;
    for (const body of [{}, { name: '' }, { name: 'x', scope: 'root' }, { name: 'x', signed: 'yes' }]) {
      expect((await createToken(FULL, body)).status).toBe(400);
    }
    const text = await app.request('/tokens', {
      method: 'POST',
      headers: as(FULL, { 'content-type': 'text/plain' }),
      body: 'name=x',
    });
    expect(text.status).toBe(415);
    const after = ((await (await app.request('/tokens', { headers: as(FULL) })).json()) as { tokens: [] })
      .tokens.length;
    expect(after).toBe(before);
  });

  it("answers another user's token id exactly like an unknown one (404) and leaves it working", async () => {
    const bob = await newToken(ADMIN, { name: 'bob phone', user: 'bob' });
    const res = await app.request(`/tokens/${bob.id}`, { method: 'DELETE', headers: as(FULL) });
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toEqual({ code: 'notFound', message: 'no such token' });
    expect((await app.request('/jobs', { headers: as(bob.token) })).status).toBe(200);
  });

  it('a revoked token fails at once on the revoking instance and within 5 s on another one', async () => {
    const other = createApiApp(deps);
    const made = await newToken(FULL, { name: 'to revoke' });
    // The other instance has the token cached.
    expect((await other.request('/jobs', { headers: as(made.token) })).status).toBe(200);
    const del = await app.request(`/tokens/${made.id}`, { method: 'DELETE', headers: as(FULL) });
    expect(del.status).toBe(204);
    expect((await app.request('/jobs', { headers: as(made.token) })).status).toBe(401);
    clock.advance(5_000);
    expect((await other.request('/jobs', { headers: as(made.token) })).status).toBe(401);
    const list = (await (await app.request('/tokens', { headers: as(FULL) })).json()) as { tokens: Json[] };
    expect(list.tokens.map((t) => t.id)).not.toContain(made.id);
  });
});

describe('scopes on every route', () => {
  let submit: string;
  let read: string;
  beforeAll(async () => {
    submit = (await newToken(FULL, { name: 'ifttt', scope: 'submit' })).token;
    read = (await newToken(FULL, { name: 'feed reader', scope: 'read' })).token;
  });

  it('a submit token creates jobs (header and hook path) and gets 403 naming "read" on reads', async () => {
    expect((await postJob(submit, 'https://files.example/submit-1.bin')).status).toBe(202);
    const hook = await app.request(`/hooks/${submit}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'https://files.example/submit-2.bin',
    });
    expect(hook.status).toBe(202);
    for (const [method, path] of [
      ['GET', '/jobs'],
      ['HEAD', '/jobs'],
      ['GET', '/reports/latest'],
      ['GET', '/jobs/abc'],
    ] as const) {
      const res = await app.request(path, { method, headers: as(submit) });
      expect(res.status, `${method} ${path}`).toBe(403);
      if (method === 'GET') expect((await errorOf(res)).message).toContain('"read"');
    }
  });

  it('a read token reads and gets 403 naming the scope on writes, the hook path included', async () => {
    expect((await app.request('/jobs', { headers: as(read) })).status).toBe(200);
    const before = await jobCount('alice');
    const post = await postJob(read, 'https://files.example/read-write.bin');
    expect(post.status).toBe(403);
    expect((await errorOf(post)).message).toContain('"submit"');
    const hook = await app.request(`/hooks/${read}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'https://files.example/read-hook.bin',
    });
    expect(hook.status).toBe(403);
    const retry = await app.request('/jobs/abc/retry', { method: 'POST', headers: as(read) });
    expect(retry.status).toBe(403);
    expect((await errorOf(retry)).message).toContain('"full"');
    expect((await createToken(read, { name: 'x', scope: 'read' })).status).toBe(403);
    expect(await jobCount('alice')).toBe(before);
  });

  it('the circuit reset and the relay-wide report need admin; a full token gets 403 naming it', async () => {
    const reset = await app.request('/admin/circuit/reset', { method: 'POST', headers: as(FULL) });
    expect(reset.status).toBe(403);
    expect((await errorOf(reset)).message).toContain('"admin"');
    const all = await app.request('/reports/latest?scope=all', { headers: as(FULL) });
    expect(all.status).toBe(403);
    expect((await errorOf(all)).message).toContain('"admin"');
    const asAdmin = await app.request('/reports/latest?scope=all', { headers: as(ADMIN) });
    expect(asAdmin.status).toBe(404); // allowed; the poller has not written a report yet
    expect((await app.request('/admin/circuit/reset', { method: 'POST', headers: as(ADMIN) })).status).toBe(
      200,
    );
  });
});

describe('per-token rate limit', () => {
  it('holds across two instances over one table: 429 JSON with Retry-After once their sum reaches it', async () => {
    const h = harness({ ...(await aws.fresh()), tokenRatePerMin: 5 });
    h.clock.t = Date.UTC(2026, 10, 27, 12, 0, 0);
    const token = 'fr_rate-limited-token';
    await registerToken(h.deps.tokens, { token, userId: 'carol' }, h.clock.now());
    const a = createApiApp(h.deps);
    const b = createApiApp(h.deps);
    const get = (on: typeof a) => on.request('/jobs', { headers: as(token) });

    // a: 3 uses (the first is written at once, the next two stay in memory), then a flush 5 s later.
    for (let i = 0; i < 3; i++) expect((await get(a)).status).toBe(200);
    h.clock.advance(5_000);
    expect((await get(a)).status).toBe(200); // flushed: 4 in the window
    // b's first use is written at once and learns the shared total.
    expect((await get(b)).status).toBe(200); // 5
    const limited = await get(b);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/json/);
    expect(limited.headers.get('retry-after')).toBe('55');
    expect((await errorOf(limited)).code).toBe('rateLimited');
    // A new minute starts a new window.
    h.clock.advance(55_000);
    expect((await get(b)).status).toBe(200);
  });
});

describe('signed tokens (Standard Webhooks)', () => {
  let signed: { id: string; token: string; signingSecret: string };
  beforeAll(async () => {
    const made = await newToken(FULL, { name: 'github action', scope: 'submit', signed: true });
    expect(made.signingSecret).toMatch(/^whsec_/);
    signed = made as typeof signed;
  });

  const signedPost = (
    body: string,
    id: string,
    opts: { at?: number; sendBody?: string; path?: string } = {},
  ) => {
    const headers = signDelivery({
      id,
      timestamp: new Date(opts.at ?? clock.now()),
      body,
      secrets: [signed.signingSecret],
    });
    return app.request(opts.path ?? '/jobs', {
      method: 'POST',
      headers: { ...as(signed.token), 'content-type': 'application/json', ...headers },
      body: opts.sendBody ?? body,
    });
  };

  it('accepts a valid signature and answers a reused webhook-id exactly as the first time, creating nothing', async () => {
    const body = JSON.stringify({ url: 'https://files.example/signed-1.bin' });
    const first = await signedPost(body, 'msg_signed_1');
    expect(first.status).toBe(202);
    const firstText = await first.text();
    const count = await jobCount('alice');
    const again = await signedPost(body, 'msg_signed_1');
    expect(again.status).toBe(202);
    expect(await again.text()).toBe(firstText);
    // Even with another body, the same id is the same request.
    const other = await signedPost(
      JSON.stringify({ url: 'https://files.example/signed-2.bin' }),
      'msg_signed_1',
    );
    expect(await other.text()).toBe(firstText);
    expect(await jobCount('alice')).toBe(count);
  });

  it('refuses a missing header, a tampered body and a stale timestamp with 401 JSON', async () => {
    const count = await jobCount('alice');
    const unsigned = await postJob(signed.token, 'https://files.example/unsigned.bin');
    expect(unsigned.status).toBe(401);
    expect((await errorOf(unsigned)).code).toBe('invalidSignature');
    const body = JSON.stringify({ url: 'https://files.example/signed-3.bin' });
    const tampered = await signedPost(body, 'msg_tampered', {
      sendBody: JSON.stringify({ url: 'https://evil.example/x.bin' }),
    });
    expect(tampered.status).toBe(401);
    const stale = await signedPost(body, 'msg_stale', { at: clock.now() - 301_000 });
    expect(stale.status).toBe(401);
    expect((await errorOf(stale)).message).toMatch(/old/);
    expect(await jobCount('alice')).toBe(count);
    // A refused request claims nothing: the same id, signed properly, still goes through.
    expect((await signedPost(body, 'msg_tampered')).status).toBe(202);
  });

  it('answers 409 while the first request of a webhook-id runs, and forgets a 5xx answer', async () => {
    const body = JSON.stringify({ url: 'https://files.example/signed-5xx.bin' });
    const headers = {
      ...as(signed.token),
      'content-type': 'application/json',
      ...signDelivery({
        id: 'msg_5xx',
        timestamp: new Date(clock.now()),
        body,
        secrets: [signed.signingSecret],
      }),
    };
    const send = (on: typeof app) => on.request('/jobs', { method: 'POST', headers, body });
    // The same store, with a claim that another request holds.
    const busy = createApiApp({
      ...deps,
      tokens: new Proxy(deps.tokens, {
        get: (target, prop, receiver) =>
          prop === 'claimReplay'
            ? async () => ({ state: 'inProgress' as const })
            : Reflect.get(target, prop, receiver).bind(target),
      }),
    });
    const running = await send(busy);
    expect(running.status).toBe(409);
    expect((await errorOf(running)).code).toBe('replayInProgress');
    // A queue that fails: 500, and the claim is released, so the sender's retry is processed.
    const broken = createApiApp({
      ...deps,
      queue: { ...deps.queue, enqueue: async () => Promise.reject(new Error('queue down')) },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    expect((await send(broken)).status).toBe(500);
    const retried = await send(app);
    expect(retried.status).toBe(202);
    expect(retried.headers.get('webhook-replayed')).toBeNull();
  });

  it('a signed token on the hook path must sign too', async () => {
    const body = 'https://files.example/signed-hook.bin';
    const plain = await app.request(`/hooks/${signed.token}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body,
    });
    expect(plain.status).toBe(401);
    const headers = signDelivery({
      id: 'msg_hook',
      timestamp: new Date(clock.now()),
      body,
      secrets: [signed.signingSecret],
    });
    const ok = await app.request(`/hooks/${signed.token}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...headers },
      body,
    });
    expect(ok.status).toBe(202);
  });
});

describe('two users', () => {
  it("never see each other's jobs, links, reports or tokens, and cannot act on them", async () => {
    const fresh = await aws.fresh();
    const h = harness(fresh);
    const alice = 'fr_iso-alice-admin';
    const bob = 'fr_iso-bob';
    await registerToken(
      h.deps.tokens,
      { token: alice, userId: 'alice', scope: 'admin', name: 'alice main' },
      h.clock.now(),
    );
    await registerToken(h.deps.tokens, { token: bob, userId: 'bob', name: 'bob main' }, h.clock.now());
    const api = createApiApp(h.deps);
    const get = async (token: string, path: string) => {
      const res = await api.request(path, { headers: as(token) });
      return { status: res.status, text: await res.text() };
    };
    const create = async (token: string, url: string) => {
      const res = await postJob(token, url, api);
      expect(res.status).toBe(202);
      return ((await res.json()) as { jobs: { id: string }[] }).jobs[0]?.id ?? '';
    };
    const aliceJob = await create(alice, 'https://alice.example/private-a.bin?sig=alice-secret');
    const bobJob = await create(bob, 'https://bob.example/private-b.bin?sig=bob-secret');
    const aliceExtra = (await newToken(alice, { name: 'alice zapier', scope: 'read' }, api)).id;
    const bobExtra = (await newToken(bob, { name: 'bob ifttt', scope: 'submit' }, api)).id;

    // Both jobs done at 1fichier, with download links; the poller writes each user's report.
    await createWorkerHandler(h.deps)(await receiveEvent(aws.sqs, fresh.queueUrl, 2));
    const [request] = h.fake.requests;
    h.fake.finish(request?.id ?? 0);
    await createPollerHandler(h.deps)();

    for (const [me, mine, theirs, myJob, theirJob, theirToken] of [
      [alice, 'alice', 'bob', aliceJob, bobJob, bobExtra],
      [bob, 'bob', 'alice', bobJob, aliceJob, aliceExtra],
    ] as const) {
      const jobs = await get(me, '/jobs?limit=100');
      const array = await get(me, '/jobs?status=done&format=array');
      const report = await get(me, '/reports/latest');
      const tokens = await get(me, '/tokens');
      expect(report.status).toBe(200);
      expect(jobs.text).toContain(myJob);
      expect(report.text).toContain(`private-${mine[0]}.bin`);
      for (const seen of [jobs.text, array.text, report.text, tokens.text]) {
        expect(seen).not.toContain(theirs);
        expect(seen).not.toContain(theirJob);
        expect(seen).not.toContain(theirToken);
      }
      expect((await get(me, `/jobs/${theirJob}`)).status).toBe(404);
      const retry = await api.request(`/jobs/${theirJob}/retry`, { method: 'POST', headers: as(me) });
      expect(retry.status).toBe(404);
      const revoke = await api.request(`/tokens/${theirToken}`, { method: 'DELETE', headers: as(me) });
      expect(revoke.status).toBe(404);
    }
    // Each user's download link is in their own report and in nothing the other user can read.
    const linkOf = async (token: string) => {
      const r = JSON.parse((await get(token, '/reports/latest')).text) as {
        completed: { fileUrl: string }[];
      };
      expect(r.completed).toHaveLength(1);
      return r.completed[0]?.fileUrl ?? '';
    };
    const [aliceLink, bobLink] = [await linkOf(alice), await linkOf(bob)];
    expect(aliceLink).not.toBe(bobLink);
    for (const [me, theirLink] of [
      [alice, bobLink],
      [bob, aliceLink],
    ] as const) {
      for (const path of ['/jobs?limit=100', '/jobs?format=array', '/reports/latest', '/tokens']) {
        expect((await get(me, path)).text).not.toContain(theirLink);
      }
    }
    // Nothing of the other user changed: both extra tokens are still listed by their owners.
    expect((await get(alice, '/tokens')).text).toContain(aliceExtra);
    expect((await get(bob, '/tokens')).text).toContain(bobExtra);
    // Only the admin reads the relay-wide report, which holds both.
    expect((await get(bob, '/reports/latest?scope=all')).status).toBe(403);
    const all = await get(alice, '/reports/latest?scope=all');
    expect(all.status).toBe(200);
    expect(all.text).toContain('private-a.bin');
    expect(all.text).toContain('private-b.bin');
  });
});
