/**
 * A flood answer from 1fichier pauses every call for the key (the pacer's state shows it), and every job
 * still completes without any URL being submitted twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SandboxHandle } from '../../infra/sandbox/server.js';
import { keyIdOf } from '../../shared/fichier/memory-pacer.js';
import {
  type FileServer,
  removeDir,
  startFileServer,
  startTestRuntime,
  startTestSandbox,
  type TestRuntime,
  tempDir,
  untilTerminal,
} from '../support/runtime.js';

let sandbox: SandboxHandle;
let files: FileServer;
let runtime: TestRuntime;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir();
  sandbox = await startTestSandbox();
  files = await startFileServer();
  runtime = await startTestRuntime({ dataDir, sandbox, batchMaxUrls: 5 });
});

afterAll(async () => {
  await runtime?.close();
  await files?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

it('an injected flood pauses the key, then every job completes with no extra submission', async () => {
  const keyId = keyIdOf(sandbox.keys.premium);
  sandbox.setFaults({ forceFlood: 1, paths: ['remote/request.cgi'] });
  // Sample the shared pacer state while the jobs run: the pause is short in tests (FICHIER_FLOOD_PAUSE_MS 300).
  let sawPause = false;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const s = await runtime.deps.pacer.state(keyId);
      if (s.floodCount > 0 || s.pausedUntil > 0) sawPause = true;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const urls = Array.from({ length: 12 }, (_, i) => files.url(`flood-${i}.bin`));
  const posted = await runtime.client.postJobs({ urls });
  const jobs = await untilTerminal(
    runtime.client,
    posted.jobs.map((j) => j.id),
  );
  sampling = false;
  await sampler;

  expect(sandbox.stats().floodAnswers).toBeGreaterThanOrEqual(1);
  expect(sawPause).toBe(true);
  expect(jobs.filter((j) => j.status !== 'done')).toEqual([]);
  const submissions = sandbox.stats().submissions;
  for (const url of urls) expect(submissions[url]).toBe(1);
});
