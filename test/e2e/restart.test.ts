/**
 * Stopping the runtime mid-run and starting it again on the same data dir loses nothing: fauxqs forgets
 * its messages, DynamoDB (dynalite on disk) remembers the jobs, and the runtime rebuilds the queue.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SandboxHandle } from '../../infra/sandbox/server.js';
import {
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
let runtime: TestRuntime | undefined;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir();
  sandbox = await startTestSandbox();
  files = await startFileServer();
});

afterAll(async () => {
  await runtime?.close();
  await files?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

it('a restart in the middle of a run leaves every job terminal and no URL submitted twice', async () => {
  // Slow pacing so the restart lands while most jobs are still queued.
  const slow = { dataDir, sandbox, minIntervalMs: 400, batchMaxUrls: 5 };
  runtime = await startTestRuntime(slow);
  const urls = Array.from({ length: 30 }, (_, i) => files.url(`restart-${i}.bin`));
  const posted = await runtime.client.postJobs({ urls });
  const ids = posted.jobs.map((j) => j.id);
  await until(() => runtime!.changes.some((c) => c.status === 'submitted'), 'a first submission');

  await runtime.close();

  runtime = await startTestRuntime(slow);
  // The restart really was mid-run: jobs were still queued, and only the table knew about them.
  expect(runtime.stats().requeuedAtStart).toBeGreaterThan(0);
  const jobs = await untilTerminal(runtime.client, ids, 50_000);

  expect(jobs.filter((j) => j.status !== 'done')).toEqual([]);
  const submissions = sandbox.stats().submissions;
  for (const url of urls) expect(submissions[url]).toBe(1);
});
