/**
 * The feeds reader against real feed documents served over loopback, on dynalite and fauxqs: the shapes
 * found in the wild, the HTTP answers a publisher gives (304, 429, 410, 301, 302, a redirect into the
 * relay's own network), and dedupe across fetches (baseline, new items, an old item reappearing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayConfig } from '../../../shared/app/config.js';
import type { Deps } from '../../../shared/app/deps.js';
import { changeFeed, createFeed, type NewFeedInput } from '../../../shared/feeds/manage-feeds.js';
import { FEED_LEASE_MS, type FeedsDeps, refreshFeed } from '../../../shared/feeds/run-feeds.js';
import type { FeedRecord, FeedStore } from '../../../shared/feeds/store.js';
import { presentFeed } from '../../../shared/http/feed-present.js';
import type { JobRecord } from '../../../shared/jobs/store.js';
import { guardedFetch } from '../../../shared/net/guarded-fetch.js';
import { startTestAws, type TestAws } from '../../support/engines.js';
import { harness } from '../../support/engines-pipeline.js';
import { type FeedServer, feedFixture, rssFeed, startFeedServer } from '../../support/feed-server.js';
import type { ManualClock } from '../../unit/jobs/fakes.js';
import { loopbackAsPublic, loopbackOnlyConnector, startServer } from '../net/loopback.js';

let aws: TestAws;
let config: RelayConfig;
let deps: Deps;
let clock: ManualClock;
let server: FeedServer;
const USER = 'alice';
const DAY = 86_400_000;

beforeAll(async () => {
  aws = await startTestAws();
  // Loopback feeds need the opt-in; the SSRF refusal test below builds its own deps without it.
  config = await aws.fresh({ allowPrivateUrls: true });
  const h = harness(config);
  deps = h.deps;
  clock = h.clock;
  server = await startFeedServer();
});
afterAll(async () => {
  await server?.close();
  await aws?.close();
});

let n = 0;
async function subscribe(path: string, settings: Partial<NewFeedInput> = {}): Promise<FeedRecord> {
  n += 1;
  return createFeed(
    USER,
    {
      url: server.url(path),
      include: [],
      exclude: [],
      pick: 'enclosure',
      folder: `Feeds/${n}`,
      backfill: 100,
      ...settings,
    },
    deps,
  );
}

/** Makes the feed due (moving the clock to its time), leases it and refreshes it, as the reader does. */
async function refresh(id: string, d: FeedsDeps = deps) {
  const feed = (await d.feeds.getFeed(USER, id))!;
  if (feed.nextFetchAt! > clock.now()) clock.t = feed.nextFetchAt!;
  const token = await d.feeds.lease(feed, clock.now(), FEED_LEASE_MS);
  expect(token, 'lease').toBeTypeOf('string');
  const result = await refreshFeed(feed, token!, d);
  return { result, feed: (await d.feeds.getFeed(USER, id))! };
}

async function jobsOf(feedId: string): Promise<JobRecord[]> {
  const page = await deps.store.listForUser(USER, { limit: 100 });
  return page.items.filter((j) => j.source === `feed:${feedId}`);
}

const urlsOf = async (feedId: string) => (await jobsOf(feedId)).map((j) => j.url).sort();

