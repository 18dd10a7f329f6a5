/**
 * A worker that dies after 1fichier accepted a batch but before the jobs were marked `submitted` (the
 * worst moment): reconciliation must find the remote request instead of submitting the URLs again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SandboxHandle } from '../../infra/sandbox/server.js';
import {
  type FileServer,
  removeDir,
  startFileServer,
  startTestRuntime,
  startTestSandbox,
  statusesOf,
  type TestRuntime,
  tempDir,
  untilTerminal,
} from '../support/runtime.js';

let sandbox: SandboxHandle;
let files: FileServer;
let runtime: TestRuntime;
let dataDir: string;
const crashedFor: string[][] = [];

beforeAll(async () => {
  dataDir = tempDir();
  sandbox = await startTestSandbox();
  files = await startFileServer();
  runtime = await startTestRuntime({
    dataDir,
    sandbox,
    hooks: {
      afterRemoteAccepted(jobIds) {
        if (crashedFor.length === 0) {
          crashedFor.push(jobIds);
          throw new Error('injected crash after remote/request.cgi answered OK');
        }
      },
    },
  });
});

afterAll(async () => {
  await runtime?.close();
  await files?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

it('a crash between 1fichier OK and our write submits each URL once and still ends done', async () => {
  const urls = Array.from({ length: 5 }, (_, i) => files.url(`crash-${i}.bin`));
  const posted = await runtime.client.postJobs({ urls });
  const ids = posted.jobs.map((j) => j.id);

  const jobs = await untilTerminal(runtime.client, ids);

  expect(crashedFor).toHaveLength(1);
  expect(crashedFor[0]!.length).toBeGreaterThan(0);
  expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'done'));
  const submissions = sandbox.stats().submissions;
  for (const url of urls) expect(submissions[url]).toBe(1);
  for (const id of crashedFor[0]!) {
    // The crashed jobs never went back to `queued`: they were reconciled from `submitting`.
    expect(statusesOf(runtime.changes, id).slice(1)).not.toContain('queued');
  }
  for (const job of jobs) expect((await fetch(job.fileUrl!)).status).toBe(200);
});
