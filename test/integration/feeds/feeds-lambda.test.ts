/**
 * functions/feeds.ts as Lambda runs it: the handler built from its own composition root over dynalite
 * and fauxqs, invoked with a context. Due feeds are fetched once even by overlapping invocations, their
 * new items reach the jobs queue, and a run without time left takes no feed.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeedsHandler } from '../../../functions/feeds.js';
import type { RelayConfig } from '../../../shared/app/config.js';
import { createFeedsDeps } from '../../../shared/app/feeds-deps.js';
import { MemoryMetrics } from '../../../shared/app/metrics.js';
import { parseJobMessage } from '../../../shared/aws/queue.js';
import { createFeed } from '../../../shared/feeds/manage-feeds.js';
import { MIN_FEED_SLICE_MS } from '../../../shared/feeds/run-feeds.js';
import { startTestAws, type TestAws } from '../../support/engines.js';
import { type FeedServer, rssFeed, startFeedServer } from '../../support/feed-server.js';
import { CaptureLogger } from '../../unit/jobs/fakes.js';

let aws: TestAws;
let server: FeedServer;

beforeAll(async () => {
  aws = await startTestAws();
  server = await startFeedServer();
});
afterAll(async () => {
  await server?.close();
  await aws?.close();
});

const context = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

async function drain(config: RelayConfig): Promise<string[]> {
  const ids: string[] = [];
  for (let empty = 0; empty < 2; ) {
    const out = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: config.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    if (!out.Messages?.length) empty++;
    for (const m of out.Messages ?? []) ids.push(parseJobMessage(m.Body ?? '').jobId);
  }
  return ids;
}

describe('feeds Lambda handler', () => {
  it('fetches every due feed exactly once across two overlapping invocations and queues their jobs', async () => {
    const config = await aws.fresh({ allowPrivateUrls: true });
    const deps = createFeedsDeps(config, { logger: new CaptureLogger(), metrics: new MemoryMetrics() });
    const feeds = [];
    for (let i = 0; i < 6; i++) {
      server.route(`/lambda-${i}.xml`, {
        body: rssFeed([{ guid: `l${i}`, title: `L${i}`, files: [`https://f.example/l${i}.bin`] }]),
      });
      feeds.push(
        await createFeed(
          `user-${i % 2}`,
          {
            url: server.url(`/lambda-${i}.xml`),
            include: [],
            exclude: [],
            pick: 'enclosure',
            folder: '',
            backfill: 1,
          },
          deps,
        ),
      );
    }
    const a = createFeedsHandler(deps);
    const b = createFeedsHandler(createFeedsDeps(config, { logger: new CaptureLogger() }));

    const [ra, rb] = await Promise.all([a({}, context(60_000)), b({}, context(60_000))]);

    expect(ra.fetched + rb.fetched).toBe(6);
    expect(ra.errors + rb.errors).toBe(0);
    for (let i = 0; i < 6; i++) expect(server.hits(`/lambda-${i}.xml`), `feed ${i}`).toBe(1);
    const queued = await drain(config);
    expect(queued).toHaveLength(6);
    for (const f of feeds) {
      const stored = (await deps.feeds.getFeed(f.userId, f.id))!;
      expect(stored.leaseToken).toBeUndefined();
      expect(stored.nextFetchAt).toBeGreaterThan(Date.now() + 4 * 60_000);
    }
    const again = await a({}, context(60_000));
    expect(again.fetched).toBe(0);
  });

  it('takes no feed when the invocation has less than one fetch slice left; the feed stays due', async () => {
    const config = await aws.fresh({ allowPrivateUrls: true });
    const deps = createFeedsDeps(config, { logger: new CaptureLogger() });
    server.route('/late.xml', { body: rssFeed([]) });
    const feed = await createFeed(
      'late',
      { url: server.url('/late.xml'), include: [], exclude: [], pick: 'enclosure', folder: '', backfill: 0 },
      deps,
    );

    const summary = await createFeedsHandler(deps)({}, context(MIN_FEED_SLICE_MS));

    expect(summary).toMatchObject({ fetched: 0, outOfTime: true });
    expect(server.hits('/late.xml')).toBe(0);
    expect((await deps.feeds.dueFeeds(Date.now(), 10)).map((f) => f.id)).toContain(feed.id);
  });
});
