/**
 * The notification routes over the hono app, dynalite and fauxqs: each user sees only their own targets,
 * deliveries and uploads; secrets are shown once and redacted after; the uploads feeds parse with the
 * feed parser the feeds side uses and accept Basic auth; Zapier samples have the delivery's shape.
 */
import { randomBytes } from 'node:crypto';
import { parseFeed } from 'feedsmith';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api.js';
import type { Deps } from '../../shared/app/deps.js';
import { createNotifyServices } from '../../shared/app/notify-deps.js';
import { aesGcmCipher } from '../../shared/notify/cipher.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness } from '../support/engines-pipeline.js';

let aws: TestAws;
let deps: Deps;
let app: ReturnType<typeof createApiApp>;
const ALICE = 'fr_notify-alice';
const BOB = 'fr_notify-bob';
const IFTTT_KEY = 'k3yThatMustNotLeak_1234';

beforeAll(async () => {
  aws = await startTestAws();
  const config = await aws.fresh();
  const key = randomBytes(32);
  const h = harness(config);
  const notify = createNotifyServices(config, aws.doc, h.clock, { cipher: aesGcmCipher(async () => key) });
  ({ deps } = harness(config, { clock: h.clock, notify }));
  await registerToken(deps.tokens, { token: ALICE, userId: 'alice' }, Date.now());
  await registerToken(deps.tokens, { token: BOB, userId: 'bob' }, Date.now());
  app = createApiApp(deps);
  for (const [i, name] of ['one & <two>.mkv', 'second.iso'].entries()) {
    const id = `job_alice_${i}`;
    await deps.store.createJob(
      {
        id,
        userId: 'alice',
        url: `https://files.example.com/${encodeURIComponent(name)}?sig=abc`,
        folder: '',
        source: 'api',
      },
      Date.UTC(2026, 0, 1, 10, i),
    );
    await deps.store.transition(
      id,
      { status: 'queued' },
      { status: 'done', fileUrl: `https://1fichier.com/?file${i}` },
      Date.UTC(2026, 0, 1, 11, i),
    );
  }
  await deps.store.createJob(
    { id: 'job_bob_0', userId: 'bob', url: 'https://files.example.com/bob.bin', folder: '', source: 'api' },
    Date.UTC(2026, 0, 1, 10),
  );
  await deps.store.transition(
    'job_bob_0',
    { status: 'queued' },
    { status: 'done', fileUrl: 'https://1fichier.com/?bobfile' },
    Date.UTC(2026, 0, 1, 12),
  );
});
afterAll(async () => {
  await aws?.close();
});

const as = (token: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  ...extra,
});
const basic = (token: string) => ({
  authorization: `Basic ${Buffer.from(`reader:${token}`).toString('base64')}`,
});
const postJson = (path: string, token: string, body: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: as(token, { 'content-type': 'application/json' }),
    body: JSON.stringify(body),
  });

describe('notification targets', () => {
  it('shows a target to its owner only, with the IFTTT key redacted after creation', async () => {
    const created = await postJson('/notifications', ALICE, {
      type: 'ifttt',
      event: 'upload_done',
      key: IFTTT_KEY,
      events: ['job.done'],
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; endpoint: string };
    expect(body.endpoint).toBe('https://maker.ifttt.com/trigger/upload_done/with/key/[redacted]');
    const mine = await (await app.request('/notifications', { headers: as(ALICE) })).text();
    expect(mine).toContain(body.id);
    expect(mine).not.toContain(IFTTT_KEY);
    const theirs = (await (await app.request('/notifications', { headers: as(BOB) })).json()) as {
      notifications: unknown[];
    };
    expect(theirs.notifications).toEqual([]);
    expect(
      (await app.request(`/notifications/${body.id}`, { method: 'DELETE', headers: as(BOB) })).status,
    ).toBe(404);
    expect(
      (await app.request(`/notifications/${body.id}`, { method: 'DELETE', headers: as(ALICE) })).status,
    ).toBe(204);
  });

  it('stores the target config sealed: the key is nowhere in the table item', async () => {
    const created = (await (
      await postJson('/notifications', ALICE, { type: 'ifttt', event: 'sealed', key: IFTTT_KEY })
    ).json()) as { id: string };
    const { Item } = await aws.doc.send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({
        TableName: deps.config.tableName,
        Key: { pk: 'NOTIFY#alice', sk: `TARGET#${created.id}` },
      }),
    );
    expect(Item).toBeDefined();
    expect(JSON.stringify(Item)).not.toContain(IFTTT_KEY);
  });
});

