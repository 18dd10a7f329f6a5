/**
 * The sandbox's fault injection and counters, in-process (handle) and over HTTP (`/_sandbox/*`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import {
  callApi,
  koSchema,
  remoteRequestSchema,
  type SourceServer,
  startSourceServer,
  waitFor,
} from '../support/sandbox-helpers.js';

let sandbox: SandboxHandle;
let source: SourceServer;

beforeAll(async () => {
  source = await startSourceServer();
  sandbox = await startSandbox({ port: 0, rate: 10_000 });
});

afterEach(() => {
  sandbox.resetFaults();
  sandbox.resetStats();
});

afterAll(async () => {
  await sandbox?.close();
  await source?.close();
});

const api = (endpoint: string, body: unknown = {}) =>
  callApi(sandbox.baseUrl, endpoint, body, sandbox.keys.premium);

async function control(
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${sandbox.origin}/_sandbox/${route}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

describe('fault injection', () => {
  it('answers 500/502/503 with a KO body under errorRatio 1', async () => {
    sandbox.setFaults({ errorRatio: 1 });
    for (let i = 0; i < 5; i++) {
      const res = await api('remote/ls.cgi');
      expect([500, 502, 503]).toContain(res.status);
      koSchema.parse(res.json);
    }
    expect(sandbox.stats().faultsInjected).toBe(5);
  });

  it('answers the flood 403 to the next forceFlood requests, then normally again', async () => {
    // floodLockMs 0: the forced floods lock for no time, so the third request shows the count ran out.
    sandbox.setFaults({ forceFlood: 2, floodLockMs: 0 });
    const flood = { status: 403, json: { status: 'KO', message: 'Flood detected: IP Locked #412' } };
    expect(await api('remote/ls.cgi')).toEqual(flood);
    expect(await api('remote/ls.cgi')).toEqual(flood);
    expect((await api('remote/ls.cgi')).status).toBe(200);
    expect(sandbox.stats()).toMatchObject({
      floodLocks: 2,
      floodAnswers: 2,
      faultsInjected: 2,
      faultsByKind: { flood: 2 },
    });
  });

  it('resets the socket without an answer under resetRatio 1', async () => {
    sandbox.setFaults({ resetRatio: 1 });
    await expect(api('remote/ls.cgi')).rejects.toMatchObject({ cause: { code: 'ECONNRESET' } });
    expect(sandbox.stats().faultsInjected).toBe(1);
  });

  it('never answers under timeoutRatio 1 and closes the socket after timeoutHoldMs', async () => {
    sandbox.setFaults({ timeoutRatio: 1, timeoutHoldMs: 300 });
    await expect(api('remote/ls.cgi')).rejects.toMatchObject({ cause: { code: 'UND_ERR_SOCKET' } });
  });

  it('lets a client give up on a held request under timeoutRatio 1', async () => {
    sandbox.setFaults({ timeoutRatio: 1 });
    const call = callApi(sandbox.baseUrl, 'remote/ls.cgi', {}, sandbox.keys.premium, {
      signal: AbortSignal.timeout(300),
    });
    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('delays the affected paths by latencyMs: a later unaffected request answers first', async () => {
    sandbox.setFaults({ latencyMs: 800, paths: ['remote/ls.cgi'] });
    const order: string[] = [];
    const slow = api('remote/ls.cgi').then((r) => order.push(`ls ${r.status}`));
    await new Promise((r) => setTimeout(r, 50));
    await api('folder/ls.cgi').then((r) => order.push(`folder ${r.status}`));
    await slow;
    expect(order).toEqual(['folder 200', 'ls 200']);
    expect(sandbox.stats().faultsInjected).toBe(0);
  });

  it('limits the faults to the listed paths', async () => {
    sandbox.setFaults({ errorRatio: 1, paths: ['/v1/remote/ls.cgi'] });
    expect((await api('remote/ls.cgi')).status).toBeGreaterThanOrEqual(500);
    expect((await api('folder/ls.cgi')).status).toBe(200);
  });

  it('merges faults set over HTTP, shows them, and resets them with {} or DELETE', async () => {
    expect(await control('POST', 'faults', { errorRatio: 0.5 })).toEqual({
      status: 200,
      json: { errorRatio: 0.5 },
    });
    expect(await control('POST', 'faults', { latencyMs: 10 })).toEqual({
      status: 200,
      json: { errorRatio: 0.5, latencyMs: 10 },
    });
    expect((await control('GET', 'faults')).json).toEqual({ errorRatio: 0.5, latencyMs: 10 });
    expect((await control('POST', 'faults', {})).json).toEqual({});

    await control('POST', 'faults', { errorRatio: 1 });
    expect((await api('remote/ls.cgi')).status).toBeGreaterThanOrEqual(500);
    expect((await control('DELETE', 'faults')).json).toEqual({});
    expect((await api('remote/ls.cgi')).status).toBe(200);
  });

  it('refuses invalid faults with a 400 KO and keeps the current ones', async () => {
    sandbox.setFaults({ latencyMs: 5 });
    for (const body of [{ errorRatio: 2 }, { typo: 1 }, { paths: 'remote/ls.cgi' }]) {
      const res = await control('POST', 'faults', body);
      expect(res.status).toBe(400);
      koSchema.parse(res.json);
    }
    expect(() => sandbox.setFaults({ resetRatio: -1 })).toThrow();
    expect((await control('GET', 'faults')).json).toEqual({ latencyMs: 5 });
  });
});

describe('stats', () => {
  it('counts requests per endpoint, submissions per URL and remote requests, over HTTP and in-process', async () => {
    const a = `${source.origin}/file.bin`;
    const b = `${source.origin}/missing`;
    remoteRequestSchema.parse((await api('remote/request.cgi', { urls: [a, b] })).json);
    remoteRequestSchema.parse((await api('remote/request.cgi', { urls: [a] })).json);
    await api('remote/ls.cgi');
    await api('folder/ls.cgi');
    await callApi(sandbox.baseUrl, 'folder/ls.cgi', {}, undefined);

    const expected = {
      requests: { 'remote/request.cgi': 2, 'remote/ls.cgi': 1, 'folder/ls.cgi': 2 },
      submissions: { [a]: 2, [b]: 1 },
      floodLocks: 0,
      floodAnswers: 0,
      remoteRequests: 2,
      faultsInjected: 0,
      faultsByKind: {},
      htmlAfterCreate: 0,
    };
    // The timing fields (for the bench) apart: the five requests, each timed, first to last.
    const { executedAt: _e, firstRequestAt, lastRequestAt, requestTimes, ...counters } = sandbox.stats();
    expect(counters).toEqual(expected);
    expect(requestTimes).toHaveLength(5);
    expect([requestTimes[0], requestTimes[4]]).toEqual([firstRequestAt, lastRequestAt]);
    const overHttp = await control('GET', 'stats');
    expect(overHttp.status).toBe(200);
    expect(overHttp.json).toMatchObject(expected);
  });

  it('zeroes the counters with POST /_sandbox/reset-stats', async () => {
    await api('remote/ls.cgi');
    expect((await control('POST', 'reset-stats')).status).toBe(200);
    expect(sandbox.stats()).toEqual({
      requests: {},
      submissions: {},
      floodLocks: 0,
      floodAnswers: 0,
      remoteRequests: 0,
      faultsInjected: 0,
      faultsByKind: {},
      htmlAfterCreate: 0,
      executedAt: {},
      requestTimes: [],
    });
  });

  it('does not count submissions refused before acceptance (free key, bad body)', async () => {
    const free = await startSandbox({
      port: 0,
      keys: [
        { key: 'p'.repeat(32), tier: 'premium' },
        { key: 'f'.repeat(32), tier: 'free' },
      ],
    });
    try {
      await callApi(free.baseUrl, 'remote/request.cgi', { urls: ['http://127.0.0.1:1/x'] }, 'f'.repeat(32));
      await callApi(free.baseUrl, 'remote/request.cgi', { urls: 'nope' }, 'p'.repeat(32));
      expect(free.stats()).toMatchObject({
        requests: { 'remote/request.cgi': 2 },
        submissions: {},
        remoteRequests: 0,
      });
    } finally {
      await free.close();
    }
  });

  it('answers 404 to unknown /_sandbox routes and 405 to wrong methods', async () => {
    expect((await control('GET', 'nope')).status).toBe(404);
    expect((await control('POST', 'stats')).status).toBe(405);
  });

  it('keeps serving after the socket faults end', async () => {
    sandbox.setFaults({ resetRatio: 1, paths: ['remote/ls.cgi'] });
    await expect(api('remote/ls.cgi')).rejects.toThrow();
    sandbox.resetFaults();
    const ok = await waitFor(
      async () => ((await api('remote/ls.cgi')).status === 200 ? true : undefined),
      'service',
    );
    expect(ok).toBe(true);
  });
});
