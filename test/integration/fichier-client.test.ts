import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PacingPolicy } from '../../shared/fichier/backoff.js';
import {
  COLD_CONNECTION_MS,
  createFichierClient,
  type FichierClientOptions,
} from '../../shared/fichier/client.js';
import { FichierApiError, FichierPacedError } from '../../shared/fichier/errors.js';
import { staticKeyProvider } from '../../shared/fichier/key-providers.js';
import { keyIdOf, MemoryPacer } from '../../shared/fichier/memory-pacer.js';
import type { SlotDecision, TakeOptions } from '../../shared/fichier/pacer.js';
import type { KeyProvider } from '../../shared/fichier/types.js';

/** A scripted fake 1fichier on loopback: default answers per path, one-shot answers queued per test. */
interface Answer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Drop the connection after reading the request, without answering. */
  destroy?: boolean;
  /** A body sent as it is (HTML, plain text), instead of `body` as JSON. */
  raw?: string;
}
interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  at: number;
}

const KEY = 'premium-key-0123456789abcdefghij';
const fast: PacingPolicy = {
  minIntervalMs: 0,
  floodPauseMs: 150,
  floodPauseMaxMs: 1000,
  ipLockPauseMs: 3_600_000,
  floodGrowth: 2,
  transientBaseMs: 20,
  transientMaxMs: 2000,
  maxRetries: 3,
};

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let queued = new Map<string, Answer[]>();
const defaults = new Map<string, (body: Record<string, unknown>) => Answer>();

function queue(path: string, ...answers: Answer[]): void {
  queued.set(path, [...(queued.get(path) ?? []), ...answers]);
}
function calls(path: string): Seen[] {
  return seen.filter((s) => s.path === path);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').replace(/^\/v1\//, '');
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      seen.push({ path, headers: req.headers, body, at: performance.now() });
      const answer = queued.get(path)?.shift() ?? defaults.get(path)?.(body) ?? { status: 404, body: {} };
      if (answer.destroy) {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.raw ?? JSON.stringify(answer.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let folders: { id: number; name: string; parent: number }[];
beforeEach(() => {
  seen = [];
  queued = new Map();
  folders = [{ id: 10, name: 'Feeds', parent: 0 }];
  defaults.set('remote/request.cgi', (b) => ({
    body: { status: 'OK', id: '4242', date: '2026-11-27 15:00:00', urls: b.urls, headers: b.headers ?? {} },
  }));
  defaults.set('remote/ls.cgi', () => ({
    body: {
      status: 'OK',
      data: [
        { id: '4242', request_date: '2026-11-27 15:00:00', execution_date: '1970-01-01 00:00:00' },
        { id: 7, request_date: '2026-11-27 14:00:00', execution_date: '2026-11-27 14:01:00' },
      ],
    },
  }));
  defaults.set('remote/info.cgi', (b) => ({
    body: {
      id: b.id,
      request_date: '2026-11-27 14:00:00',
      execution_date: '2026-11-27 14:01:00',
      links: ['http://src.example/a.bin'],
      result: [
        { status: 'OK', url: 'http://src.example/a.bin', download_link: 'https://1fichier.com/?abcde12345' },
      ],
    },
  }));
  defaults.set('folder/ls.cgi', (b) => {
    const id = Number(b.folder_id ?? 0);
    return {
      body: {
        folder_id: id,
        name: id === 0 ? 'Root' : (folders.find((f) => f.id === id)?.name ?? '?'),
        sub_folders: folders
          .filter((f) => f.parent === id)
          .map((f) => ({ id: String(f.id), name: f.name, create_date: '2026-01-01 00:00:00' })),
      },
    };
  });
  defaults.set('folder/mkdir.cgi', (b) => {
    const id = 100 + folders.length;
    folders.push({ id, name: String(b.name), parent: Number(b.folder_id ?? 0) });
    return { body: { status: 'OK', folder_id: id, name: b.name } };
  });
  defaults.set('file/info.cgi', (b) => ({
    body: { url: b.url, filename: 'a.bin', size: '1234', date: '2026-11-27 14:01:00', folder_id: '10' },
  }));
  defaults.set('download/get_token.cgi', () => ({
    body: { status: 'OK', url: 'https://a-1.1fichier.com/p123456', message: '' },
  }));
  defaults.set('user/info.cgi', () => ({
    body: {
      status: 'OK',
      email: 'me@example.com',
      offer: '1',
      available_storage: '1000',
      upload_forbidden: 0,
    },
  }));
});

const clients: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

function client(extra: Partial<FichierClientOptions> = {}) {
  const c = createFichierClient({
    keyProvider: staticKeyProvider(KEY),
    baseUrl,
    policy: fast,
    pacer: new MemoryPacer({ policy: fast }),
    random: () => 1,
    timeoutMs: 10_000,
    ...extra,
  });
  clients.push(c);
  return c;
}

async function failure(p: Promise<unknown>): Promise<FichierApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FichierApiError);
    return err as FichierApiError;
  }
  throw new Error('expected the call to fail');
}

