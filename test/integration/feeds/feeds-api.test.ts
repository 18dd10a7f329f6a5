/**
 * The feed routes of the HTTP API over dynalite and fauxqs: subscribe, list, read with decisions,
 * change, delete; one user never sees another's feeds; preview changes nothing; OPML import.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../../functions/api.js';
import type { RelayConfig } from '../../../shared/app/config.js';
import type { Deps } from '../../../shared/app/deps.js';
import { FEED_LEASE_MS, refreshFeed } from '../../../shared/feeds/run-feeds.js';
import { registerToken } from '../../../shared/tokens/manage.js';
import { startTestAws, type TestAws } from '../../support/engines.js';
import { harness } from '../../support/engines-pipeline.js';
import { type FeedServer, rssFeed, startFeedServer } from '../../support/feed-server.js';
import type { ManualClock } from '../../unit/jobs/fakes.js';

let aws: TestAws;
let config: RelayConfig;
let deps: Deps;
let clock: ManualClock;
let app: ReturnType<typeof createApiApp>;
let server: FeedServer;
const ALICE = 'fr_feeds-alice';
const BOB = 'fr_feeds-bob';

beforeAll(async () => {
  aws = await startTestAws();
  config = await aws.fresh({ allowPrivateUrls: true });
  const h = harness(config);
  deps = h.deps;
  clock = h.clock;
  await registerToken(deps.tokens, { token: ALICE, userId: 'alice' }, Date.now());
  await registerToken(deps.tokens, { token: BOB, userId: 'bob' }, Date.now());
  app = createApiApp(deps);
  server = await startFeedServer();
  server.route('/show.xml', {
    body: rssFeed([
      { guid: 's2', title: 'Episode 2 1080p', files: ['https://f.example/s2.mkv'] },
      { guid: 's1', title: 'Episode 1 720p', files: ['https://f.example/s1.mkv'] },
      { guid: 's0', title: 'Trailer', link: 'https://f.example/trailer.html' },
    ]),
  });
});
afterAll(async () => {
  await server?.close();
  await aws?.close();
});

const call = (method: string, path: string, body?: unknown, token = ALICE, type = 'application/json') =>
  app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': type } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });

async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

describe('feed routes', () => {
  it('subscribes (201, Location), lists, and shows the feed with its state', async () => {
    const res = await call('POST', '/feeds', {
      url: server.url('/show.xml'),
      include: ['1080p'],
      folder: 'Shows/Example',
      intervalS: 900,
    });
    expect(res.status).toBe(201);
    const feed = await json(res);
    expect(res.headers.get('location')).toBe(`/feeds/${feed.id}`);
    expect(feed).toMatchObject({
      url: server.url('/show.xml'),
      include: ['1080p'],
      exclude: [],
      pick: 'enclosure',
      folder: 'Shows/Example',
      backfill: 0,
      intervalS: 900,
      state: 'active',
      consecutiveFailures: 0,
    });
    expect(feed).not.toHaveProperty('leaseToken');

    const list = await json<{ feeds: { id: string }[] }>(await call('GET', '/feeds'));
    expect(list.feeds.map((f) => f.id)).toContain(feed.id);
    const one = await call('GET', `/feeds/${feed.id}`);
    expect(one.status).toBe(200);
    expect(await json(one)).toMatchObject({ id: feed.id, items: [], nextFetchAt: expect.any(String) });
  });

  it('shows each recent item with its decision after a fetch', async () => {
    const created = await json<{ id: string }>(
      await call(
        'POST',
        '/feeds',
        { url: server.url('/show.xml'), include: ['1080p', 'trailer'], backfill: 3, folder: 'B' },
        BOB,
      ),
    );
    const feed = (await deps.feeds.getFeed('bob', created.id))!;
    const token = await deps.feeds.lease(feed, clock.now(), FEED_LEASE_MS);
    await refreshFeed(feed, token!, deps);

    const view = await json<{
      lastStatus: number;
      lastFetchAt: string;
      items: { title: string; decision: string; reason?: string; jobIds?: string[] }[];
    }>(await call('GET', `/feeds/${created.id}`, undefined, BOB));

    expect(view.lastStatus).toBe(200);
    expect(view.lastFetchAt).toEqual(expect.any(String));
    const byTitle = new Map(view.items.map((i) => [i.title, i]));
    expect(byTitle.get('Episode 2 1080p')).toMatchObject({
      decision: 'enqueued',
      jobIds: [expect.any(String)],
    });
    expect(byTitle.get('Episode 1 720p')).toMatchObject({ decision: 'skipped', reason: 'filter' });
    // An item without enclosure falls back to its link.
    expect(byTitle.get('Trailer')).toMatchObject({ decision: 'enqueued' });
    const job = (await deps.store.getJob(byTitle.get('Episode 2 1080p')!.jobIds![0]!))!;
    expect(job).toMatchObject({ source: `feed:${created.id}`, folder: 'B', userId: 'bob' });
  });

  it("answers 404 for another user's feed, on every route, and changes nothing", async () => {
    const mine = await json<{ id: string }>(
      await call('POST', '/feeds', { url: server.url('/private.xml') }),
    );
    for (const [method, body] of [['GET'], ['PATCH', { folder: 'x' }], ['DELETE']] as const) {
      const res = await call(method, `/feeds/${mine.id}`, body, BOB);
      expect(res.status, method).toBe(404);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe('notFound');
    }
    const bobs = await json<{ feeds: { id: string }[] }>(await call('GET', '/feeds', undefined, BOB));
    expect(bobs.feeds.map((f) => f.id)).not.toContain(mine.id);
    expect(await deps.feeds.getFeed('alice', mine.id)).toMatchObject({ folder: '' });
  });

  it('changes a feed with PATCH (new filters bump its filter revision), disables and re-enables it', async () => {
    const feed = await json<{ id: string }>(await call('POST', '/feeds', { url: server.url('/patch.xml') }));
    const before = (await deps.feeds.getFeed('alice', feed.id))!;

    const res = await call('PATCH', `/feeds/${feed.id}`, { exclude: ['cam'], pick: 'link', intervalS: null });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ exclude: ['cam'], pick: 'link' });
    expect((await deps.feeds.getFeed('alice', feed.id))!.filterRev).toBe(before.filterRev + 1);

    const off = await json(await call('PATCH', `/feeds/${feed.id}`, { enabled: false }));
    expect(off).toMatchObject({ state: 'disabled' });
    expect(off).not.toHaveProperty('nextFetchAt');
    const on = await json(await call('PATCH', `/feeds/${feed.id}`, { enabled: true }));
    expect(on).toMatchObject({ state: 'active', nextFetchAt: expect.any(String) });
  });

  it('refuses a second subscription to the same URL with 409', async () => {
    await call('POST', '/feeds', { url: server.url('/twice.xml') });
    const res = await call('POST', '/feeds', { url: server.url('/twice.xml') });
    expect(res.status).toBe(409);
    expect((await json<{ error: { code: string } }>(res)).error.code).toBe('duplicateFeed');
  });

  it('deletes a feed (204), after which it is a 404', async () => {
    const feed = await json<{ id: string }>(await call('POST', '/feeds', { url: server.url('/delete.xml') }));
    expect((await call('DELETE', `/feeds/${feed.id}`)).status).toBe(204);
    expect((await call('GET', `/feeds/${feed.id}`)).status).toBe(404);
    expect((await call('DELETE', `/feeds/${feed.id}`)).status).toBe(404);
  });
});

describe('POST /feeds/preview', () => {
  it('says what a fetch would enqueue and why each other item is skipped, and changes nothing', async () => {
    const feedsBefore = await deps.feeds.listFeeds('alice');
    const jobsBefore = (await deps.store.listForUser('alice', { limit: 100 })).items.length;
    const hitsBefore = server.hits('/show.xml');

    const res = await call('POST', '/feeds/preview', { url: server.url('/show.xml'), exclude: ['720p'] });

    expect(res.status).toBe(200);
    const preview = await json<{
      wouldEnqueue: number;
      items: { title: string; decision: string; reason?: string; detail?: string; urls?: string[] }[];
    }>(res);
    expect(preview.wouldEnqueue).toBe(2);
    expect(preview.items.map((i) => [i.title, i.decision])).toEqual([
      ['Episode 2 1080p', 'enqueue'],
      ['Episode 1 720p', 'skip'],
      ['Trailer', 'enqueue'],
    ]);
    expect(preview.items[1]).toMatchObject({ reason: 'filter', detail: 'exclude: 720p' });
    expect(preview.items[0]!.urls).toEqual(['https://f.example/s2.mkv']);
    expect(server.hits('/show.xml')).toBe(hitsBefore + 1);
    expect(await deps.feeds.listFeeds('alice')).toEqual(feedsBefore);
    expect((await deps.store.listForUser('alice', { limit: 100 })).items.length).toBe(jobsBefore);
  });

  it('answers 422 with the reason when the feed cannot be read', async () => {
    server.route('/html.xml', {
      headers: { 'content-type': 'text/html' },
      body: '<!doctype html><html><body>hi</body></html>',
    });
    const res = await call('POST', '/feeds/preview', { url: server.url('/html.xml') });
    expect(res.status).toBe(422);
    expect((await json<{ error: { message: string } }>(res)).error.message).toMatch(/HTML page/);
  });
});

describe('POST /feeds/import', () => {
  it('subscribes one feed per outline of an OPML file and reports the one it refused', async () => {
    const opml = `<?xml version="1.0"?>
<opml version="2.0"><head><title>mine</title></head><body>
  <outline text="Podcasts">
    <outline text="One" type="rss" xmlUrl="${server.url('/opml-1.xml')}"/>
    <outline text="Two" type="rss" xmlUrl="${server.url('/opml-2.xml')}"/>
  </outline>
  <outline text="Bad" type="rss" xmlUrl="ftp://files.example/feed.xml"/>
</body></opml>`;
    const res = await call('POST', '/feeds/import', opml, ALICE, 'text/x-opml');

    expect(res.status).toBe(201);
    const body = await json<{
      feeds: { url: string }[];
      refused: { outline: { text?: string }; reason: string }[];
    }>(res);
    expect(body.feeds.map((f) => f.url)).toEqual([server.url('/opml-1.xml'), server.url('/opml-2.xml')]);
    expect(body.refused).toEqual([
      { outline: expect.objectContaining({ text: 'Bad' }), reason: expect.stringMatching(/http/) },
    ]);
    const urls = (await deps.feeds.listFeeds('alice')).map((f) => f.url);
    expect(urls).toEqual(expect.arrayContaining([server.url('/opml-1.xml'), server.url('/opml-2.xml')]));
    expect(urls).not.toContain('ftp://files.example/feed.xml');
  });

  it('takes {opml} as JSON too, with a folder for every feed', async () => {
    const opml = `<opml version="1.0"><body><outline xmlUrl="${server.url('/opml-json.xml')}"/></body></opml>`;
    const res = await call('POST', '/feeds/import', { opml, folder: 'Imported' });
    expect(res.status).toBe(201);
    expect((await json<{ feeds: { folder: string }[] }>(res)).feeds).toEqual([
      expect.objectContaining({ folder: 'Imported' }),
    ]);
  });
});
