/**
 * Notifications through the local runtime (the same code as in AWS): a user adds a webhook, an ntfy topic
 * and an IFTTT event (loopback receivers standing in), submits a URL and receives a signed "done" message
 * with the file link; a callback answered 500 once is retried with the same webhook-id; a REST hook
 * answered 410 is removed; no secret reaches any log line.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SandboxHandle } from '../../infra/sandbox/server.js';
import type { RelayLogger } from '../../shared/app/deps.js';
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

/** Every log line, with its extra fields, as text. */
function capturingLogger(): RelayLogger & { lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (message: unknown, ...extra: unknown[]) => {
      lines.push(
        `${level} ${String(message)} ${JSON.stringify(extra, (_k, v) => (v instanceof Error ? `${v.name}: ${v.message}` : v))}`,
      );
    };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  } as RelayLogger & {
    lines: string[];
  };
}

// biome-ignore lint/suspicious/noExplicitAny: answers of many routes, checked field by field by the tests.
type Any = any;

let sandbox: SandboxHandle;
let files: FileServer;
let receiver: Receiver;
let runtime: TestRuntime;
let dataDir: string;
const logger = capturingLogger();
const IFTTT_KEY = 'dQw4w9WgXcQ_iftttKey42';

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Any }> {
  const res = await fetch(`${runtime.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${runtime.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  dataDir = tempDir();
  sandbox = await startTestSandbox();
  files = await startFileServer();
  receiver = await startReceiver();
  runtime = await startTestRuntime({
    dataDir,
    sandbox,
    logger,
    env: {
      RELAY_ALLOW_PRIVATE_URLS: '1',
      NOTIFY_RETRY_BASE_MS: '200',
      NOTIFY_IFTTT_URL: `${receiver.origin}/ifttt`,
    },
  });
});

afterAll(async () => {
  await runtime?.close();
  await receiver?.close();
  await files?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

it('a user adds a webhook, an ntfy topic and an IFTTT event, submits a URL and receives a signed done message with the file link', async () => {
  const webhook = await api('POST', '/notifications', { type: 'webhook', url: `${receiver.origin}/webhook` });
  const ntfy = await api('POST', '/notifications', {
    type: 'ntfy',
    topic: 'relay-uploads',
    server: `${receiver.origin}/ntfy`,
  });
  const ifttt = await api('POST', '/notifications', { type: 'ifttt', event: 'upload_done', key: IFTTT_KEY });
  expect([webhook.status, ntfy.status, ifttt.status]).toEqual([201, 201, 201]);
  expect(JSON.stringify(ifttt.json)).not.toContain(IFTTT_KEY);
  const listed = await api('GET', '/notifications');
  expect(listed.json.notifications).toHaveLength(3);
  expect(JSON.stringify(listed.json)).not.toContain(IFTTT_KEY);
  const account = await api('GET', '/account');
  const secret = account.json.webhookSecret as string;
  expect(secret).toMatch(/^whsec_/);

  const posted = await runtime.client.postJobs({ url: files.url('notify-done.bin') });
  const [job] = await untilTerminal(runtime.client, [posted.jobs[0]!.id]);
  expect(job!.status).toBe('done');

  await until(
    () =>
      receiver.to('/webhook').length > 0 &&
      receiver.to('/ntfy').length > 0 &&
      receiver.to('/ifttt').length > 0,
    'three deliveries',
  );
  const [hook] = receiver.to('/webhook');
  const envelope = verifyDelivery(secret, hook!) as { type: string; data: { id: string; fileUrl: string } };
  expect(envelope.type).toBe('job.done');
  expect(envelope.data.id).toBe(job!.id);
  expect(envelope.data.fileUrl).toBe(job!.fileUrl);
  const [push] = receiver.to('/ntfy');
  expect(JSON.parse(push!.body)).toMatchObject({
    topic: 'relay-uploads',
    click: job!.fileUrl,
    tags: ['white_check_mark'],
  });
  const [applet] = receiver.to('/ifttt');
  expect(applet!.path).toBe(`/ifttt/trigger/upload_done/with/key/${IFTTT_KEY}`);
  expect(JSON.parse(applet!.body)).toEqual({
    value1: 'done',
    value2: 'notify-done.bin',
    value3: job!.fileUrl,
  });

  const deliveries = await until(async () => {
    const d = (await api('GET', '/deliveries?limit=10')).json.deliveries as {
      status: string;
      via: string;
      attempts: number;
      lastStatus: number;
    }[];
    return d.filter((x) => x.status === 'delivered').length === 3 ? d : undefined;
  }, 'three delivered records');
  expect(deliveries.map((d) => d.via).sort()).toEqual(['ifttt', 'ntfy', 'webhook']);
  expect(deliveries.every((d) => d.attempts === 1 && d.lastStatus === 200)).toBe(true);

  const tested = await api('POST', `/notifications/${webhook.json.id}/test`);
  expect(tested.status).toBe(200);
  expect(tested.json).toMatchObject({ delivered: true, status: 'delivered', httpStatus: 200, answer: 'ok' });
  const testBody = verifyDelivery(secret, receiver.to('/webhook').at(-1)!) as { data: { id: string } };
  expect(testBody.data.id).toBe('job_test');

  for (const t of [webhook, ntfy, ifttt])
    expect((await api('DELETE', `/notifications/${t.json.id}`)).status).toBe(204);
});

it('a callback answered 500 once is retried with the same webhook-id, and a REST hook answered 410 is removed', async () => {
  receiver.answer('/callback', [500, 200]);
  receiver.answer('/zap', [410]);
  const secret = (await api('GET', '/account')).json.webhookSecret as string;
  const sub = await api('POST', '/hooks/subscriptions', {
    target_url: `${receiver.origin}/zap`,
    event: 'job.done',
  });
  expect(sub.status).toBe(201);

  const posted = await runtime.client.postJobs({
    url: files.url('notify-callback.bin'),
    callbackUrl: `${receiver.origin}/callback`,
  });
  const [job] = await untilTerminal(runtime.client, [posted.jobs[0]!.id]);

  const calls = await until(
    () => (receiver.to('/callback').length >= 2 ? receiver.to('/callback') : undefined),
    'the retry',
  );
  expect(calls).toHaveLength(2);
  expect(calls[0]!.headers['webhook-id']).toBe(calls[1]!.headers['webhook-id']);
  for (const call of calls)
    expect((verifyDelivery(secret, call) as { data: { id: string } }).data.id).toBe(job!.id);

  await until(() => receiver.to('/zap').length === 1, 'the REST hook delivery');
  const zapped = receiver.to('/zap')[0]!;
  expect(JSON.parse(zapped.body)).toMatchObject({ id: job!.id, status: 'done', fileUrl: job!.fileUrl });
  verifyDelivery(secret, zapped);
  await until(
    async () => (await api('DELETE', `/hooks/subscriptions/${sub.json.id}`)).status === 404,
    'the subscription to be gone',
  );

  const d = (await api('GET', '/deliveries?limit=20')).json.deliveries as {
    via: string;
    status: string;
    attempts: number;
  }[];
  expect(d.find((x) => x.via === 'callback')).toMatchObject({ status: 'delivered', attempts: 2 });
  expect(d.find((x) => x.via === 'subscription')).toMatchObject({ status: 'gone', attempts: 1 });
});

it('no secret appears in any log line of these delivery runs', () => {
  expect(logger.lines.some((l) => l.includes('delivery attempt'))).toBe(true);
  const secrets = [IFTTT_KEY, runtime.token];
  for (const line of logger.lines) for (const s of secrets) expect(line).not.toContain(s);
  expect(logger.lines.join('\n')).not.toMatch(/whsec_/);
});