describe('feed documents as published', () => {
  it('reads a podcast feed with a raw &, a missing guid, a repeated item, relative links, several enclosures and Media RSS', async () => {
    server.route('/podcast.xml', { body: feedFixture('rss2-enclosures.xml') });
    const sub = await subscribe('/podcast.xml');

    const { result, feed } = await refresh(sub.id);

    expect(result).toMatchObject({ kind: 'document', status: 200, lost: false });
    expect(await urlsOf(sub.id)).toEqual(
      [
        'https://cdn.pod.example/ep1.mp3',
        // Query strings are kept exactly as published (signed URLs).
        'https://cdn.pod.example/ep1.ogg?sig=a%2Fb%3D&exp=1700000000&utm_source=feed',
        'https://cdn.pod.example/ep2.mp4',
        'https://cdn.pod.example/ep2-extras.zip',
        'https://cdn.pod.example/ep2-1080p.mp4',
        'https://cdn.pod.example/ep3.mp3',
        // No xml:base: relative to the channel's link.
        'https://pod.example/show/media/ep5.mp3',
      ].sort(),
    );
    const jobs = await jobsOf(sub.id);
    expect(new Set(jobs.map((j) => j.folder))).toEqual(new Set([sub.folder]));
    const decisions = await deps.feeds.recentDecisions(sub.id);
    expect(decisions.find((d) => d.title === 'Tom & Jerry & Friends')).toMatchObject({
      decision: 'enqueued',
    });
    expect(decisions.find((d) => d.title === 'Announcement without any URL')).toMatchObject({
      decision: 'skipped',
      reason: 'noUrl',
    });
    expect(decisions.filter((d) => d.title === 'Episode 1: Two formats')).toEqual([
      expect.objectContaining({ decision: 'enqueued' }),
      expect.objectContaining({ decision: 'skipped', reason: 'duplicate' }),
    ]);
    expect(feed).toMatchObject({ title: 'Example Podcast', baselined: true, lastStatus: 200 });
  });

  it('resolves relative links against xml:base', async () => {
    server.route('/based.xml', { body: feedFixture('rss2-xml-base.xml') });
    const sub = await subscribe('/based.xml', { pick: 'enclosure' });

    await refresh(sub.id);

    expect(await urlsOf(sub.id)).toEqual([
      'https://files.example/releases/S02E01.mkv',
      'https://files.example/releases/season1/S01E01.mkv?token=x%20y&a=1',
      'https://mirror.example/pool/S03E01.mkv',
    ]);
  });

  it('reads a windows-1252 feed served without a charset', async () => {
    server.route('/legacy.xml', {
      headers: { 'content-type': 'text/xml' },
      body: feedFixture('windows-1252.xml'),
    });
    const sub = await subscribe('/legacy.xml');

    await refresh(sub.id);

    const [decision] = await deps.feeds.recentDecisions(sub.id);
    expect(decision?.title).toContain('Présentation');
    expect(decision?.title).toContain('€');
    expect((await deps.feeds.getFeed(USER, sub.id))?.title).toBe('Café des fichiers');
  });

  it('records a feed over FEEDS_MAX_BYTES as a failure and enqueues nothing', async () => {
    const huge = rssFeed([
      { guid: 'big', title: 'x'.repeat(config.feedsMaxBytes + 1024), files: ['https://f.example/a'] },
    ]);
    server.route('/huge.xml', { body: huge });
    const sub = await subscribe('/huge.xml');

    const { result, feed } = await refresh(sub.id);

    expect(Buffer.byteLength(huge)).toBeGreaterThan(5 * 1024 * 1024);
    expect(result.kind).toBe('failed');
    expect(feed.consecutiveFailures).toBe(1);
    expect(feed.lastError).toMatch(/over 5242880 bytes/);
    expect(await jobsOf(sub.id)).toEqual([]);
  });

  it('records an empty document as a failure, not a crash', async () => {
    server.route('/empty.xml', { body: feedFixture('empty.xml') });
    const sub = await subscribe('/empty.xml');

    const { result, feed } = await refresh(sub.id);

    expect(result.kind).toBe('failed');
    expect(feed.lastError).toMatch(/empty/);
    expect(feed.nextFetchAt).toBeGreaterThan(clock.now());
  });

  it('says a feed is failing after 3 failures in a row, and keeps retrying it', async () => {
    server.route('/down.xml', { status: 500, body: 'oops' });
    const sub = await subscribe('/down.xml');

    for (let i = 0; i < 3; i++) await refresh(sub.id);
    const feed = (await deps.feeds.getFeed(USER, sub.id))!;

    expect(feed.consecutiveFailures).toBe(3);
    expect(presentFeed(feed)).toMatchObject({ state: 'failing', lastStatus: 500 });
    expect(presentFeed(feed).warning).toMatch(/keeps retrying/);
    expect(feed.nextFetchAt).toBeGreaterThan(clock.now());
    expect(feed.disabledReason).toBeUndefined();
  });
});

