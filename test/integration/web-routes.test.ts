/**
 * The status page's routes on the API app (real hono app over dynalite and fauxqs): `GET /` and its assets
 * without auth and with a strict CSP and no inline script or style; the same files served from a build
 * written to disk, as in the Lambda bundle; `GET /status` for the caller's own jobs only, with counts, the
 * hourly chart, wait and retry hints and the pacer.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api.js';
import { fileAssetSource, PAGE_CSP, registerWebRoutes, WEB_ROUTES } from '../../functions/routes/web.js';
import { writeWebAssets } from '../../infra/web/build.js';
import type { Deps } from '../../shared/app/deps.js';
import { keyIdOf } from '../../shared/fichier/key-id.js';
import type { StatusView } from '../../shared/status/status.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness } from '../support/engines-pipeline.js';

let aws: TestAws;
let deps: Deps;
let clock: ReturnType<typeof harness>['clock'];
let app: ReturnType<typeof createApiApp>;
const ALICE = 'fr_web-alice';
const BOB = 'fr_web-bob';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

beforeAll(async () => {
  aws = await startTestAws();
  ({ deps, clock } = harness(await aws.fresh()));
  // Alice's token is admin: the page's reset button needs it.
  await registerToken(deps.tokens, { token: ALICE, userId: 'alice', scope: 'admin' }, Date.now());
  await registerToken(deps.tokens, { token: BOB, userId: 'bob' }, Date.now());
  app = createApiApp(deps);
});
afterAll(async () => {
  await aws?.close();
});

/** The asset paths an HTML page references. */
const referenced = (html: string) =>
  [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);

