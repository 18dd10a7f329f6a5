/**
 * The whole path against the real pieces: the HTTP API, dynalite, fauxqs, the DynamoDB pacer, the undici
 * 1fichier client and the 1fichier sandbox, which really fetches the URLs from a loopback file server.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api.js';
import { createPollerHandler } from '../../functions/poller.js';
import { createWorkerHandler } from '../../functions/worker.js';
import { type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import type { RelayConfig } from '../../shared/app/config.js';
import { createDeps, type Deps } from '../../shared/app/deps.js';
import { MemoryMetrics } from '../../shared/app/metrics.js';
import { hashToken } from '../../shared/jobs/ids.js';
import type { JobRecord } from '../../shared/jobs/store.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { receiveEvent } from '../support/engines-pipeline.js';
import { shownJobs } from '../support/shown.js';
import { CaptureLogger } from '../unit/jobs/fakes.js';

let aws: TestAws;
let sandbox: SandboxHandle;
let files: Server;
let filesOrigin: string;
/** One table for the file: the DynamoDB pacer item of the sandbox key must persist between tests, as in production. */
let base: RelayConfig;
const TOKEN = 'fr_sandbox-pipeline-token';

const content = (name: string) => Buffer.from(`file ${name}\n`.repeat(100));

beforeAll(async () => {
  aws = await startTestAws();
  sandbox = await startSandbox({ port: 0, rate: 3 });
  files = createServer((req, res) => {
    const body = content(req.url ?? '/');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', () => resolve()));
  filesOrigin = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  base = await aws.fresh();
});
afterAll(async () => {
  await new Promise<void>((resolve) => files?.close(() => resolve()));
  await sandbox?.close();
  await aws?.close();
});

async function stack(overrides: Partial<RelayConfig> = {}, hooks: Deps['hooks'] = {}) {
  const config: RelayConfig = {
    ...base,
    fichierApiUrl: sandbox.baseUrl,
    fichierApiKey: sandbox.keys.premium,
    batchMaxUrls: 5,
    ...overrides,
  };
  // 3 calls/s allowed by the sandbox: 400 ms spacing stays under it.
  config.pacing = { ...config.pacing, minIntervalMs: 400 };
  const deps = createDeps(config, { logger: new CaptureLogger(), metrics: new MemoryMetrics(), hooks });
  await deps.store.putToken(hashToken(TOKEN), 'alice', Date.now());
  return {
    config,
    deps,
    app: createApiApp(deps),
    worker: createWorkerHandler(deps),
    poller: createPollerHandler(deps),
  };
}

async function pollUntilSettled(s: Awaited<ReturnType<typeof stack>>, ids: string[]): Promise<JobRecord[]> {
  for (let i = 0; i < 40; i++) {
    await s.poller();
    const jobs = await shownJobs(s.deps, ids);
    if (jobs.every((j) => j.status === 'done' || j.status === 'failed')) return jobs;
    await sleep(250);
  }
  return shownJobs(s.deps, ids);
}

describe('pipeline against the 1fichier sandbox', () => {
  it('takes URLs from POST /jobs to done with working file links, each URL submitted once, no flood', async () => {
    const s = await stack();
    sandbox.resetStats();
    const urls = Array.from({ length: 7 }, (_, i) => `${filesOrigin}/movies/m${i}.bin?sig=${i}`);
    const music = [`${filesOrigin}/music/a.mp3`, `${filesOrigin}/music/b.mp3`];
    const post = async (body: unknown) => {
      const res = await s.app.request('/jobs', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id);
    };
    const ids = [
      ...(await post({ urls, folder: 'Relay/Movies' })),
      ...(await post({ urls: music, folder: 'Relay/Music' })),
    ];

    const res = await s.worker(await receiveEvent(aws.sqs, s.config.queueUrl, ids.length));
    expect(res.batchItemFailures).toEqual([]);

    const jobs = await pollUntilSettled(s, ids);
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'done'));
    for (const job of jobs) {
      const got = Buffer.from(await (await fetch(job.fileUrl ?? '')).arrayBuffer());
      const expected = content(new URL(job.url).pathname + new URL(job.url).search);
      expect(createHash('sha256').update(got).digest('hex')).toBe(
        createHash('sha256').update(expected).digest('hex'),
      );
    }
    const stats = sandbox.stats();
    expect(Object.values(stats.submissions).every((n) => n === 1)).toBe(true);
    expect(Object.keys(stats.submissions)).toHaveLength(ids.length);
    expect(stats.requests['remote/request.cgi']).toBe(3); // 5 + 2 movies, 2 music
    expect(stats.floodAnswers).toBe(0);
  });

  it('after a crash right after 1fichier accepted, reconciles from remote/ls + info and submits nothing twice', async () => {
    let crash = true;
    const s = await stack(
      { submittingLeaseS: 1 },
      {
        afterRemoteAccepted: () => {
          if (crash) {
            crash = false;
            throw new Error('simulated crash');
          }
        },
      },
    );
    sandbox.resetStats();
    const urls = [`${filesOrigin}/crash/1.bin`, `${filesOrigin}/crash/2.bin`];
    const res = await s.app.request('/jobs', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' },
      body: urls.join('\n'),
    });
    const ids = ((await res.json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id);
    const event = await receiveEvent(aws.sqs, s.config.queueUrl, 2);
    const crashed = await s.worker(event);
    expect(crashed.batchItemFailures).toHaveLength(2);
    await sleep(1100); // the 1 s lease runs out

    const again = await s.worker(event);
    expect(again.batchItemFailures).toEqual([]);
    const jobs = await pollUntilSettled(s, ids);
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done']);
    expect(sandbox.stats().submissions).toEqual({ [urls[0] as string]: 1, [urls[1] as string]: 1 });
  });
});