describe('HTTP answers', () => {
  it('sends ETag and Last-Modified back and takes a 304 as "nothing new"', async () => {
    const etag = '"v1"';
    const lastModified = 'Tue, 01 Dec 2026 10:00:00 GMT';
    server.route('/cond.xml', (req) =>
      req.headers['if-none-match'] === etag
        ? { status: 304 }
        : {
            headers: { etag, 'last-modified': lastModified },
            body: rssFeed([{ guid: 'c1', title: 'One', files: ['https://f.example/c1.bin'] }]),
          },
    );
    const sub = await subscribe('/cond.xml');
    await refresh(sub.id);
    const before = (await jobsOf(sub.id)).length;

    const { result, feed } = await refresh(sub.id);

    const last = server.requests.filter((r) => r.path === '/cond.xml').at(-1)!;
    expect(last.headers['if-none-match']).toBe(etag);
    expect(last.headers['if-modified-since']).toBe(lastModified);
    expect(last.headers['user-agent']).toMatch(/^fichier-relay\/\d+\.\d+\.\d+ \(\+https:\/\//);
    expect(result.kind).toBe('notModified');
    expect(feed).toMatchObject({ lastStatus: 304, consecutiveFailures: 0 });
    expect((await jobsOf(sub.id)).length).toBe(before);
  });

  it('honours Retry-After on a 429', async () => {
    server.route('/busy.xml', { status: 429, headers: { 'retry-after': '7200' } });
    const sub = await subscribe('/busy.xml');

    const { feed } = await refresh(sub.id);

    expect(feed.lastStatus).toBe(429);
    expect(feed.consecutiveFailures).toBe(1);
    expect(feed.nextFetchAt! - feed.lastFetchAt!).toBe(7200_000);
  });

  it('disables a feed that answers 410 Gone, with a reason, and takes it out of the due index', async () => {
    server.route('/gone.xml', { status: 410 });
    const sub = await subscribe('/gone.xml');

    const { feed } = await refresh(sub.id);

    expect(feed.disabledReason).toMatch(/410/);
    expect(presentFeed(feed).state).toBe('disabled');
    clock.advance(30 * DAY);
    const due = await deps.feeds.dueFeeds(clock.now(), 100);
    expect(due.map((f) => f.id)).not.toContain(sub.id);
  });

  it('stores the new URL after a 301, and keeps the old one after a 302', async () => {
    const body = rssFeed([{ guid: 'm1', title: 'Moved', files: ['https://f.example/m1.bin'] }]);
    server.route('/old.xml', { status: 301, headers: { location: '/new.xml' } });
    server.route('/new.xml', { body });
    server.route('/temp.xml', { status: 302, headers: { location: '/new.xml' } });
    const moved = await subscribe('/old.xml');
    const temporary = await subscribe('/temp.xml');

    const a = await refresh(moved.id);
    const b = await refresh(temporary.id);

    expect(a.feed.url).toBe(server.url('/new.xml'));
    expect(b.feed.url).toBe(server.url('/temp.xml'));
    expect(await urlsOf(moved.id)).toEqual(['https://f.example/m1.bin']);
  });

  it('follows at most 5 redirects', async () => {
    for (let i = 0; i < 6; i++)
      server.route(`/hop-${i}.xml`, { status: 307, headers: { location: `/hop-${i + 1}.xml` } });
    server.route('/hop-6.xml', {
      body: rssFeed([{ guid: 'h', title: 'H', files: ['https://f.example/h.bin'] }]),
    });
    const sub = await subscribe('/hop-0.xml');

    const { result, feed } = await refresh(sub.id);

    expect(result.kind).toBe('failed');
    expect(feed.lastError).toMatch(/redirected more than 5 times/);
    expect(server.hits('/hop-6.xml')).toBe(0);
    expect(await jobsOf(sub.id)).toEqual([]);
  });

  it('gives up on a publisher that never answers when the fetch time runs out, as a failure', async () => {
    const silent = await startServer(() => {
      // Reads the request and never answers.
    });
    try {
      const sub = await createFeed(
        USER,
        {
          url: `${silent.origin}/feed.xml`,
          include: [],
          exclude: [],
          pick: 'enclosure',
          folder: '',
          backfill: 0,
        },
        deps,
      );
      const feed = (await deps.feeds.getFeed(USER, sub.id))!;
      const token = await deps.feeds.lease(feed, clock.now(), FEED_LEASE_MS);

      const result = await refreshFeed(feed, token!, deps, { totalTimeoutMs: 500 });

      expect(result).toMatchObject({ kind: 'failed', status: 0 });
      expect((await deps.feeds.getFeed(USER, sub.id))!.lastError).toMatch(/timed out/);
    } finally {
      await silent.close();
    }
  });

  it('refuses a redirect to 127.0.0.1 without RELAY_ALLOW_PRIVATE_URLS, never reaching it', async () => {
    const internal = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rssFeed([]));
    });
    // The publisher stands on 127.0.0.2, treated as a public address for this test only.
    const publisher = await startFeedServer('127.0.0.2');
    publisher.route('/feed.xml', { status: 302, headers: { location: `${internal.origin}/admin` } });
    const strict: FeedsDeps = {
      ...deps,
      config: { ...config, allowPrivateUrls: false },
      feedHttp: (url, o) =>
        guardedFetch(url, {
          ...o,
          addressPolicy: loopbackAsPublic('127.0.0.2'),
          connector: loopbackOnlyConnector(),
        }),
    };
    try {
      const sub = await createFeed(
        USER,
        {
          url: publisher.url('/feed.xml'),
          include: [],
          exclude: [],
          pick: 'enclosure',
          folder: '',
          backfill: 0,
        },
        deps,
      );

      const { result, feed } = await refresh(sub.id, strict);

      expect(result.kind).toBe('failed');
      expect(feed.lastError).toMatch(/127\.0\.0\.1 is .*loopback/);
      expect(publisher.hits('/feed.xml')).toBe(1);
      expect(internal.requests).toEqual([]);
    } finally {
      await publisher.close();
      await internal.close();
    }
  });
});