describe('request shape', () => {
  it('POSTs JSON with the Bearer key to <base>/<family>/<verb>.cgi', async () => {
    await client().remoteList();
    const [call] = calls('remote/ls.cgi');
    expect(call?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(call?.headers['content-type']).toBe('application/json');
    expect(call?.body).toEqual({});
  });
});

describe('endpoints, happy path', () => {
  it('remoteRequest sends urls only for the root and parses a string id', async () => {
    const r = await client().remoteRequest({ urls: ['http://src.example/a.bin'], folder_id: 0, headers: {} });
    expect(calls('remote/request.cgi')[0]?.body).toEqual({ urls: ['http://src.example/a.bin'] });
    expect(r).toMatchObject({ status: 'OK', id: 4242 });
  });

  it('remoteRequest sends several urls, folder_id > 0 and headers', async () => {
    const body = {
      urls: ['http://a.example/1', 'http://a.example/2'],
      folder_id: 10,
      headers: { Cookie: 'x=1' },
    };
    const r = await client().remoteRequest(body);
    expect(calls('remote/request.cgi')[0]?.body).toEqual(body);
    expect(r.urls).toEqual(body.urls);
  });

  it('remoteList returns data with numeric ids', async () => {
    const list = await client().remoteList();
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({ id: 4242, execution_date: '1970-01-01 00:00:00' });
  });

  it('remoteInfo sends {id} and returns per-URL results', async () => {
    const info = await client().remoteInfo(7);
    expect(calls('remote/info.cgi')[0]?.body).toEqual({ id: 7 });
    expect(info.result?.[0]).toMatchObject({
      status: 'OK',
      download_link: 'https://1fichier.com/?abcde12345',
    });
  });

  it('folderList lists the root with {} and a sub-folder with folder_id', async () => {
    const c = client();
    const root = await c.folderList();
    const sub = await c.folderList(10);
    expect(calls('folder/ls.cgi').map((s) => s.body)).toEqual([{}, { folder_id: 10 }]);
    expect(root.sub_folders).toEqual([expect.objectContaining({ id: 10, name: 'Feeds' })]);
    expect(sub.folder_id).toBe(10);
  });

  it('folderMkdir sends name and parent folder_id', async () => {
    const r = await client().folderMkdir('Music', 10);
    expect(calls('folder/mkdir.cgi')[0]?.body).toEqual({ name: 'Music', folder_id: 10 });
    expect(r.folder_id).toBeGreaterThan(0);
  });

  it('folderMkdir refuses names over 250 characters without calling 1fichier', async () => {
    await expect(client().folderMkdir('x'.repeat(251))).rejects.toThrow(/250/);
    expect(calls('folder/mkdir.cgi')).toHaveLength(0);
  });

  it('fileInfo sends {url} and parses size leniently', async () => {
    const info = await client().fileInfo('https://1fichier.com/?abcde12345');
    expect(calls('file/info.cgi')[0]?.body).toEqual({ url: 'https://1fichier.com/?abcde12345' });
    expect(info).toMatchObject({ filename: 'a.bin', size: 1234, folder_id: 10 });
  });

  it('downloadToken sends {url} and returns the one-shot URL', async () => {
    const t = await client().downloadToken('https://1fichier.com/?abcde12345');
    expect(calls('download/get_token.cgi')[0]?.body).toEqual({ url: 'https://1fichier.com/?abcde12345' });
    expect(t.url).toBe('https://a-1.1fichier.com/p123456');
  });

  it('userInfo parses offer leniently and is cached: 2 calls → 1 request', async () => {
    const c = client();
    const a = await c.userInfo();
    const b = await c.userInfo();
    expect(a.offer).toBe(1);
    expect(b).toEqual(a);
    expect(calls('user/info.cgi')).toHaveLength(1);
  });

  it('userInfo is read again after 5 minutes (fake clock)', async () => {
    let now = 1_000_000;
    const c = client({ clock: { now: () => now, sleep: async () => {} } });
    await c.userInfo();
    now += 5 * 60_000 - 1;
    await c.userInfo();
    expect(calls('user/info.cgi')).toHaveLength(1);
    now += 1;
    await c.userInfo();
    expect(calls('user/info.cgi')).toHaveLength(2);
  });
});

describe('cold calls', () => {
  /** A MemoryPacer that records the options of every take. */
  class RecordingPacer extends MemoryPacer {
    readonly takes: TakeOptions[] = [];
    override take(keyId: string, opts: TakeOptions = {}): Promise<SlotDecision> {
      this.takes.push(opts);
      return super.take(keyId, opts);
    }
  }

  it('takes its first call, and its first after the connection went idle, as cold; the others warm', async () => {
    let now = 1_000_000;
    const pacer = new RecordingPacer({ policy: fast });
    const c = client({ pacer, clock: { now: () => now, sleep: async () => {} } });
    await c.remoteList();
    await c.remoteInfo(7);
    now += COLD_CONNECTION_MS;
    await c.remoteInfo(7);
    now += COLD_CONNECTION_MS + 1;
    await c.remoteList();
    expect(pacer.takes.map((t) => t.coldCall === true)).toEqual([true, false, false, true]);
    expect(calls('remote/ls.cgi')).toHaveLength(2);
  });

  it('takes only the first of concurrent calls as cold: the others are taken while it is under way', async () => {
    const pacer = new RecordingPacer({ policy: fast });
    const c = client({ pacer });
    await Promise.all([c.remoteList(), c.remoteInfo(7), c.remoteInfo(8)]);
    expect(pacer.takes.map((t) => t.coldCall === true)).toEqual([true, false, false]);
  });

  it('takes the call after one that got no answer as cold: its connection is gone', async () => {
    const pacer = new RecordingPacer({ policy: fast });
    const c = client({ pacer, policy: { ...fast, maxRetries: 1 } });
    await c.remoteList();
    queue('remote/ls.cgi', { destroy: true });
    await c.remoteList();
    // The first call warmed the connection; the second call's first attempt was dropped, so its retry,
    // a moment later, opens a new one.
    expect(pacer.takes.map((t) => t.coldCall === true)).toEqual([true, false, true]);
  });
});

describe('resolveFolder', () => {
  it('finds existing parts, creates missing ones once, and caches the path', async () => {
    const c = client();
    const [first, concurrent] = await Promise.all([
      c.resolveFolder('Feeds/Podcasts'),
      c.resolveFolder('/Feeds/Podcasts/'),
    ]);
    expect(first).toBe(concurrent);
    expect(folders.find((f) => f.id === first)).toMatchObject({ name: 'Podcasts', parent: 10 });
    expect(calls('folder/mkdir.cgi').map((s) => s.body)).toEqual([{ name: 'Podcasts', folder_id: 10 }]);
    const before = seen.length;
    expect(await c.resolveFolder('Feeds/Podcasts')).toBe(first);
    expect(seen.length).toBe(before);
  });

  it('reuses the cached parent for a sibling path', async () => {
    const c = client();
    await c.resolveFolder('Feeds/Podcasts');
    seen = [];
    await c.resolveFolder('Feeds/Videos');
    expect(calls('folder/ls.cgi').map((s) => s.body)).toEqual([{ folder_id: 10 }]);
    expect(calls('folder/mkdir.cgi').map((s) => s.body)).toEqual([{ name: 'Videos', folder_id: 10 }]);
  });

  it('lists again when mkdir loses a race with another creator', async () => {
    queue('folder/ls.cgi', { body: { folder_id: 0, name: 'Root', sub_folders: [] } });
    queue('folder/mkdir.cgi', {
      status: 403,
      body: { status: 'KO', message: 'A folder with this name already exists in the destination folder' },
    });
    expect(await client().resolveFolder('Feeds')).toBe(10);
    expect(calls('folder/ls.cgi')).toHaveLength(2);
    expect(calls('folder/mkdir.cgi')).toHaveLength(1);
  });

  it('resolves the empty path to the root without a call', async () => {
    expect(await client().resolveFolder('')).toBe(0);
    expect(seen).toHaveLength(0);
  });

  it('rejects a part longer than 250 characters', async () => {
    await expect(client().resolveFolder(`Feeds/${'y'.repeat(251)}`)).rejects.toThrow(/250/);
    expect(calls('folder/mkdir.cgi')).toHaveLength(0);
  });
});

describe('errors are classified and never retried when they cannot succeed', () => {
  it.each([
    ['auth', 401, 'Not authenticated #247'],
    ['auth', 403, 'No such user #93'],
    ['notFound', 404, 'Resource not found #469'],
    ['notPremium', 403, 'Must be a customer (Premium, Access) #200'],
    ['rejected', 403, 'Owner locked #620'],
  ] as const)('%s (%i %s) → exactly 1 request', async (kind, status, message) => {
    queue('file/info.cgi', { status, body: { status: 'KO', message } });
    const err = await failure(client().fileInfo('https://1fichier.com/?gone'));
    expect(err.kind).toBe(kind);
    expect(err.retryable).toBe(false);
    expect(err.httpStatus).toBe(status);
    expect(err.message).toBe(`file/info.cgi failed: ${message}`);
    expect(calls('file/info.cgi')).toHaveLength(1);
  });

  it('classifies a KO answer sent with HTTP 200', async () => {
    queue('download/get_token.cgi', {
      status: 200,
      body: { status: 'KO', message: 'Resource not found #469' },
    });
    const err = await failure(client().downloadToken('https://1fichier.com/?gone'));
    expect(err.kind).toBe('notFound');
    expect(calls('download/get_token.cgi')).toHaveLength(1);
  });

  it('opens the pacer circuit on auth: the next call is refused without a request', async () => {
    const c = client();
    queue('remote/ls.cgi', { status: 401, body: { status: 'KO', message: 'Not authenticated #247' } });
    await failure(c.remoteList());
    const err = await failure(c.remoteList());
    expect(err).toBeInstanceOf(FichierPacedError);
    expect(err).toMatchObject({ kind: 'auth', retryable: false, refusal: 'circuitOpen' });
    expect(calls('remote/ls.cgi')).toHaveLength(1);
  });

  it('refreshes a rotated key once after auth and retries with the new key', async () => {
    let current = 'old-key-aaaaaaaaaaaaaaaaaaaaaaaaa';
    const provider: KeyProvider = {
      get: async () => current,
      refresh: async () => {
        current = 'new-key-bbbbbbbbbbbbbbbbbbbbbbbbb';
        return current;
      },
    };
    queue('remote/ls.cgi', { status: 401, body: { status: 'KO', message: 'Not authenticated #247' } });
    const list = await client({ keyProvider: provider }).remoteList();
    expect(list).toHaveLength(2);
    expect(calls('remote/ls.cgi').map((s) => s.headers.authorization)).toEqual([
      'Bearer old-key-aaaaaaaaaaaaaaaaaaaaaaaaa',
      'Bearer new-key-bbbbbbbbbbbbbbbbbbbbbbbbb',
    ]);
  });
});

describe('retries', () => {
  it('pauses after a flood answer, then succeeds', async () => {
    const pacer = new MemoryPacer({ policy: fast });
    queue('remote/request.cgi', {
      status: 403,
      body: { status: 'KO', message: 'Flood detected: IP Locked #412' },
    });
    const r = await client({ pacer }).remoteRequest({ urls: ['http://src.example/a.bin'] });
    expect(r.id).toBe(4242);
    const [first, second] = calls('remote/request.cgi');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(fast.floodPauseMs - 5);
    expect((await pacer.state(keyIdOf(KEY))).floodCount).toBe(0);
  });

  it('retries a transient 5xx with backoff, then succeeds', async () => {
    queue('remote/ls.cgi', { status: 503, body: {} }, { status: 502, body: 'Bad gateway' });
    const list = await client().remoteList();
    expect(list).toHaveLength(2);
    const at = calls('remote/ls.cgi').map((s) => s.at);
    expect(at).toHaveLength(3);
    // random() = 1: backoff 20 ms then 40 ms
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(20 - 5);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(40 - 5);
  });

  it('never repeats a remote/request.cgi answered 5xx: a gateway may answer after the creation', async () => {
    queue('remote/request.cgi', { status: 502, body: {} });
    const err = await failure(client().remoteRequest({ urls: ['http://src.example/a.bin'] }));
    expect(err.maybeSubmitted).toBe(true);
    expect(calls('remote/request.cgi')).toHaveLength(1);
  });

  it('retries a remote/request.cgi answered 429 after a pause: nothing was created', async () => {
    queue('remote/request.cgi', { status: 429, body: {} });
    const r = await client().remoteRequest({ urls: ['http://src.example/a.bin'] });
    expect(r.id).toBe(4242);
    expect(calls('remote/request.cgi')).toHaveLength(2);
  });

  it('gives up after maxRetries transient answers', async () => {
    queue('remote/ls.cgi', ...Array.from({ length: 5 }, () => ({ status: 503, body: {} })));
    const err = await failure(client().remoteList());
    expect(err.kind).toBe('transient');
    expect(calls('remote/ls.cgi')).toHaveLength(fast.maxRetries + 1);
  });

  it('honours Retry-After over the jittered backoff', async () => {
    queue('remote/ls.cgi', { status: 503, headers: { 'retry-after': '1' }, body: {} });
    await client({ random: () => 0 }).remoteList();
    const [first, second] = calls('remote/ls.cgi');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000 - 5);
  });

  it('retries a read call after the connection drops', async () => {
    queue('remote/ls.cgi', { destroy: true });
    const list = await client().remoteList();
    expect(list).toHaveLength(2);
    expect(calls('remote/ls.cgi')).toHaveLength(2);
  });

  it('does not repeat a submit whose connection dropped after sending: maybeSubmitted', async () => {
    queue('remote/request.cgi', { destroy: true });
    const err = await failure(client().remoteRequest({ urls: ['http://src.example/a.bin'] }));
    expect(err).toMatchObject({ kind: 'transient', maybeSubmitted: true, retryable: false });
    expect(calls('remote/request.cgi')).toHaveLength(1);
  });

  it('retries a submit refused before sending and never flags it maybeSubmitted', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure(
      client({ baseUrl: `http://127.0.0.1:${port}/v1` }).remoteRequest({
        urls: ['http://src.example/a.bin'],
      }),
    );
    expect(err).toMatchObject({ kind: 'transient', maybeSubmitted: false });
    expect(err.message).toMatch(/ECONNREFUSED/);
  });
});

