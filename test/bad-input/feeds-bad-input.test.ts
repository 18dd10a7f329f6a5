/**
 * Hostile feed requests over real HTTP to the local runtime, without `RELAY_ALLOW_PRIVATE_URLS`: each
 * case of `feed-cases.ts` gets a 4xx JSON error, no feed changes (the caller's whole feed listing is
 * compared before and after), no job is created, and the server stays up. The feeds reader is not
 * scheduled during the test, so nothing is fetched from anywhere.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobChange } from '../../infra/local/job-events.js';
import { type RuntimeHandle, startRuntime } from '../../infra/local/runtime.js';
import { type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import { removeDir, tempDir, testLogger } from '../support/runtime.js';
import type { BadCase } from './cases.js';
import { FEED_BAD_CASES } from './feed-cases.js';

let rt: RuntimeHandle;
let sandbox: SandboxHandle;
let dataDir: string;
let feedId: string;
const token = `bad-feeds-${randomBytes(16).toString('hex')}`;
const badToken = `bad-feeds-${randomBytes(16).toString('hex')}`;
const changes: JobChange[] = [];

beforeAll(async () => {
  dataDir = tempDir('relay-bad-feeds-');
  sandbox = await startSandbox({ port: 0, rate: 1000 });
  rt = await startRuntime({
    port: 0,
    dataDir,
    token,
    sandbox,
    pollIntervalMs: 60_000,
    feedsIntervalMs: 3_600_000,
    firstFeedsDelayMs: 3_600_000,
    receiveWaitSeconds: 1,
    logger: testLogger(),
    config: { tokenRatePerMin: 100_000 },
    onJobChange: (c) => changes.push(c),
  });
  const res = await fetch(`${rt.baseUrl}/feeds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'https://feeds.example/existing.xml', include: ['1080p'] }),
  });
  expect(res.status).toBe(201);
  feedId = ((await res.json()) as { id: string }).id;
});

afterAll(async () => {
  await rt?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

const fill = (text: string) =>
  text.replaceAll('{token}', token).replaceAll('{bad}', badToken).replaceAll('{feed}', feedId);

async function feedsVisible(): Promise<string> {
  const r = await fetch(`${rt.baseUrl}/feeds`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return r.text();
}

describe('bad input to the feed routes', () => {
  it('has at least 25 hostile cases with unique names', () => {
    expect(FEED_BAD_CASES.length).toBeGreaterThanOrEqual(25);
    expect(new Set(FEED_BAD_CASES.map((c) => c.name)).size).toBe(FEED_BAD_CASES.length);
  });

  it.each(FEED_BAD_CASES)('$method $path: $name → $status', async (c: BadCase) => {
    const before = await feedsVisible();
    const jobsBefore = changes.length;

    const headers = Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k, fill(v)]));
    const res = await fetch(`${rt.baseUrl}${fill(c.path)}`, {
      method: c.method,
      headers,
      ...(c.body !== undefined ? { body: c.body } : {}),
    });
    const text = await res.text();

    expect(res.status, text.slice(0, 300)).toBe(c.status);
    expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    expect(typeof body.error?.message).toBe('string');
    if (c.code) expect(body.error?.code).toBe(c.code);
    expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/);
    expect(text).not.toContain(token);
    expect((await fetch(`${rt.baseUrl}/health`)).status).toBe(200);
    expect(await feedsVisible()).toBe(before);
    expect(changes.length).toBe(jobsBefore);
  });
});
