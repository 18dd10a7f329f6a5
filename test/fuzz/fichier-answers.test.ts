/**
 * Property-based fuzzing of what the 1fichier client reads (`shared/fichier/client.ts`): a local HTTP
 * server answers random statuses and random JSON (or not-JSON) bodies, and every client method either
 * returns a typed result or throws a `FichierApiError` — never a `TypeError`, a `ZodError` or a raw
 * network error.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PACING } from '../../shared/fichier/backoff.js';
import { createFichierClient, type FichierClient } from '../../shared/fichier/client.js';
import { FichierApiError } from '../../shared/fichier/errors.js';
import { staticKeyProvider } from '../../shared/fichier/key-providers.js';
import { MemoryPacer } from '../../shared/fichier/memory-pacer.js';

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

let next: Answer = { status: 200, body: '{}' };
let server: Server;
let client: FichierClient;
let pacer: MemoryPacer;
const policy = { ...DEFAULT_PACING, minIntervalMs: 0, maxRetries: 0 };

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      res.end(next.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  // No spacing and no retries: every property run is one request and one answer.
  pacer = new MemoryPacer({ policy });
  client = createFichierClient({
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    keyProvider: staticKeyProvider('fuzz-key-0123456789'),
    pacer,
    policy,
  });
});

afterAll(async () => {
  await client?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

/** Values 1fichier-like answers are made of: the right field names with any JSON values. */
const fieldValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('OK', 'KO', 'ok', '1970-01-01 00:00:00', '2026-11-27 10:00:00', '12', '', null, true),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const FIELDS = [
  'status',
  'message',
  'id',
  'date',
  'urls',
  'headers',
  'data',
  'request_date',
  'execution_date',
  'links',
  'result',
  'url',
  'filename',
  'size',
  'folder_id',
  'name',
  'sub_folders',
  'items',
  'email',
  'offer',
];
const resultEntry = fc.record(
  { status: fieldValue, url: fieldValue, download_link: fieldValue, message: fieldValue },
  { requiredKeys: [] },
);
const shapedBody = fc
  .dictionary(fc.constantFrom(...FIELDS), fc.oneof(fieldValue, fc.array(resultEntry, { maxLength: 3 })), {
    maxKeys: 8,
  })
  .map((o) => JSON.stringify(o));
const body = fc.oneof(
  shapedBody,
  fc.json({ maxDepth: 3 }),
  fc.constantFrom(
    '',
    'not json',
    '{"status":"KO"}',
    '{"status":"KO","message":"Flood detected: IP Locked #412"}',
    '[]',
    'null',
  ),
  fc.string({ maxLength: 50 }),
);
const status = fc.oneof(
  fc.constantFrom(200, 200, 200, 201, 204, 400, 401, 403, 404, 410, 429, 500, 502, 503, 509),
  fc.integer({ min: 200, max: 599 }),
);

const CALLS: Record<string, (c: FichierClient) => Promise<unknown>> = {
  remoteRequest: (c) => c.remoteRequest({ urls: ['https://e.co/a'] }),
  remoteList: (c) => c.remoteList(),
  remoteInfo: (c) => c.remoteInfo(1),
  folderList: (c) => c.folderList(0),
  folderMkdir: (c) => c.folderMkdir('x', 0),
  fileInfo: (c) => c.fileInfo('https://1fichier.com/?abcde'),
  downloadToken: (c) => c.downloadToken('https://1fichier.com/?abcde'),
  userInfo: (c) => c.userInfo(),
  resolveFolder: (c) => c.resolveFolder('A'),
};

describe('1fichier client answers (fuzzed)', () => {
  // Found by this fuzzer (fixed): an OK answer with a null, empty, boolean, negative or fractional id was
  // returned as remote id 0/1/-3/1.5, so the worker marked the jobs `submitted` under a remote id no
  // remote/ls.cgi would ever list (stuck for 6 h) instead of reconciling them.
  it.each([
    '{"status":"OK","id":null}',
    '{"status":"OK","id":0}',
    '{"status":"OK","id":""}',
    '{"status":"OK","id":[]}',
    '{"status":"OK","id":true}',
    '{"status":"OK","id":-3}',
    '{"status":"OK","id":1.5}',
  ])(
    'remoteRequest treats an OK answer whose id is not a remote id as maybe submitted: %s',
    async (answer) => {
      next = { status: 200, body: answer };
      await pacer.reset(await client.keyId());
      const outcome = await client.remoteRequest({ urls: ['https://e.co/a'] }).then(
        (r) => ({ id: r.id }),
        (err: unknown) => err,
      );
      expect(outcome).toBeInstanceOf(FichierApiError);
      expect((outcome as FichierApiError).maybeSubmitted).toBe(true);
    },
  );

  it.each(Object.keys(CALLS))('%s returns a typed result or throws FichierApiError', async (name) => {
    const call = CALLS[name] as (c: FichierClient) => Promise<unknown>;
    await fc.assert(
      fc.asyncProperty(status, body, async (s, b) => {
        next = { status: s, body: s === 204 ? '' : b };
        client.clearCaches();
        await pacer.reset(await client.keyId());
        let result: unknown;
        try {
          result = await call(client);
        } catch (err) {
          if (!(err instanceof FichierApiError)) {
            throw new Error(
              `${name} threw ${(err as Error)?.name}: ${(err as Error)?.message} on HTTP ${s} ${b.slice(0, 200)}`,
            );
          }
          return;
        }
        if (name === 'remoteRequest') expect(Number.isSafeInteger((result as { id: unknown }).id)).toBe(true);
        if (name === 'remoteList') expect(Array.isArray(result)).toBe(true);
        if (name === 'remoteInfo')
          expect(typeof (result as { execution_date: unknown }).execution_date).toBe('string');
        if (name === 'folderList')
          expect(Array.isArray((result as { sub_folders: unknown }).sub_folders)).toBe(true);
        if (name === 'resolveFolder') expect(Number.isFinite(result)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

describe('flood answers with a Retry-After header', () => {
  // Found by this fuzzer (fixed): the pause was max(growing pause, Retry-After) with no cap, so one 403
  // "Flood detected" carrying `Retry-After: 31536000` paused every call of the key for a year (and 400
  // digits parse to Infinity, which DynamoDB cannot store). The pause never exceeds `floodPauseMaxMs`.
  it.each(['31536000', '9'.repeat(400)])(
    'never pause the key longer than floodPauseMaxMs: Retry-After %s',
    async (retryAfter) => {
      next = {
        status: 403,
        body: '{"status":"KO","message":"Flood detected: IP Locked #412"}',
        headers: { 'retry-after': retryAfter.slice(0, 400) },
      };
      const keyId = await client.keyId();
      await pacer.reset(keyId);
      const err = await client.remoteList().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FichierApiError);
      const pausedFor = (await pacer.state(keyId)).pausedUntil - Date.now();
      expect(pausedFor).toBeLessThanOrEqual(policy.floodPauseMaxMs);
    },
  );

  it('pause the key for the growing flood pause when Retry-After is short', async () => {
    next = {
      status: 403,
      body: '{"status":"KO","message":"Flood detected: IP Locked #412"}',
      headers: { 'retry-after': '5' },
    };
    const keyId = await client.keyId();
    await pacer.reset(keyId);
    await client.remoteList().catch(() => undefined);
    const pausedFor = (await pacer.state(keyId)).pausedUntil - Date.now();
    expect(pausedFor).toBeGreaterThan(policy.floodPauseMs - 1_000);
    expect(pausedFor).toBeLessThanOrEqual(policy.floodPauseMaxMs);
    await pacer.reset(keyId);
  });
});
