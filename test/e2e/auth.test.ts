/**
 * A wrong 1fichier key opens the circuit: calls stop, jobs wait as `queued`. Restarting the runtime on
 * the same data dir with the right key (the local key-change path) completes them.
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

const totalRequests = () => Object.values(sandbox.stats().requests).reduce((a, b) => a + b, 0);

it('an invalid key opens the circuit, jobs wait queued, and complete once the key is fixed', async () => {
  const badKey = 'wrongKeyWrongKeyWrongKeyWrongKey';
  runtime = await startTestRuntime({ dataDir, sandbox, fichierApiKey: badKey });
  const urls = Array.from({ length: 3 }, (_, i) => files.url(`auth-${i}.bin`));
  const posted = await runtime.client.postJobs({ urls });
  const ids = posted.jobs.map((j) => j.id);

  const state = await until(async () => {
    const s = await runtime!.deps.pacer.state(keyIdOf(badKey));
    return s.circuitOpen ? s : undefined;
  }, 'the auth circuit to open');
  expect(state.circuitReason ?? '').not.toContain(badKey);
  await until(
    async () => (await runtime!.client.getJobs(ids)).every((j) => j.status === 'queued'),
    'the jobs to be back in queued',
    10_000,
  );
  // With the circuit open nothing more reaches 1fichier (repeated 401s can get the IP banned).
  const callsWhileOpen = totalRequests();
  await new Promise((r) => setTimeout(r, 1000));
  expect(totalRequests()).toBe(callsWhileOpen);
  for (const job of await runtime.client.getJobs(ids)) expect(job.status).toBe('queued');
  expect(Object.keys(sandbox.stats().submissions).filter((u) => urls.includes(u))).toEqual([]);

  const token = runtime.token;
  await runtime.close();
  runtime = await startTestRuntime({ dataDir, sandbox, fichierApiKey: sandbox.keys.premium });
  expect(runtime.token).toBe(token);

  const jobs = await untilTerminal(runtime.client, ids);
  expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'done'));
  const submissions = sandbox.stats().submissions;
  for (const url of urls) expect(submissions[url]).toBe(1);
});