describe('pacing', () => {
  it('never spaces calls below minIntervalMs under 10 concurrent callers', async () => {
    const policy = { ...fast, minIntervalMs: 50 };
    const c = client({ policy, pacer: new MemoryPacer({ policy }) });
    await Promise.all(Array.from({ length: 10 }, () => c.remoteList()));
    const at = calls('remote/ls.cgi').map((s) => s.at);
    expect(at).toHaveLength(10);
    // Measured where the server sees them, so connection jitter on a loaded 2-core machine counts too
    // (Node's fetch opens sockets on demand); the pacer's own grants are checked exactly in
    // memory-pacer.test.ts. The mean spacing must still hold the interval.
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(50 - 15);
    expect((at[at.length - 1]! - at[0]!) / (at.length - 1)).toBeGreaterThanOrEqual(50 - 2);
  });

  it('throws a flood error with retryAfterMs instead of waiting past maxPacerWaitMs', async () => {
    const policy = { ...fast, floodPauseMs: 10_000, floodPauseMaxMs: 60_000 };
    const c = client({ policy, pacer: new MemoryPacer({ policy }), maxPacerWaitMs: 100 });
    queue('remote/request.cgi', {
      status: 403,
      body: { status: 'KO', message: 'Flood detected: IP Locked #374' },
    });
    const err = await failure(c.remoteRequest({ urls: ['http://src.example/a.bin'] }));
    expect(err.kind).toBe('flood');
    expect(err.retryAfterMs).toBeGreaterThan(9000);
    const paced = await failure(c.remoteList());
    expect(paced).toBeInstanceOf(FichierPacedError);
    expect(paced).toMatchObject({ kind: 'flood', refusal: 'paused', retryable: true });
    expect(seen).toHaveLength(1);
  });
});

