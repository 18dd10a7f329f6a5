/**
 * The feeds reader as the Lambda runs it: `functions/feeds.ts` bundled like the CDK does, its
 * `afterBundling` step (infra/cdk/on-demand.ts) run into the same directory, then the bundle's own `handler`
 * invoked in a child process against dynalite and fauxqs, fetching a feed from a loopback server. The
 * fetcher (the guarded HTTP client and the feed parser) is `feed-fetcher.mjs` beside `index.mjs`, loaded on
 * the first feed a run fetches; nothing of the repository is on that path.
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEEDS_ON_DEMAND, onDemandCommands } from '../../infra/cdk/on-demand.js';
import { bundleLikeCdk, repoRoot } from '../../infra/cdk/tools/bundle.js';
import { awsEnvFor } from '../../infra/local/engines.js';
import type { RelayConfig } from '../../shared/app/config.js';
import type { Deps } from '../../shared/app/deps.js';
import { ENV } from '../../shared/config/env-names.js';
import { FEED_FETCHER_FILE, importFeedFetcher } from '../../shared/feeds/load-feed-fetcher.js';
import { createFeed } from '../../shared/feeds/manage-feeds.js';
import type { RunDueSummary } from '../../shared/feeds/run-feeds.js';
import { systemClock } from '../../shared/fichier/clock.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness } from '../support/engines-pipeline.js';
import { type FeedServer, rssFeed, startFeedServer } from '../support/feed-server.js';

const root = join(tmpdir(), `relay-feeds-bundle-${process.pid}`);
const dir = join(root, 'with-fetcher');
const bare = join(root, 'without-fetcher');
const USER = 'alice';

let aws: TestAws;
let config: RelayConfig;
let deps: Deps;
let server: FeedServer;

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  mkdirSync(bare, { recursive: true });
  await bundleLikeCdk('functions/feeds.ts', { outfile: join(dir, 'index.mjs') });
  for (const cmd of onDemandCommands(FEEDS_ON_DEMAND)(repoRoot, dir)) {
    execFileSync('bash', ['-c', cmd], { cwd: repoRoot, stdio: 'pipe' });
  }
  copyFileSync(join(dir, 'index.mjs'), join(bare, 'index.mjs'));
  aws = await startTestAws();
  // A loopback feed needs the opt-in, in the handler's environment as in these deps.
  config = await aws.fresh({ allowPrivateUrls: true });
  deps = harness(config, { clock: systemClock }).deps;
  server = await startFeedServer();
}, 90_000);
afterAll(async () => {
  await server?.close();
  await aws?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Runs the bundled handler at `at` once, as the EventBridge tick does; returns its summary and its log lines. */
async function tick(at: string): Promise<{ summary: RunDueSummary; log: string }> {
  const out = join(at, 'summary.json');
  const script = join(at, 'tick.mjs');
  writeFileSync(
    script,
    `import { writeFileSync } from 'node:fs';
import { handler } from './index.mjs';
const summary = await handler({}, { getRemainingTimeInMillis: () => 60_000 });
writeFileSync(process.argv[2], JSON.stringify(summary));
// The SDK's keep-alive sockets would hold the process open, as Lambda freezes it instead.
process.exit(0);`,
  );
  // Not execFileSync: the engines answer from this process, whose event loop must keep running.
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, out], {
    cwd: at,
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH ?? '',
      ...awsEnvFor(aws.engines),
      LAMBDA_TASK_ROOT: at,
      [ENV.tableName]: config.tableName,
      [ENV.queueUrl]: config.queueUrl,
      [ENV.allowPrivateUrls]: '1',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  return { summary: JSON.parse(readFileSync(out, 'utf8')) as RunDueSummary, log: stdout + stderr };
}

let n = 0;
async function subscribe(path: string) {
  n += 1;
  return createFeed(
    USER,
    {
      url: server.url(path),
      include: [],
      exclude: [],
      pick: 'enclosure',
      folder: `Bundle/${n}`,
      backfill: 10,
    },
    deps,
  );
}

const feedJobs = async (feedId: string) =>
  (await deps.store.listForUser(USER, { limit: 100 })).items
    .filter((j) => j.source === `feed:${feedId}`)
    .map((j) => j.url)
    .sort();

describe('the feeds reader Lambda bundle', () => {
  it('fetches a due feed with feed-fetcher.mjs beside index.mjs and queues its items', async () => {
    server.route('/bundle.xml', {
      headers: { 'content-type': 'application/rss+xml' },
      body: rssFeed([
        { title: 'one', guid: 'b1', files: [server.url('/files/one.bin')] },
        { title: 'two', guid: 'b2', files: [server.url('/files/two.bin')] },
      ]),
    });
    const feed = await subscribe('/bundle.xml');
    const { summary } = await tick(dir);
    expect(summary).toMatchObject({ fetched: 1, failed: 0, errors: 0, jobs: 2 });
    expect(await feedJobs(feed.id)).toEqual([server.url('/files/one.bin'), server.url('/files/two.bin')]);
    expect((await deps.feeds.getFeed(USER, feed.id))?.lastStatus).toBe(200);
  });

  it('without the afterBundling step, a run fails that feed naming feed-fetcher.mjs and leaves it due', async () => {
    const code = readFileSync(join(bare, 'index.mjs'), 'utf8');
    expect(code).toContain(FEED_FETCHER_FILE);
    server.route('/bare.xml', { body: rssFeed([{ title: 'x', guid: 'x1', files: [server.url('/x.bin')] }]) });
    const feed = await subscribe('/bare.xml');
    const requestsBefore = server.requests.length;
    const { summary, log } = await tick(bare);
    expect(summary).toMatchObject({ fetched: 0, errors: 1, jobs: 0 });
    expect(log).toContain(`${FEED_FETCHER_FILE} is missing beside the bundle`);
    // Nothing was fetched or written: the feed comes back once its lease ends.
    expect(server.requests.length).toBe(requestsBefore);
    expect(await feedJobs(feed.id)).toEqual([]);
    expect((await deps.feeds.getFeed(USER, feed.id))?.lastFetchAt).toBeUndefined();
  });

  it('loads the fetcher from that file when it is beside the bundle, from the sources otherwise', async () => {
    expect((await importFeedFetcher(pathToFileURL(join(dir, 'index.mjs')))).FEED_FETCHER_URL).toBe(
      pathToFileURL(join(dir, FEED_FETCHER_FILE)).href,
    );
    expect((await importFeedFetcher(pathToFileURL(join(bare, 'index.mjs')))).FEED_FETCHER_URL).toMatch(
      /\/shared\/feeds\/feed-fetcher\.ts$/,
    );
  });
});
