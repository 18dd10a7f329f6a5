/**
 * A sandboxed runtime that starts its own sandbox (no shared handle, as `npm start` does) keeps the sandbox's
 * state under its data dir: stopped while a job is `submitted` and the sandbox has not executed the request
 * yet, then started again on the same data dir, the job still ends `done` with working bytes, and the URL
 * was submitted once across both sandbox lifetimes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SandboxOptions } from '../../infra/sandbox/server.js';
import {
  closedPort,
  download,
  type FileServer,
  removeDir,
  startFileServer,
  startTestRuntime,
  type TestRuntime,
  tempDir,
  until,
  untilTerminal,
} from '../support/runtime.js';

let files: FileServer;
let runtime: TestRuntime | undefined;
let dataDir: string;

beforeAll(async () => {
  files = await startFileServer();
  dataDir = tempDir();
});

afterAll(async () => {
  await runtime?.close();
  await files?.close();
  removeDir(dataDir);
});

it('a job submitted to the runtime’s own sandbox before a restart ends done after it, submitted once', async () => {
  // One sandbox port for both runs, as SANDBOX_PORT for npm start: download links carry it.
  const port = await closedPort();
  const sandboxOptions: SandboxOptions = {
    port,
    rate: 1000,
    floodLockMs: 300,
    userInfoMinIntervalMs: 0,
    userInfoKeyMinIntervalMs: 0,
  };
  // First run: the sandbox holds results back for a while, so the stop lands before the request executes.
  runtime = await startTestRuntime({ dataDir, sandboxOptions: { ...sandboxOptions, execDelayMs: 10_000 } });
  const key = runtime.sandbox!.keys.premium;
  const url = files.url('sandbox-restart.bin');
  const [posted] = (await runtime.client.postJobs({ url })).jobs;
  const id = posted!.id;
  await until(
    () => runtime!.changes.some((c) => c.id === id && c.status === 'submitted'),
    'the job submitted',
  );
  const before = await runtime.client.getJob(id);
  expect(before.status).toBe('submitted');
  const firstStats = runtime.sandbox!.stats();
  await runtime.close();

  // The sandbox saved the request as not executed, next to the jobs.
  const snapshot = JSON.parse(readFileSync(join(dataDir, 'sandbox', 'sandbox-state.json'), 'utf8')) as {
    accounts: { remote: { id: number; executedAt?: string }[] }[];
  };
  expect(snapshot.accounts[0]?.remote).toEqual([expect.objectContaining({ id: before.remoteId })]);
  expect(snapshot.accounts[0]?.remote[0]?.executedAt).toBeUndefined();

  // Second run, same data dir: same key, the request is fetched again and executes at once.
  runtime = await startTestRuntime({ dataDir, sandboxOptions });
  expect(runtime.sandbox!.keys.premium).toBe(key);
  const [job] = await untilTerminal(runtime.client, [id]);

  expect(job).toMatchObject({ status: 'done', remoteId: before.remoteId });
  expect(job!.fileUrl!.startsWith(`http://127.0.0.1:${port}/`)).toBe(true);
  expect(await download(job!.fileUrl!)).toEqual(files.bytesOf('sandbox-restart.bin'));
  const secondStats = runtime.sandbox!.stats();
  expect((firstStats.submissions[url] ?? 0) + (secondStats.submissions[url] ?? 0)).toBe(1);
  expect(firstStats.remoteRequests + secondStats.remoteRequests).toBe(1);
});