async function expectPageServed(fetcher: { request: Hono['request'] }) {
  const res = await fetcher.request('/');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(res.headers.get('content-security-policy')).toBe(PAGE_CSP);
  const html = await res.text();
  const assets = referenced(html);
  expect(assets).toHaveLength(3);
  for (const path of assets) {
    const a = await fetcher.request(path);
    expect(a.status, path).toBe(200);
    expect(a.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(a.headers.get('cache-control')).toContain('immutable');
    const type = { js: 'text/javascript', css: 'text/css', svg: 'image/svg+xml' }[path.split('.').pop()!];
    expect(a.headers.get('content-type'), path).toContain(type);
    expect((await a.arrayBuffer()).byteLength).toBeGreaterThan(200);
  }
  return html;
}

describe('GET / (the status page)', () => {
  it('is served without a token, with a strict CSP and the usual security headers', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const head = await app.request('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(await head.text()).toBe('');
  });

  it('has no inline script, no inline style and no event-handler attribute', async () => {
    const html = await expectPageServed(app);
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="\/assets\//);
    expect(html).not.toMatch(/<script\b[^>]*>\s*[^<\s]/); // no script body
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/);
  });

  it('labels every input of its forms', async () => {
    const html = await (await app.request('/')).text();
    const ids = [...html.matchAll(/<input\b[^>]*\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    for (const id of ids) expect(html, id).toContain(`<label for="${id}">`);
  });

  it('answers 404 JSON for an unknown asset and 405 for another method', async () => {
    const missing = await app.request('/assets/app-000000000000.js');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'notFound', message: 'no such asset' } });
    const post = await app.request('/', { method: 'POST', body: 'token=x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('serves the same files from a build on disk, as the Lambda bundle holds them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-web-'));
    try {
      await writeWebAssets(dir);
      const fromDisk = new Hono<{ Variables: { userId: string } }>();
      registerWebRoutes(fromDisk, deps, async (_c, next) => next(), {
        assets: fileAssetSource(pathToFileURL(`${dir}/`)),
      });
      const html = await expectPageServed(fromDisk);
      expect(html).toBe(readFileSync(join(dir, 'index.html'), 'utf8'));
      // Built from the same sources: the same hashed names as the in-memory build the app serves.
      expect(referenced(html)).toEqual(referenced(await (await app.request('/')).text()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('WEB_ROUTES', () => {
  it('lists exactly the GET routes the module registers', () => {
    const app = new Hono<{ Variables: { userId: string } }>();
    registerWebRoutes(app, deps, async (_c, next) => next(), { assets: async () => new Map() });
    const gets = app.routes.filter((r) => r.method === 'GET').map((r) => r.path.replace(/:(\w+)/g, '{$1}'));
    expect([...new Set(gets)].sort()).toEqual(WEB_ROUTES.map((r) => r.path).sort());
  });
});

describe('GET /status', () => {
  it('needs a token', async () => {
    const res = await app.request('/status');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/Bearer/);
  });

  it("shows the caller's own jobs only, with counts, 24 hourly buckets and hints", async () => {
    const post = (token: string, url: string) =>
      app.request('/jobs', {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify({ url }),
      });
    expect((await post(ALICE, 'https://example.com/alice-wait.bin')).status).toBe(202);
    expect((await post(ALICE, 'https://example.com/alice-fail.bin')).status).toBe(202);
    expect((await post(BOB, 'https://example.com/bob-secret.bin')).status).toBe(202);
    const mine = (await deps.store.listForUser('alice', { limit: 10 })).items;
    const waiting = mine.find((j) => j.url.endsWith('alice-wait.bin'));
    const failing = mine.find((j) => j.url.endsWith('alice-fail.bin'));
    const now = clock.now();
    await deps.store.transition(
      waiting!.id,
      { status: 'queued' },
      { status: 'queued', waitReason: '1fichier flood answer: Flood detected', nextAttemptAt: now + 60_000 },
      now,
    );
    await deps.store.transition(
      failing!.id,
      { status: 'queued' },
      {
        status: 'submitting',
        claimToken: 'c',
        leaseUntil: now + 1000,
        submitAttemptAt: now,
        attemptsDelta: 1,
      },
      now,
    );
    await deps.store.transition(
      failing!.id,
      { status: 'submitting', claimToken: 'c' },
      { status: 'failed', error: { code: 'notFound', message: 'File not found #17' } },
      now,
    );

    const res = await app.request('/status', { headers: bearer(ALICE) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as StatusView;
    expect(JSON.stringify(body)).not.toContain('bob-secret');
    expect(body.counts).toEqual({ queued: 1, submitting: 0, submitted: 0, done: 0, failed: 1 });
    expect(body.window).toMatchObject({ jobs: 2, partial: false });
    expect(body.hours).toHaveLength(24);
    expect(body.hours.at(-1)).toMatchObject({ submitted: 2, failed: 1, done: 0 });
    const byUrl = new Map(body.recent.map((j) => [j.url, j]));
    expect(byUrl.get('https://example.com/alice-wait.bin')).toMatchObject({
      status: 'queued',
      waitReason: '1fichier flood answer: Flood detected',
      nextAttemptAt: new Date(now + 60_000).toISOString(),
    });
    expect(byUrl.get('https://example.com/alice-fail.bin')).toMatchObject({
      status: 'failed',
      error: { code: 'notFound' },
      retryable: false,
      retry: { helps: 'no' },
    });
    for (const j of body.recent) expect(j).not.toHaveProperty('userId');
  });

  it("shows the pacer: a pause and an open circuit with its reason, closed again by the page's reset", async () => {
    const keyId = keyIdOf(await deps.keyProvider.get());
    await deps.pacer.pauseUntil(keyId, clock.now() + 120_000);
    await deps.pacer.recordAuthFailure(keyId, 'Not authenticated #247', { manual: true });
    const open = (await (await app.request('/status', { headers: bearer(ALICE) })).json()) as {
      pacer: Record<string, unknown>;
    };
    expect(open.pacer).toMatchObject({
      pausedUntil: new Date(clock.now() + 120_000).toISOString(),
      circuit: { open: true, reason: 'Not authenticated #247', manual: true },
    });
    const reset = await app.request('/admin/circuit/reset', { method: 'POST', headers: bearer(ALICE) });
    expect(reset.status).toBe(200);
    const closed = (await (await app.request('/status', { headers: bearer(ALICE) })).json()) as {
      pacer: Record<string, unknown>;
    };
    expect(closed.pacer).toMatchObject({ pausedUntil: null, circuit: { open: false } });
  });
});
