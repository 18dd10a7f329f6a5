/**
 * The local runtime driven over HTTP: one URL to `done` with the right bytes, the sample file of the
 * start banner, 50 URLs in few remote/request.cgi calls, duplicates, and an unreachable source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_TEXT, sampleUrl } from '../../infra/local/sample.js';
import type { SandboxHandle } from '../../infra/sandbox/server.js';
import {
  closedPort,
  download,
  type FileServer,
  removeDir,
  startFileServer,
  startTestRuntime,
  startTestSandbox,
  statusesOf,
  type TestRuntime,
  tempDir,
  until,
  untilTerminal,
} from '../support/runtime.js';

let sandbox: SandboxHandle;
let files: FileServer;
let runtime: TestRuntime;
let dataDir: string;
/** Each worker batch and poller cycle the runtime told of, with its start and end (performance.now()). */
const invocations: { fn: 'worker' | 'poller'; start: number; end?: number }[] = [];
/** When each job change was heard (performance.now()). */
const changedAt: { id: string; status: string; at: number }[] = [];

beforeAll(async () => {
  dataDir = tempDir();
  sandbox = await startTestSandbox();
  files = await startFileServer();
  runtime = await startTestRuntime({
    dataDir,
    sandbox,
    onInvocation: (fn) => {
      const entry: (typeof invocations)[number] = { fn, start: performance.now() };
      invocations.push(entry);
      return () => {
        entry.end = performance.now();
      };
    },
    onJobChange: (c) => changedAt.push({ id: c.id, status: c.status, at: performance.now() }),
  });
});

afterAll(async () => {
  await runtime?.close();
  await files?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

describe('local runtime end to end', () => {
  it('takes a URL from queued through submitted to done, with a file link serving the same bytes', async () => {
    const url = files.url('one.bin');
    const posted = await runtime.client.postJobs({ url });
    expect(posted.jobs).toHaveLength(1);
    const [created] = posted.jobs;
    expect(created).toMatchObject({ url, status: 'queued', duplicate: false });

    const [job] = await untilTerminal(runtime.client, [created!.id]);
    expect(job).toMatchObject({ id: created!.id, status: 'done' });
    expect(job!.remoteId).toEqual(expect.any(Number));
    expect(statusesOf(runtime.changes, created!.id)).toEqual(['queued', 'submitting', 'submitted', 'done']);
    expect(await download(job!.fileUrl!)).toEqual(files.bytesOf('one.bin'));
  });

  it('tells onInvocation of each worker batch and poller cycle, from the handler start to its end', async () => {
    const posted = await runtime.client.postJobs({ url: files.url('timed.bin') });
    const id = posted.jobs[0]!.id;
    await untilTerminal(runtime.client, [id]);
    const at = (status: string) => changedAt.find((c) => c.id === id && c.status === status)?.at;
    const within = (fn: 'worker' | 'poller', t: number | undefined) =>
      t !== undefined &&
      invocations.some((i) => i.fn === fn && i.start <= t && i.end !== undefined && t <= i.end);
    // The claim and the request item are written by the worker's handler, the end by a poller cycle.
    // The API can show the job done before the cycle that ended it has heard its own write or ended.
    await until(() => within('poller', at('done')), 'the poll cycle that ended the job to end', 10_000);
    expect(within('worker', at('submitting'))).toBe(true);
    expect(within('worker', at('submitted'))).toBe(true);
    expect(within('poller', at('done'))).toBe(true);
    // One worker invocation per batch the SQS loop handed over, as Lambda's event source invokes it.
    const finished = invocations.filter((i) => i.fn === 'worker' && i.end !== undefined).length;
    expect(finished).toBeGreaterThan(0);
    expect(finished).toBeLessThanOrEqual(runtime.stats().worker.batches);
  });

  it('the sample URL of the start banner becomes a done job with the sample text', async () => {
    const posted = await runtime.client.postJobs({ url: sampleUrl(runtime.baseUrl) });
    const [job] = await untilTerminal(runtime.client, [posted.jobs[0]!.id]);
    expect(job!.status).toBe('done');
    expect((await download(job!.fileUrl!)).toString('utf8')).toBe(SAMPLE_TEXT);
  });

  it('sends 50 URLs of one request to 1fichier in at most ceil(50 / batch) remote/request.cgi calls', async () => {
    const before = sandbox.stats().requests['remote/request.cgi'] ?? 0;
    const urls = Array.from({ length: 50 }, (_, i) => files.url(`batch-${i}.bin`));
    const posted = await runtime.client.postJobs({ urls });
    expect(posted.jobs).toHaveLength(50);

    const jobs = await untilTerminal(
      runtime.client,
      posted.jobs.map((j) => j.id),
    );
    expect(jobs.filter((j) => j.status !== 'done')).toEqual([]);
    const calls = (sandbox.stats().requests['remote/request.cgi'] ?? 0) - before;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(Math.ceil(50 / runtime.deps.config.batchMaxUrls));
    const submissions = sandbox.stats().submissions;
    for (const url of urls) expect(submissions[url]).toBe(1);
  });

  it('answers a duplicate POST with the same job id and duplicate: true', async () => {
    const url = files.url('dup.bin?sig=abc');
    const first = await runtime.client.postJobs({ url });
    const second = await runtime.client.postJobs({ url });
    expect(second.jobs[0]).toMatchObject({ id: first.jobs[0]!.id, duplicate: true });
    expect(first.jobs[0]!.duplicate).toBe(false);
    await untilTerminal(runtime.client, [first.jobs[0]!.id]);
    expect(sandbox.stats().submissions[url]).toBe(1);
  });

  it('fails a job whose source is unreachable, with the sandbox reason in error.message', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/gone.bin`;
    const posted = await runtime.client.postJobs({ url });
    const [job] = await untilTerminal(runtime.client, [posted.jobs[0]!.id]);
    expect(job!.status).toBe('failed');
    expect(job!.error?.message).toMatch(/ECONNREFUSED/);
    expect(job!.fileUrl).toBeUndefined();
  });
});
