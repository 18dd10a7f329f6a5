/**
 * The API as IFTTT, Zapier, feed readers and scripts really call it: Basic auth, HEAD, Location and
 * WWW-Authenticate, Zapier's bare-array polling, bodies cut off while reading, invalid UTF-8, private
 * callback hosts, and retrying failed jobs. Real HTTP over the hono app, dynalite and fauxqs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api.js';
import type { Deps } from '../../shared/app/deps.js';
import { MAX_BODY_BYTES } from '../../shared/http/job-input.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness } from '../support/engines-pipeline.js';

let aws: TestAws;
let deps: Deps;
let clock: ReturnType<typeof harness>['clock'];
let app: ReturnType<typeof createApiApp>;
const TOKEN = 'fr_callers-alice';
const BOB = 'fr_callers-bob';

beforeAll(async () => {
  aws = await startTestAws();
  ({ deps, clock } = harness(await aws.fresh()));
  await registerToken(deps.tokens, { token: TOKEN, userId: 'alice' }, Date.now());
  await registerToken(deps.tokens, { token: BOB, userId: 'bob' }, Date.now());
  app = createApiApp(deps);
});
afterAll(async () => {
  await aws?.close();
});

const bearer = { authorization: `Bearer ${TOKEN}` };
const basic = (credentials: string) => ({
  authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
});
const post = (body: string, headers: Record<string, string> = bearer, type = 'application/json') =>
  app.request('/jobs', { method: 'POST', headers: { 'content-type': type, ...headers }, body });
const aliceJobs = async () => (await deps.store.listForUser('alice', { limit: 100 })).items;

/** Marks a job failed as the worker would (a refusal from 1fichier), so it can be retried. */
async function failJob(id: string): Promise<void> {
  const now = deps.clock.now();
  await deps.store.transition(
    id,
    { status: 'queued' },
    {
      status: 'submitting',
      claimToken: 'c1',
      leaseUntil: now + 1000,
      submitAttemptAt: now,
      attemptsDelta: 1,
    },
    now,
  );
  await deps.store.transition(
    id,
    { status: 'submitting', claimToken: 'c1' },
    { status: 'failed', error: { code: 'rejected', message: 'Resource not allowed #14' } },
    now,
  );
}