describe('dedupe across fetches', () => {
  it('baseline, then new items, then an old item reappearing: each item is enqueued exactly once', async () => {
    const t = clock.now();
    const a = { guid: 'a', title: 'A', files: ['https://f.example/a.bin'], published: t - 2 * DAY };
    const b = { guid: 'b', title: 'B', files: ['https://f.example/b.bin'], published: t - DAY };
    server.route('/series.xml', { body: rssFeed([b, a]) });
    const sub = await subscribe('/series.xml', { backfill: 0 });

    await refresh(sub.id);
    expect(await jobsOf(sub.id)).toEqual([]);
    const baseline = await deps.feeds.recentDecisions(sub.id);
    expect(baseline.map((d) => d.decision === 'skipped' && d.reason)).toEqual(['baseline', 'baseline']);

    const c = { guid: 'c', title: 'C', files: ['https://f.example/c.bin'], published: clock.now() };
    server.route('/series.xml', { body: rssFeed([c, b, a]) });
    await refresh(sub.id);
    expect(await urlsOf(sub.id)).toEqual(['https://f.example/c.bin']);

    // A and B leave the feed, D arrives; later B and C come back (a republished archive).
    const d = { guid: 'd', title: 'D', files: ['https://f.example/d.bin'], published: clock.now() };
    server.route('/series.xml', { body: rssFeed([d, c]) });
    await refresh(sub.id);
    clock.advance(20 * DAY);
    server.route('/series.xml', { body: rssFeed([d, c, b]) });
    const last = await refresh(sub.id);

    expect(last.result.jobs).toBe(0);
    expect(await urlsOf(sub.id)).toEqual(['https://f.example/c.bin', 'https://f.example/d.bin']);
  });

  it('backfill n enqueues the newest n items of the first fetch', async () => {
    const t = clock.now();
    const items = [1, 2, 3, 4].map((i) => ({
      guid: `n${i}`,
      title: `N${i}`,
      files: [`https://f.example/n${i}.bin`],
      published: t - i * DAY,
    }));
    // Listed oldest first: "newest" goes by date, not by position.
    server.route('/backfill.xml', { body: rssFeed([...items].reverse()) });
    const sub = await subscribe('/backfill.xml', { backfill: 2 });

    await refresh(sub.id);

    expect(await urlsOf(sub.id)).toEqual(['https://f.example/n1.bin', 'https://f.example/n2.bin']);
  });

  it('decides again the items the old filters skipped once the filters change, even if the feed did not', async () => {
    server.route('/filtered.xml', {
      body: rssFeed([
        { guid: 'hd', title: 'Show 1080p', files: ['https://f.example/hd.mkv'] },
        { guid: 'sd', title: 'Show 720p', files: ['https://f.example/sd.mkv'] },
      ]),
    });
    const sub = await subscribe('/filtered.xml', { include: ['1080p'] });
    await refresh(sub.id);
    expect(await urlsOf(sub.id)).toEqual(['https://f.example/hd.mkv']);
    await refresh(sub.id);
    expect(await urlsOf(sub.id)).toEqual(['https://f.example/hd.mkv']);

    await changeFeed((await deps.feeds.getFeed(USER, sub.id))!, { include: [] }, deps);
    await refresh(sub.id);

    expect(await urlsOf(sub.id)).toEqual(['https://f.example/hd.mkv', 'https://f.example/sd.mkv']);
  });

  it('a crash between creating the jobs and remembering the items duplicates nothing', async () => {
    server.route('/crash.xml', {
      body: rssFeed([{ guid: 'x', title: 'X', files: ['https://f.example/x.bin'] }]),
    });
    const sub = await subscribe('/crash.xml');
    let crashes = 1;
    const crashing: FeedStore = Object.create(deps.feeds, {
      markSeen: {
        value: (...args: Parameters<FeedStore['markSeen']>) => {
          if (crashes-- > 0) return Promise.reject(new Error('process killed'));
          return deps.feeds.markSeen(...args);
        },
      },
    });

    await expect(refresh(sub.id, { ...deps, feeds: crashing })).rejects.toThrow('process killed');
    expect(await urlsOf(sub.id)).toEqual(['https://f.example/x.bin']);
    // The lease ends; the next fetch finds the item unseen, enqueues it again: the job already exists.
    clock.advance(FEED_LEASE_MS);
    const again = await refresh(sub.id, { ...deps, feeds: crashing });

    expect(again.result).toMatchObject({ jobs: 0, lost: false });
    expect(await jobsOf(sub.id)).toHaveLength(1);
    const decisions = await deps.feeds.recentDecisions(sub.id);
    expect(decisions[0]).toMatchObject({ decision: 'skipped', reason: 'duplicate' });
  });
});
