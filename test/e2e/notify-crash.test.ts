/**
 * A crash between a job's end and its delivery still delivers: the first runtime drops the job-event
 * hand-off (as if the process died right after the job's last write) and is killed; the next start finds
 * the ended job without a delivery and sends its message, once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SandboxHandle } from '../../infra/sandbox/server.js';
import { type Receiver, startReceiver, verifyDelivery } from '../support/receiver.js';
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
let receiver: Receiver;
let runtime: TestRuntime | undefined;
let dataDir: string;
const env = { RELAY_ALLOW_PRIVATE_URLS: '1' };

beforeAll(async () => {
  dataDir = tempDir();
  sandbox = await startTestSandbox();
  files = await startFileServer();
  receiver = await startReceiver();
});

afterAll(async () => {
  await runtime?.close();
  await receiver?.close();
  await files?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

it('a job that ended just before a crash is delivered after the restart, exactly once', async () => {
  const first = await startTestRuntime({ dataDir, sandbox, env, dropJobEvents: true });
  runtime = first;
  const res = await fetch(`${first.baseUrl}/notifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'webhook', url: `${receiver.origin}/webhook` }),
  });
  expect(res.status).toBe(201);
  const posted = await first.client.postJobs({ url: files.url('crash-notify.bin') });
  const [job] = await untilTerminal(first.client, [posted.jobs[0]!.id]);
  expect(job!.status).toBe('done');
  // The first process never hands the end over; give it time to prove nothing was sent.
  await new Promise((r) => setTimeout(r, 500));
  expect(receiver.requests).toHaveLength(0);
  await first.kill();

  const second = await startTestRuntime({ dataDir, sandbox, env });
  runtime = second;
  expect(second.stats().deliveries.recoveredAtStart).toBe(1);
  await until(() => receiver.to('/webhook').length > 0, 'the recovered delivery');
  const secret = (
    (await (
      await fetch(`${second.baseUrl}/account`, { headers: { authorization: `Bearer ${second.token}` } })
    ).json()) as {
      webhookSecret: string;
    }
  ).webhookSecret;
  const body = verifyDelivery(secret, receiver.to('/webhook')[0]!) as {
    type: string;
    data: { id: string; fileUrl: string };
  };
  expect(body).toMatchObject({ type: 'job.done', data: { id: job!.id, fileUrl: job!.fileUrl } });

  // A third start finds the delivery recorded and sends nothing again.
  await second.close();
  const third = await startTestRuntime({ dataDir, sandbox, env });
  runtime = third;
  expect(third.stats().deliveries.recoveredAtStart).toBe(0);
  await new Promise((r) => setTimeout(r, 1500));
  expect(receiver.to('/webhook')).toHaveLength(1);
});