describe('callers as they really call', () => {
  it('accepts HTTP Basic auth with the token as the password (Zapier) or as the username', async () => {
    const asPassword = await app.request('/jobs?status=done', { headers: basic(`zapier:${TOKEN}`) });
    expect(asPassword.status).toBe(200);
    const asUser = await post(JSON.stringify({ url: 'https://files.example/basic.bin' }), basic(`${TOKEN}:`));
    expect(asUser.status).toBe(202);
    expect((await aliceJobs()).map((j) => j.url)).toContain('https://files.example/basic.bin');
  });

  it('answers 401 with WWW-Authenticate naming Bearer and Basic, and a JSON error', async () => {
    const res = await app.request('/jobs', { headers: basic('x:not-a-token') });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="fichier-relay", Basic realm="fichier-relay"',
    );
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('authenticates HEAD like GET', async () => {
    expect((await app.request('/jobs', { method: 'HEAD' })).status).toBe(401);
    expect((await app.request('/reports/latest', { method: 'HEAD' })).status).toBe(401);
    expect((await app.request('/jobs', { method: 'HEAD', headers: bearer })).status).toBe(200);
  });

  it('sends Location on a 202 that creates one job, and not for a duplicate', async () => {
    const body = JSON.stringify({ url: 'https://files.example/location.bin' });
    const first = await post(body);
    const { jobs } = (await first.json()) as { jobs: { id: string }[] };
    expect(first.headers.get('location')).toBe(`/jobs/${jobs[0]?.id}`);
    const again = await post(body);
    expect(again.headers.get('location')).toBeNull();
  });

  it('serves Zapier polling a bare array, newest first, with string ids (?format=array)', async () => {
    for (const n of [1, 2, 3]) {
      clock.advance(1000);
      await post(JSON.stringify({ url: `https://files.example/zap-${n}.bin` }));
    }
    const res = await app.request('/jobs?format=array&limit=3', { headers: basic(`zapier:${TOKEN}`) });
    expect(res.status).toBe(200);
    const list = (await res.json()) as { id: string; url: string }[];
    expect(Array.isArray(list)).toBe(true);
    expect(list.map((j) => j.url)).toEqual([3, 2, 1].map((n) => `https://files.example/zap-${n}.bin`));
    expect(list.every((j) => typeof j.id === 'string')).toBe(true);
    expect((await app.request('/jobs?format=xml', { headers: bearer })).status).toBe(400);
  });
});

describe('bounded and clean input', () => {
  it('cuts a chunked body without Content-Length off at the limit: 413, nothing created', async () => {
    const before = (await aliceJobs()).length;
    let sent = 0;
    const chunk = new TextEncoder().encode(`${'https://files.example/x.bin\n'.repeat(1000)}`);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 4 * MAX_BODY_BYTES) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await app.request(
      new Request('http://relay.test/jobs', {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'text/plain' },
        body,
        duplex: 'half',
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bodyTooLarge');
    expect(sent).toBeLessThan(2 * MAX_BODY_BYTES);
    expect((await aliceJobs()).length).toBe(before);
  });

  it('refuses a body with invalid UTF-8 with 400, instead of a URL holding U+FFFD', async () => {
    const before = (await aliceJobs()).length;
    const bytes = Buffer.concat([
      Buffer.from('https://files.example/'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('.bin'),
    ]);
    const res = await app.request('/jobs', {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'text/plain' },
      body: bytes,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalidEncoding');
    expect((await aliceJobs()).length).toBe(before);
  });

  it('refuses a callbackUrl on a loopback host in a decimal spelling', async () => {
    const res = await post(
      JSON.stringify({ url: 'https://files.example/cb.bin', callbackUrl: 'http://2130706433/cb' }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalidCallbackUrl');
  });
});

describe('retrying failed jobs', () => {
  it('POST /jobs/{id}/retry requeues a failed job, keeping its attempts and last error', async () => {
    const created = await post(JSON.stringify({ url: 'https://files.example/retry.bin' }));
    const [job] = ((await created.json()) as { jobs: { id: string }[] }).jobs;
    const id = job?.id as string;
    await failJob(id);
    const res = await app.request(`/jobs/${id}/retry`, { method: 'POST', headers: bearer });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { status: string; attempts: number; error?: { code: string } };
    expect(body).toMatchObject({ status: 'queued', attempts: 1, error: { code: 'rejected' } });
    const stored = await deps.store.getJob(id);
    expect(stored).toMatchObject({ retries: 1, attemptsAtRetry: 1 });
  });

  it('answers 409 for a job that is not failed, and 404 for another user’s job', async () => {
    const created = await post(JSON.stringify({ url: 'https://files.example/not-failed.bin' }));
    const id = ((await created.json()) as { jobs: { id: string }[] }).jobs[0]?.id as string;
    const conflict = await app.request(`/jobs/${id}/retry`, { method: 'POST', headers: bearer });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { error: { code: string } }).error.code).toBe('notFailed');
    const other = await app.request(`/jobs/${id}/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOB}` },
    });
    expect(other.status).toBe(404);
  });

  it('posting a failed URL again requeues it: duplicate false, retried true', async () => {
    const body = JSON.stringify({ url: 'https://files.example/again.bin' });
    const id = ((await (await post(body)).json()) as { jobs: { id: string }[] }).jobs[0]?.id as string;
    await failJob(id);
    const res = await post(body);
    expect(res.status).toBe(202);
    const [again] = ((await res.json()) as { jobs: { id: string; duplicate: boolean; retried?: boolean }[] })
      .jobs;
    expect(again).toMatchObject({ id, status: 'queued', duplicate: false, retried: true });
    expect((await deps.store.getJob(id))?.status).toBe('queued');
  });
});