describe('logging', () => {
  it('never logs the key', async () => {
    const lines: string[] = [];
    const logger = {
      debug: (m: string, f: Record<string, unknown>) => lines.push(m + JSON.stringify(f)),
      warn: (m: string, f: Record<string, unknown>) => lines.push(m + JSON.stringify(f)),
    };
    queue('remote/ls.cgi', { status: 503, body: { status: 'KO', message: `echo Bearer ${KEY}` } });
    await client({ logger }).remoteList();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(KEY);
    expect(lines.join('\n')).toContain(keyIdOf(KEY));
  });
});

describe('rough answers of the real 1fichier', () => {
  const html502 =
    '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';

  it('retries a read call answered by an HTML gateway page', async () => {
    queue('remote/ls.cgi', { status: 502, raw: html502, headers: { 'content-type': 'text/html' } });
    const list = await client().remoteList();
    expect(list.map((e) => e.id)).toEqual([4242, 7]);
    expect(calls('remote/ls.cgi')).toHaveLength(2);
  });

  it('pauses the key for the IP-lock pause on a plain-text "IP Locked" 403', async () => {
    const pacer = new MemoryPacer({ policy: fast });
    queue('remote/ls.cgi', { status: 403, raw: 'IP Locked', headers: { 'content-type': 'text/plain' } });
    const err = await failure(client({ pacer, maxPacerWaitMs: 500 }).remoteList());
    expect(err.kind).toBe('flood');
    const state = await pacer.state(keyIdOf(KEY));
    expect(state.pausedUntil - Date.now()).toBeGreaterThan(fast.ipLockPauseMs - 60_000);
    expect(calls('remote/ls.cgi')).toHaveLength(1);
  });

  it('does not retry an unknown KO on HTTP 200 inside the call', async () => {
    queue('remote/request.cgi', {
      status: 200,
      body: {
        status: 'KO',
        message: '#913 Premium status is only allowed to be used on residential connections',
      },
    });
    const err = await failure(client().remoteRequest({ urls: ['http://src.example/a.bin'] }));
    expect(err.kind).toBe('unknown');
    expect(err.maybeSubmitted).toBe(false);
    expect(calls('remote/request.cgi')).toHaveLength(1);
  });

  it('skips remote/ls.cgi entries without a usable id, logs each once, and keeps the rest', async () => {
    const odd = {
      status: 'OK',
      data: [
        { request_date: '2026-11-27 15:00:00', execution_date: '' },
        { id: null, request_date: '2026-11-27 15:00:00', execution_date: '' },
        { id: '12', request_date: '2026-11-27 15:00:00', execution_date: '2026-11-27 15:00:09' },
      ],
    };
    queue('remote/ls.cgi', { body: odd }, { body: odd });
    const warnings: { message: string; fields: Record<string, unknown> }[] = [];
    const c = client({ logger: { warn: (message, fields) => warnings.push({ message, fields }) } });
    expect((await c.remoteList()).map((e) => e.id)).toEqual([12]);
    expect((await c.remoteList()).map((e) => e.id)).toEqual([12]);
    const skips = warnings.filter((w) => w.message === 'fichier answer entry skipped');
    expect(skips.map((w) => w.fields.at)).toEqual(['data[0]', 'data[1]']);
  });

  it('skips a remote/info.cgi result without a status, with the request id in the log line', async () => {
    queue('remote/info.cgi', {
      body: {
        id: '77',
        request_date: '2026-11-27 14:00:00',
        execution_date: '2026-11-27 14:01:00',
        result: [
          { message: 'odd' },
          { status: 'OK', url: 'http://src.example/a.bin', download_link: 'https://1fichier.com/?x' },
        ],
      },
    });
    const warnings: Record<string, unknown>[] = [];
    const info = await client({ logger: { warn: (_m, fields) => warnings.push(fields) } }).remoteInfo(77);
    expect(info.id).toBe(77);
    expect(info.result?.map((r) => r.download_link)).toEqual(['https://1fichier.com/?x']);
    expect(warnings).toContainEqual(expect.objectContaining({ requestId: 77, at: 'result[0]' }));
  });

  it('reads numbers sent as strings everywhere', async () => {
    queue('folder/mkdir.cgi', { body: { status: 'OK', folder_id: '321', name: 'X' } });
    queue('user/info.cgi', { body: { email: 'a@b', offer: '2', available_storage: '99' } });
    const c = client();
    expect((await c.folderMkdir('X')).folder_id).toBe(321);
    const info = await c.userInfo();
    expect(info.offer).toBe(2);
    expect(info.available_storage).toBe(99);
  });
});
