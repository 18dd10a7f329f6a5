/**
 * Property-based fuzzing of the job listing's query parsers over real HTTP (a local runtime): any
 * `status`, `limit` and `cursor` — including base64url cursors built from the key names the store uses —
 * gets a 200 listing or a 400 JSON error, never a 5xx.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RuntimeHandle, startRuntime } from '../../infra/local/runtime.js';
import { type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import { removeDir, tempDir, testLogger } from '../support/runtime.js';

let rt: RuntimeHandle;
let sandbox: SandboxHandle;
let dataDir: string;
const token = `fuzz-${randomBytes(16).toString('hex')}`;

beforeAll(async () => {
  dataDir = tempDir('relay-fuzz-query-');
  sandbox = await startSandbox({ port: 0, rate: 1000 });
  rt = await startRuntime({
    port: 0,
    dataDir,
    token,
    sandbox,
    pollIntervalMs: 60_000,
    receiveWaitSeconds: 1,
    logger: testLogger(),
    // Hundreds of fuzzed requests with one token: the per-token limit would answer 429.
    config: { tokenRatePerMin: 100_000 },
  });
  // A few jobs, so real cursors exist and pages are not empty.
  const r = await fetch(`${rt.baseUrl}/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      urls: Array.from({ length: 5 }, (_, i) => `https://files.example.com/q${i}.bin`),
    }),
  });
  expect(r.status).toBe(202);
});

afterAll(async () => {
  await rt?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

const keyName = fc.constantFrom('pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'userId', 'extra');
const keyValue = fc.oneof(
  fc.constantFrom('USER#local', 'STATUS#pending', 'JOB#x', 'JOB', '', 'REMOTE#open'),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.constant(null),
);
const cursor = fc.oneof(
  fc
    .dictionary(keyName, keyValue, { maxKeys: 6 })
    .map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')),
  fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
  fc.string({ maxLength: 40 }),
);
const query = fc.record(
  {
    status: fc.oneof(
      fc.constantFrom('queued', 'submitting', 'submitted', 'done', 'failed', 'DONE', ''),
      fc.string({ maxLength: 8 }),
    ),
    limit: fc.oneof(
      fc.integer({ min: -5, max: 200 }).map(String),
      fc.constantFrom('1e2', '10.5', ' 7', '0x10', ''),
      fc.string({ maxLength: 6 }),
    ),
    cursor,
  },
  { requiredKeys: [] },
);

describe('GET /jobs query parsing (fuzzed over HTTP)', () => {
  it('answers 200 with a listing or 400 with a JSON error, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const params = new URLSearchParams(
          Object.entries(q).filter(([, v]) => v !== undefined) as [string, string][],
        );
        const res = await fetch(`${rt.baseUrl}/jobs?${params}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = (await res.json()) as { jobs?: unknown[]; error?: { code?: string } };
        if (res.status === 200) expect(Array.isArray(body.jobs)).toBe(true);
        else {
          expect(res.status, `${params} → ${JSON.stringify(body)}`).toBe(400);
          expect(typeof body.error?.code).toBe('string');
        }
      }),
      { numRuns: 300 },
    );
  });
});
