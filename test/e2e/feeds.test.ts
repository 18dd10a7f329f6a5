/**
 * Feeds end to end through the local runtime (`npm start`'s runtime, in-process) and the sandbox: a
 * podcast feed served over loopback is subscribed through the API, the feeds reader runs on its
 * schedule, and the new enclosures become `done` jobs whose 1fichier links serve the same bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxHandle } from '../../infra/sandbox/server.js';
import { ENV } from '../../shared/config/env-names.js';
import { type FeedServer, rssFeed, startFeedServer } from '../support/feed-server.js';
import {
  download,
  type FileServer,
  removeDir,
  startFileServer,
  startTestRuntime,
  startTestSandbox,
  type TestRuntime,
  tempDir,
  until,
  untilTerminal,
} from '../support/runtime.js';

let sandbox: SandboxHandle;
let files: FileServer;
let feeds: FeedServer;
let runtime: TestRuntime;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir();
  sandbox = await startTestSandbox();
  files = await startFileServer();
  feeds = await startFeedServer();
  runtime = await startTestRuntime({
    dataDir,
    sandbox,
    // The feed and its files are on loopback: the opt-in a local test setup needs.
    env: { [ENV.allowPrivateUrls]: '1' },
    feedsIntervalMs: 300,
    firstFeedsDelayMs: 100,
  });
});

afterAll(async () => {
  await runtime?.close();
  await feeds?.close();
  await files?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${runtime.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${runtime.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

interface FeedView {
  id: string;
  lastStatus?: number;
  items: { title?: string; decision: string; reason?: string; jobIds?: string[] }[];
}

describe('feeds through the local runtime', () => {
  it('turns the newest episode of a subscribed podcast into done jobs, and only that one', async () => {
    const now = Date.now();
    feeds.route('/podcast.xml', {
      body: rssFeed([
        {
          guid: 'ep3',
          title: 'Episode 3',
          files: [files.url('ep3.mp3'), files.url('ep3-notes.pdf')],
          published: now - 3_600_000,
        },
        { guid: 'ep2', title: 'Episode 2', files: [files.url('ep2.mp3')], published: now - 86_400_000 },
        { guid: 'ep1', title: 'Episode 1', files: [files.url('ep1.mp3')], published: now - 2 * 86_400_000 },
      ]),
    });

    const res = await api('POST', '/feeds', {
      url: feeds.url('/podcast.xml'),
      backfill: 1,
      folder: 'Podcasts',
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };

    const view = await until(async () => {
      const v = (await (await api('GET', `/feeds/${id}`)).json()) as FeedView;
      return v.lastStatus === 200 ? v : undefined;
    }, 'the feeds reader to fetch the feed');
    const byTitle = new Map(view.items.map((i) => [i.title, i]));
    expect(byTitle.get('Episode 3')).toMatchObject({ decision: 'enqueued' });
    expect(byTitle.get('Episode 2')).toMatchObject({ decision: 'skipped', reason: 'baseline' });
    expect(byTitle.get('Episode 1')).toMatchObject({ decision: 'skipped', reason: 'baseline' });

    const jobIds = byTitle.get('Episode 3')!.jobIds!;
    expect(jobIds).toHaveLength(2);
    const jobs = await untilTerminal(runtime.client, jobIds);
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done']);
    for (const j of jobs) expect(j).toMatchObject({ source: `feed:${id}`, folder: 'Podcasts' });
    const mp3 = jobs.find((j) => j.url === files.url('ep3.mp3'))!;
    expect(await download(mp3.fileUrl!)).toEqual(files.bytesOf('ep3.mp3'));
    expect(files.hits.get('/files/ep2.mp3')).toBeUndefined();
    expect(runtime.stats().feedRuns).toBeGreaterThan(0);
  });
});