describe('account signing secret', () => {
  it('is shown by GET /account, rotated with a 24 h overlap, and different per user', async () => {
    const first = (await (await app.request('/account', { headers: as(ALICE) })).json()) as {
      webhookSecret: string;
    };
    expect(first.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const rotated = await app.request('/account/webhook-secret/rotate', {
      method: 'POST',
      headers: as(ALICE),
    });
    const next = (await rotated.json()) as { webhookSecret: string; previousSecretValidUntil: string };
    expect(next.webhookSecret).not.toBe(first.webhookSecret);
    const after = (await (await app.request('/account', { headers: as(ALICE) })).json()) as {
      webhookSecret: string;
      previousSecretValidUntil?: string;
    };
    expect(after).toEqual({
      user: 'alice',
      webhookSecret: next.webhookSecret,
      previousSecretValidUntil: next.previousSecretValidUntil,
    });
    const bob = (await (await app.request('/account', { headers: as(BOB) })).json()) as {
      webhookSecret: string;
    };
    expect(bob.webhookSecret).not.toBe(next.webhookSecret);
  });
});

describe('feeds of finished uploads', () => {
  it('serves uploads.atom to Basic auth, parsed by feedsmith: newest first, stable ids, file links, own jobs only', async () => {
    const res = await app.request('/uploads.atom', { headers: basic(ALICE) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/atom+xml');
    const parsed = parseFeed(await res.text());
    expect(parsed.format).toBe('atom');
    const entries =
      (
        parsed.feed as {
          entries?: { id?: string; title?: { value?: string }; links?: { href?: string }[] }[];
        }
      ).entries ?? [];
    expect(entries.map((e) => e.id)).toEqual([
      'urn:fichier-relay:job:job_alice_1',
      'urn:fichier-relay:job:job_alice_0',
    ]);
    expect(entries.map((e) => e.title?.value)).toEqual(['second.iso', 'one & <two>.mkv']);
    expect(entries[0]!.links?.[0]?.href).toBe('https://1fichier.com/?file1');
    expect(JSON.stringify(parsed)).not.toContain('bobfile');
    expect(JSON.stringify(parsed)).not.toContain('sig=abc');
  });

  it('serves uploads.json as JSON Feed 1.1, parsed by feedsmith', async () => {
    const res = await app.request('/uploads.json', { headers: basic(BOB) });
    expect(res.status).toBe(200);
    const parsed = parseFeed(await res.text());
    expect(parsed.format).toBe('json');
    const items = (parsed.feed as { items?: { id?: string; url?: string }[] }).items ?? [];
    expect(items).toEqual([
      expect.objectContaining({ id: 'job_bob_0', url: 'https://1fichier.com/?bobfile' }),
    ]);
  });

  it('refuses the feed without a token', async () => {
    expect((await app.request('/uploads.atom')).status).toBe(401);
  });
});

describe('Zapier REST hooks', () => {
  it('answers 201 {id} to a subscription and 204 to its deletion', async () => {
    const res = await postJson('/hooks/subscriptions', ALICE, {
      target_url: 'https://hooks.zapier.com/hooks/standard/1/abc/',
      event: 'job.done',
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect(id).toMatch(/^sub_/);
    expect(
      (await app.request(`/hooks/subscriptions/${id}`, { method: 'DELETE', headers: as(BOB) })).status,
    ).toBe(404);
    expect(
      (await app.request(`/hooks/subscriptions/${id}`, { method: 'DELETE', headers: as(ALICE) })).status,
    ).toBe(204);
  });

  it('samples recent real jobs of the event as an array of job JSON', async () => {
    const res = await app.request('/hooks/samples/job.done', { headers: as(ALICE) });
    const sample = (await res.json()) as { id: string; status: string; fileUrl: string }[];
    expect(sample.map((j) => j.id)).toEqual(['job_alice_1', 'job_alice_0']);
    expect(sample[0]).toMatchObject({ status: 'done', fileUrl: 'https://1fichier.com/?file1' });
    const failed = (await (
      await app.request('/hooks/samples/job.failed', { headers: as(ALICE) })
    ).json()) as { status: string }[];
    expect(failed).toEqual([expect.objectContaining({ status: 'failed' })]);
  });
});
