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
const dataDirs: string[] = [];
let releaseZombie: (() => void) | undefined;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  files = await startFileServer();
});

afterAll(async () => {
  await runtime?.close();
  releaseZombie?.();
  await files?.close();
  await sandbox?.close();
  for (const dir of dataDirs) removeDir(dir);
});

function newDataDir(): string {
  const dir = tempDir();
  dataDirs.push(dir);
  return dir;
}

it('a restart in the middle of a run leaves every job terminal and no URL submitted twice', async () => {
  // Slow pacing so the restart lands while most jobs are still queued.
  const slow = { dataDir: newDataDir(), sandbox, minIntervalMs: 400, batchMaxUrls: 5 };
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

it('a killed runtime with jobs in submitting (1fichier already accepted them) restarts without resubmitting', async () => {
  const dataDir = newDataDir();
  let entered: string[] | undefined;
  const gate = new Promise<void>((resolve) => {
    releaseZombie = resolve;
  });
  runtime = await startTestRuntime({
    dataDir,
    sandbox,
    hooks: {
      // Holds the first accepted batch between 1fichier's OK and our write, then the process "dies".
      async afterRemoteAccepted(jobIds) {
        if (entered) return;
        entered = jobIds;
        await gate;
      },
    },
  });
  const urls = Array.from({ length: 4 }, (_, i) => files.url(`killed-${i}.bin`));
  const posted = await runtime.client.postJobs({ urls });
  const ids = posted.jobs.map((j) => j.id);
  await until(() => entered, 'a batch accepted by 1fichier');
  const held = (await runtime.client.getJobs(entered!)).map((j) => j.status);
  expect(held.every((s) => s === 'submitting')).toBe(true);

  await runtime.kill();
  runtime = await startTestRuntime({ dataDir, sandbox });
  const jobs = await untilTerminal(runtime.client, ids);

  expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'done'));
  const submissions = sandbox.stats().submissions;
  for (const url of urls) expect(submissions[url]).toBe(1);
});
