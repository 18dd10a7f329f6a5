/**
 * The rough edges of the real 1fichier the sandbox reproduces on demand through its faults (HTML error pages,
 * maintenance, bare-text and per-key locks, unknown KOs, numbers as strings, short or odd listings, fixed
 * UTC+1 dates), its real-service defaults (60 s flood locks, user/info.cgi per IP and per key), and the
 * fetcher's total deadline and disk quota. Real HTTP on 127.0.0.1, no mocks.
 * Tests that lock an IP or a key start their own sandbox, so the lock cannot leak into another test.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Agent, fetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveSandboxOptions, SANDBOX_DEFAULTS } from '../../infra/sandbox/config.js';
import { type SandboxHandle, type SandboxOptions, startSandbox } from '../../infra/sandbox/server.js';
import { fichierDate } from '../../infra/sandbox/wire.js';
import {
  agentFrom,
  callApi,
  remoteInfoSchema,
  remoteListSchema,
  remoteRequestSchema,
  type SourceServer,
  startSourceServer,
  waitFor,
} from '../support/sandbox-helpers.js';

const KEY_A = 'rough-key-aaaaaaaaaaaaaaaaaaaaaaaa';
const KEY_B = 'rough-key-bbbbbbbbbbbbbbbbbbbbbbbb';
const KEYS = [
  { key: KEY_A, tier: 'premium' as const },
  { key: KEY_B, tier: 'premium' as const },
];

const NGINX_502 =
  '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>' +
  '<hr><center>nginx</center></body></html>';
const FLOOD = { status: 'KO', message: 'Flood detected: IP Locked #412' };
const USER_LOCKED = { status: 'KO', message: 'Flood detected: User Locked #223' };

/** An answer as it came: status, content type and the body text (not parsed). */
interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
}

async function raw(
  baseUrl: string,
  endpoint: string,
  body: unknown,
  key: string,
  dispatcher?: Agent,
): Promise<RawAnswer> {
  const res = await fetch(`${baseUrl}/${endpoint}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(dispatcher ? { dispatcher } : {}),
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

const opened: Array<SandboxHandle | Agent | { close(): Promise<void> }> = [];
afterAll(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

/** A sandbox of its own (for tests that lock), closed after all tests. */
async function ownSandbox(opts: SandboxOptions = {}): Promise<SandboxHandle> {
  const s = await startSandbox({ port: 0, rate: 10_000, keys: KEYS, ...opts });
  opened.push(s);
  return s;
}

function otherIp(address: string): Agent {
  const agent = agentFrom(address);
  opened.push(agent);
  return agent;
}

let sandbox: SandboxHandle;
let source: SourceServer;

beforeAll(async () => {
  source = await startSourceServer();
  opened.push(source);
  sandbox = await ownSandbox();
});

afterEach(() => {
  sandbox.resetFaults();
  sandbox.resetStats();
});

const api = (endpoint: string, body: unknown = {}, key = KEY_A) =>
  callApi(sandbox.baseUrl, endpoint, body, key);
const rawApi = (endpoint: string, body: unknown = {}, key = KEY_A) =>
  raw(sandbox.baseUrl, endpoint, body, key);

/** `GET` or `POST /_sandbox/faults` over HTTP; returns the status and body. */
async function faultsOverHttp(method: 'GET' | 'POST', patch?: unknown): Promise<unknown> {
  const res = await fetch(`${sandbox.origin}/_sandbox/faults`, {
    method,
    ...(patch === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) }),
  });
  const json: unknown = await res.json();
  return method === 'GET' ? json : { status: res.status, json };
}

async function submit(s: SandboxHandle, urls: string[], key = KEY_A): Promise<number> {
  const res = await callApi(s.baseUrl, 'remote/request.cgi', { urls }, key);
  expect(res.status).toBe(200);
  return remoteRequestSchema.parse(res.json).id;
}

async function executed(s: SandboxHandle, id: number, key = KEY_A) {
  return waitFor(async () => {
    const info = remoteInfoSchema.parse((await callApi(s.baseUrl, 'remote/info.cgi', { id }, key)).json);
    return info.execution_date.startsWith('1970-01-01') ? undefined : info;
  }, `remote request ${id} to execute`);
}

async function listedIds(key = KEY_A): Promise<unknown[]> {
  const res = await api('remote/ls.cgi', {}, key);
  expect(res.status).toBe(200);
  return (res.json as { data: Array<{ id?: unknown }> }).data.map((e) => e.id);
}

/** Every leaf of a JSON value that is a number (path → value). */
function numberLeaves(value: unknown, path = '$'): string[] {
  if (typeof value === 'number') return [`${path}=${value}`];
  if (Array.isArray(value)) return value.flatMap((v, i) => numberLeaves(v, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => numberLeaves(v, `${path}.${k}`));
  }
  return [];
}

describe('HTML error pages', () => {
  it('forceHtmlError: answers the next n requests with nginx 502 text/html, creates nothing, then answers JSON', async () => {
    const before = await listedIds();
    sandbox.setFaults({ forceHtmlError: 2 });
    const url = `${source.origin}/file.bin`;
    for (const endpoint of ['remote/request.cgi', 'remote/ls.cgi']) {
      expect(await rawApi(endpoint, { urls: [url] })).toEqual({
        status: 502,
        contentType: 'text/html',
        text: NGINX_502,
      });
    }
    expect(await listedIds()).toEqual(before);
    expect(sandbox.stats()).toMatchObject({
      remoteRequests: 0,
      submissions: {},
      faultsInjected: 2,
      faultsByKind: { html: 2 },
    });
    expect(sandbox.setFaults({})).toEqual({});
  });

  it('htmlErrorStatus: sends nginx 503 and 504 pages with their own titles', async () => {
    sandbox.setFaults({ forceHtmlError: 1, htmlErrorStatus: 503 });
    const a = await rawApi('remote/ls.cgi');
    expect(a).toMatchObject({ status: 503, contentType: 'text/html' });
    expect(a.text).toContain('<title>503 Service Temporarily Unavailable</title>');
    expect(a.text).toContain('<center>nginx</center>');
    sandbox.setFaults({ forceHtmlError: 1, htmlErrorStatus: 504 });
    const b = await rawApi('remote/ls.cgi');
    expect(b).toMatchObject({ status: 504, contentType: 'text/html' });
    expect(b.text).toContain('<h1>504 Gateway Time-out</h1>');
  });

  it('htmlErrorRatio 1: answers every affected request with the HTML page and creates nothing', async () => {
    const before = await listedIds();
    sandbox.setFaults({ htmlErrorRatio: 1, paths: ['remote/request.cgi'] });
    for (let i = 0; i < 3; i++) {
      const res = await rawApi('remote/request.cgi', { urls: [`${source.origin}/file.bin`] });
      expect(res).toEqual({ status: 502, contentType: 'text/html', text: NGINX_502 });
    }
    expect(await listedIds()).toEqual(before);
    expect(sandbox.stats()).toMatchObject({ remoteRequests: 0, faultsInjected: 3 });
  });

  it('forceHtmlAfterCreate: answers 502 HTML, yet the request is listed, runs, and counts as a submission', async () => {
    const url = `${source.origin}/file.bin`;
    sandbox.setFaults({ forceHtmlAfterCreate: 1 });
    const before = await listedIds();
    expect(await rawApi('remote/request.cgi', { urls: [url] })).toEqual({
      status: 502,
      contentType: 'text/html',
      text: NGINX_502,
    });
    const after = await listedIds();
    expect(after).toHaveLength(before.length + 1);
    const id = after.find((x) => !before.includes(x));
    expect(typeof id).toBe('number');
    const info = await executed(sandbox, id as number);
    expect(info.result).toEqual([expect.objectContaining({ status: 'OK', url })]);
    expect(sandbox.stats()).toMatchObject({
      remoteRequests: 1,
      submissions: { [url]: 1 },
      htmlAfterCreate: 1,
      faultsInjected: 1,
      faultsByKind: { htmlAfterCreate: 1 },
    });
    // Used up: the next request is answered normally.
    remoteRequestSchema.parse((await api('remote/request.cgi', { urls: [url] })).json);
  });

  it('forceHtmlAfterCreate: other endpoints and refused requests do not consume it', async () => {
    sandbox.setFaults({ forceHtmlAfterCreate: 1 });
    expect((await api('remote/ls.cgi')).status).toBe(200);
    expect((await api('folder/ls.cgi')).status).toBe(200);
    expect((await api('remote/request.cgi', { urls: 'not-an-array' })).status).toBe(400);
    expect(await faultsOverHttp('GET')).toEqual({ forceHtmlAfterCreate: 1 });
    expect(sandbox.stats()).toMatchObject({ htmlAfterCreate: 0, faultsInjected: 0 });
    const res = await rawApi('remote/request.cgi', { urls: [`${source.origin}/file.bin`] });
    expect(res.status).toBe(502);
    expect(await faultsOverHttp('GET')).toEqual({ forceHtmlAfterCreate: 0 });
    expect(sandbox.stats().htmlAfterCreate).toBe(1);
  });

  it('forceHtmlAfterCreate: paths leaving remote/request.cgi out disable it', async () => {
    sandbox.setFaults({ forceHtmlAfterCreate: 1, paths: ['remote/ls.cgi'] });
    const res = await api('remote/request.cgi', { urls: [`${source.origin}/file.bin`] });
    expect(res.status).toBe(200);
    expect(sandbox.stats().htmlAfterCreate).toBe(0);
  });
});

describe('maintenance', () => {
  it('answers every affected request 503 with an HTML maintenance page, creates nothing, and keeps forced counters', async () => {
    sandbox.setFaults({ maintenance: true, forceFlood: 1 });
    for (const endpoint of ['remote/request.cgi', 'remote/ls.cgi', 'user/info.cgi']) {
      const res = await rawApi(endpoint, { urls: [`${source.origin}/file.bin`] });
      expect(res).toMatchObject({ status: 503, contentType: 'text/html' });
      expect(res.text).toMatch(/^<html>.*1fichier\.com is in maintenance.*<\/html>$/s);
    }
    expect(sandbox.stats()).toMatchObject({ remoteRequests: 0, faultsByKind: { maintenance: 3 } });
    expect(sandbox.setFaults({ maintenance: false })).toEqual({ maintenance: false, forceFlood: 1 });
    expect(sandbox.setFaults({ floodLockMs: 0 })).toMatchObject({ forceFlood: 1 });
    expect(await api('remote/ls.cgi')).toEqual({ status: 403, json: FLOOD });
    expect((await api('remote/ls.cgi')).status).toBe(200);
  });
});

describe('locks', () => {
  it('forcePlainIpLock: answers 403 text/plain "IP Locked" and locks the IP (any key), not the key', async () => {
    const s = await ownSandbox({ floodLockMs: 60_000 });
    const elsewhere = otherIp('127.0.0.3');
    s.setFaults({ forcePlainIpLock: 1 });
    const plain = { status: 403, contentType: 'text/plain', text: 'IP Locked' };
    expect(await raw(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).toEqual(plain);
    // The lock, not the counter (used up), answers these: same IP, either key.
    expect(await raw(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).toEqual(plain);
    expect(await raw(s.baseUrl, 'remote/ls.cgi', {}, KEY_B)).toEqual(plain);
    // The key itself is free from another IP.
    expect((await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_A, { dispatcher: elsewhere })).status).toBe(
      200,
    );
    expect(s.stats()).toMatchObject({ floodLocks: 1, floodAnswers: 3, faultsByKind: { plainIpLock: 1 } });
  });

  it('forcePlainIpLock: the lock lifts after floodLockMs', async () => {
    const s = await ownSandbox({ floodLockMs: 300 });
    s.setFaults({ forcePlainIpLock: 1 });
    expect((await raw(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).text).toBe('IP Locked');
    expect((await raw(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).text).toBe('IP Locked');
    await waitFor(
      async () => ((await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).status === 200 ? true : undefined),
      'the IP lock to lift',
      5_000,
      100,
    );
  });

  it('forceUserLocked: answers 403 "Flood detected: User Locked #223" and locks the key (any IP), not the IP', async () => {
    const s = await ownSandbox({ floodLockMs: 60_000 });
    const elsewhere = otherIp('127.0.0.4');
    s.setFaults({ forceUserLocked: 1 });
    const first = await raw(s.baseUrl, 'remote/ls.cgi', {}, KEY_A);
    expect(first.status).toBe(403);
    expect(first.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(first.text)).toEqual(USER_LOCKED);
    // The key is locked from any IP ...
    expect(await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_A, { dispatcher: elsewhere })).toEqual({
      status: 403,
      json: USER_LOCKED,
    });
    expect(await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).toEqual({ status: 403, json: USER_LOCKED });
    // ... while the IP still serves another key.
    expect((await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_B)).status).toBe(200);
    expect(s.stats()).toMatchObject({ floodLocks: 1, floodAnswers: 3, faultsByKind: { userLocked: 1 } });
  });

  it('consumes forced counters in order: forceFlood, forceUserLocked, forcePlainIpLock, forceHtmlError, forceUnknownKo', async () => {
    const s = await ownSandbox();
    // floodLockMs 0: the forced locks last no time, so each answer below comes from a counter.
    s.setFaults({
      floodLockMs: 0,
      forceUnknownKo: 1,
      forceHtmlError: 1,
      forcePlainIpLock: 1,
      forceUserLocked: 1,
      forceFlood: 1,
    });
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const a = await raw(s.baseUrl, 'remote/ls.cgi', {}, KEY_A);
      answers.push(`${a.status} ${a.text}`);
    }
    expect(answers).toEqual([
      `403 ${JSON.stringify(FLOOD)}`,
      `403 ${JSON.stringify(USER_LOCKED)}`,
      '403 IP Locked',
      `502 ${NGINX_502}`,
      '200 {"status":"KO","message":"#913 Premium status is only allowed to be used on residential connections"}',
      '200 {"status":"OK","data":[]}',
    ]);
    expect(s.stats().faultsInjected).toBe(5);
  });
});

describe('unknown KO', () => {
  it('forceUnknownKo: answers 200 {"status":"KO","message":"#913 …"} by default and creates nothing', async () => {
    const before = await listedIds();
    sandbox.setFaults({ forceUnknownKo: 1 });
    const res = await rawApi('remote/request.cgi', { urls: [`${source.origin}/file.bin`] });
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(res.text)).toEqual({
      status: 'KO',
      message: '#913 Premium status is only allowed to be used on residential connections',
    });
    expect(await listedIds()).toEqual(before);
    expect(sandbox.stats()).toMatchObject({
      remoteRequests: 0,
      submissions: {},
      faultsByKind: { unknownKo: 1 },
    });
  });

  it('forceUnknownKo: sends unknownKoMessage with unknownKoHttpStatus', async () => {
    sandbox.setFaults({
      forceUnknownKo: 2,
      unknownKoMessage: 'Something new #999',
      unknownKoHttpStatus: 403,
    });
    const ko = { status: 403, json: { status: 'KO', message: 'Something new #999' } };
    expect(await api('remote/ls.cgi')).toEqual(ko);
    expect(await api('folder/ls.cgi')).toEqual(ko);
    expect((await api('remote/ls.cgi')).status).toBe(200);
  });

  it('refuses out-of-range fault values (htmlErrorStatus 500, unknownKoHttpStatus 700, empty message, non-boolean) and accepts lsNewest 0', () => {
    expect(() => sandbox.setFaults({ htmlErrorStatus: 500 as 502 })).toThrow();
    expect(() => sandbox.setFaults({ unknownKoHttpStatus: 700 })).toThrow();
    expect(() => sandbox.setFaults({ unknownKoMessage: '' })).toThrow();
    expect(() => sandbox.setFaults({ maintenance: 1 as unknown as boolean })).toThrow();
    expect(sandbox.setFaults({ lsNewest: 0 })).toEqual({ lsNewest: 0 });
  });
});

describe('the new fault fields over HTTP', () => {
  it('POST /_sandbox/faults accepts every new field, shows them with GET, and refuses a misspelt one with 400', async () => {
    const all = {
      forceHtmlError: 1,
      htmlErrorRatio: 0.5,
      htmlErrorStatus: 504,
      forceHtmlAfterCreate: 1,
      maintenance: false,
      forcePlainIpLock: 1,
      forceUnknownKo: 1,
      unknownKoMessage: 'x #1',
      unknownKoHttpStatus: 403,
      forceUserLocked: 1,
      numbersAsStrings: true,
      lsNewest: 3,
      oddEntries: true,
      datesFixedUtcPlus1: true,
    };
    expect(await faultsOverHttp('POST', all)).toEqual({ status: 200, json: all });
    expect(await faultsOverHttp('GET')).toEqual(all);
    const typo = (await faultsOverHttp('POST', { forceHtmlErrors: 1 })) as { status: number; json: unknown };
    expect(typo.status).toBe(400);
    expect(typo.json).toMatchObject({ status: 'KO', message: expect.stringContaining('forceHtmlErrors') });
    expect(await faultsOverHttp('GET')).toEqual(all);
  });
});

describe('answers bent by the faults', () => {
  it('numbersAsStrings: request, ls, info, folder/ls, mkdir and user/info send every number as a string', async () => {
    const s = await ownSandbox({ userInfoMinIntervalMs: 0, userInfoKeyMinIntervalMs: 0 });
    const call = (endpoint: string, body: unknown = {}) => callApi(s.baseUrl, endpoint, body, KEY_A);
    const mkdirPlain = await call('folder/mkdir.cgi', { name: 'plain' });
    const folderId = (mkdirPlain.json as { folder_id: number }).folder_id;
    expect(typeof folderId).toBe('number');
    const id = await submit(s, [`${source.origin}/file.bin`]);
    await executed(s, id);

    s.setFaults({ numbersAsStrings: true });
    const request = await call('remote/request.cgi', { urls: [`${source.origin}/file.bin`] });
    expect((request.json as { id: unknown }).id).toMatch(/^\d+$/);
    const ls = await call('remote/ls.cgi');
    expect((ls.json as { data: Array<{ id: unknown }> }).data.map((e) => e.id)).toContain(String(id));
    const info = await call('remote/info.cgi', { id });
    expect(info.json).toMatchObject({ id: String(id) });
    const root = await call('folder/ls.cgi', { files: 1 });
    expect(root.json).toMatchObject({
      folder_id: '0',
      sub_folders: [{ id: String(folderId), pass: '0' }],
      items: [expect.objectContaining({ size: String(source.fileBytes.length), folder_id: '0' })],
    });
    const mkdir = await call('folder/mkdir.cgi', { name: 'stringy' });
    expect((mkdir.json as { folder_id: unknown }).folder_id).toMatch(/^\d+$/);
    const user = await call('user/info.cgi');
    expect(user.json).toMatchObject({ offer: '1', '2fa': '0' });
    for (const answer of [request, ls, info, root, mkdir, user]) {
      expect(answer.status).toBe(200);
      expect(numberLeaves(answer.json)).toEqual([]);
    }
    // The sandbox still reads string numbers it sent itself.
    expect((await call('remote/info.cgi', { id: String(id) })).status).toBe(200);
  });

  it('lsNewest: remote/ls.cgi lists only the n highest ids, and none with 0', async () => {
    const s = await ownSandbox();
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await submit(s, [`${source.origin}/file.bin`]));
    s.setFaults({ lsNewest: 2 });
    const list = remoteListSchema.parse((await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).json);
    expect(list.data.map((e) => e.id).sort()).toEqual(ids.slice(-2).sort());
    s.setFaults({ lsNewest: 0 });
    expect((await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).json).toEqual({ status: 'OK', data: [] });
    s.setFaults({});
    expect(
      remoteListSchema.parse((await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).json).data,
    ).toHaveLength(4);
  });

  it('oddEntries: ls adds an entry without id and one with id null; info of an executed request adds a result without status and url', async () => {
    const s = await ownSandbox();
    const done = await submit(s, [`${source.origin}/file.bin`]);
    await executed(s, done);
    const pending = await submit(s, [`${source.origin}/gated.bin`]);
    s.setFaults({ oddEntries: true });

    const ls = (await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).json as { data: object[] };
    expect(ls.data).toHaveLength(4);
    const odd = ls.data.filter((e) => !('id' in e) || (e as { id: unknown }).id === null);
    expect(odd).toHaveLength(2);
    expect(odd.some((e) => !('id' in e))).toBe(true);
    expect(odd.some((e) => 'id' in e && (e as { id: unknown }).id === null)).toBe(true);
    expect(ls.data.map((e) => (e as { id?: unknown }).id)).toEqual(expect.arrayContaining([done, pending]));

    const info = (await callApi(s.baseUrl, 'remote/info.cgi', { id: done }, KEY_A)).json as {
      result: object[];
    };
    expect(info.result).toHaveLength(2);
    const extra = info.result.filter((r) => !('status' in r) && !('url' in r));
    expect(extra).toHaveLength(1);
    // A request still running gets no odd result: a row there would read as "finished".
    const running = remoteInfoSchema.parse(
      (await callApi(s.baseUrl, 'remote/info.cgi', { id: pending }, KEY_A)).json,
    );
    expect(running.result).toEqual([]);
    source.releaseGate();
  });

  it('fichierDate: a July instant is one hour behind Paris at fixed UTC+1, a January one is the same', () => {
    const july = new Date('2026-07-14T10:30:05Z');
    expect(fichierDate(july)).toBe('2026-07-14 12:30:05');
    expect(fichierDate(july, 'utc+1')).toBe('2026-07-14 11:30:05');
    const january = new Date('2026-01-31T23:15:00Z');
    expect(fichierDate(january)).toBe('2026-02-01 00:15:00');
    expect(fichierDate(january, 'utc+1')).toBe('2026-02-01 00:15:00');
  });

  it('datesFixedUtcPlus1: request, ls and info dates are rendered at fixed UTC+1', async () => {
    sandbox.setFaults({ datesFixedUtcPlus1: true });
    const before = Math.floor(Date.now() / 1000) * 1000;
    const sent = remoteRequestSchema.parse(
      (await api('remote/request.cgi', { urls: [`${source.origin}/file.bin`] })).json,
    );
    const info = await executed(sandbox, sent.id);
    const after = Date.now();
    const utcPlus1: string[] = [];
    for (let t = before; t <= after; t += 1000) utcPlus1.push(fichierDate(new Date(t), 'utc+1'));
    expect(utcPlus1).toContain(sent.date);
    expect(utcPlus1).toContain(info.request_date);
    expect(utcPlus1).toContain(info.execution_date);
    const entry = remoteListSchema
      .parse((await api('remote/ls.cgi')).json)
      .data.find((e) => e.id === sent.id);
    expect(utcPlus1).toContain(entry?.request_date);
  });

  it('dateShiftMs: dates are rendered as if the sandbox clock were shifted (here into the repeated DST hour)', async () => {
    const target = Date.parse('2026-10-25T00:20:00Z'); // 02:20 CEST, the first of two 02:20s that night
    sandbox.setFaults({ dateShiftMs: target - Date.now() });
    const sent = remoteRequestSchema.parse(
      (await api('remote/request.cgi', { urls: [`${source.origin}/file.bin`] })).json,
    );
    expect(sent.date).toMatch(/^2026-10-25 02:2\d:\d\d$/);
    const entry = remoteListSchema
      .parse((await api('remote/ls.cgi')).json)
      .data.find((e) => e.id === sent.id);
    expect(entry?.request_date).toMatch(/^2026-10-25 02:2\d:\d\d$/);
  });

  it("htmlErrorStatus 403: a front's own HTML Forbidden page, not 1fichier's JSON", async () => {
    sandbox.setFaults({ forceHtmlError: 1, htmlErrorStatus: 403 });
    const a = await rawApi('remote/ls.cgi');
    expect(a).toMatchObject({ status: 403, contentType: 'text/html' });
    expect(a.text).toContain('<title>403 Forbidden</title>');
  });
});

describe('defaults closer to the real service', () => {
  it('defaults: 60 s flood lock, user/info 60 s per IP and 5 min per key, 30 min fetch deadline, 1 GiB disk quota', () => {
    expect(SANDBOX_DEFAULTS).toMatchObject({
      floodLockMs: 60_000,
      userInfoMinIntervalMs: 60_000,
      userInfoKeyMinIntervalMs: 300_000,
      fetchTotalTimeoutMs: 1_800_000,
      diskQuotaBytes: 1024 ** 3,
    });
    expect(resolveSandboxOptions({})).toMatchObject({
      floodLockMs: 60_000,
      userInfoMinIntervalMs: 60_000,
      userInfoKeyMinIntervalMs: 300_000,
      fetchTotalTimeoutMs: 1_800_000,
      diskQuotaBytes: 1024 ** 3,
    });
  });

  it('locks a flood for 60 s when floodLockMs is not given', async () => {
    const lines: string[] = [];
    const s = await ownSandbox({ log: (line) => lines.push(line) });
    s.setFaults({ forceFlood: 1 });
    expect(await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).toEqual({ status: 403, json: FLOOD });
    expect(lines.filter((l) => /lock/.test(l))).toEqual([expect.stringMatching(/ for 60000 ms$/)]);
    expect(await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_A)).toEqual({ status: 403, json: FLOOD });
  });

  it('user/info.cgi by default: a second call from the same IP is refused even with another key', async () => {
    const s = await ownSandbox();
    expect((await callApi(s.baseUrl, 'user/info.cgi', {}, KEY_A)).status).toBe(200);
    const second = await callApi(s.baseUrl, 'user/info.cgi', {}, KEY_B);
    expect(second).toEqual({ status: 403, json: { status: 'KO', message: 'Flood detected: User Locked' } });
    // Not a lock: other endpoints still answer.
    expect((await callApi(s.baseUrl, 'remote/ls.cgi', {}, KEY_B)).status).toBe(200);
  });

  it('user/info.cgi by default: the same key from another IP is refused (5 min per key), another key there is not', async () => {
    const s = await ownSandbox();
    const elsewhere = otherIp('127.0.0.5');
    const further = otherIp('127.0.0.6');
    expect((await callApi(s.baseUrl, 'user/info.cgi', {}, KEY_A)).status).toBe(200);
    const sameKey = await callApi(s.baseUrl, 'user/info.cgi', {}, KEY_A, { dispatcher: elsewhere });
    expect(sameKey.status).toBe(403);
    const otherKey = await callApi(s.baseUrl, 'user/info.cgi', {}, KEY_B, { dispatcher: further });
    expect(otherKey.status).toBe(200);
  });

  it('user/info.cgi: userInfoKeyMinIntervalMs set low lets the same key in again once it has passed', async () => {
    const s = await ownSandbox({ userInfoMinIntervalMs: 0, userInfoKeyMinIntervalMs: 300 });
    expect((await callApi(s.baseUrl, 'user/info.cgi', {}, KEY_A)).status).toBe(200);
    expect((await callApi(s.baseUrl, 'user/info.cgi', {}, KEY_A)).status).toBe(403);
    await new Promise((r) => setTimeout(r, 350));
    expect((await callApi(s.baseUrl, 'user/info.cgi', {}, KEY_A)).status).toBe(200);
  });
});

/** A source at `/trickle` that sends one byte every 50 ms and never ends (no content-length). */
async function startTrickleServer(): Promise<{ url: string; close(): Promise<void> }> {
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const t = setInterval(() => res.write('x'), 50);
    timers.add(t);
    res.on('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/trickle`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('fetcher limits', () => {
  it('fetchTotalTimeoutMs: a source trickling bytes forever fails KO within the total deadline', async () => {
    const trickle = await startTrickleServer();
    opened.push(trickle);
    // The idle timeout (30 s default) never fires: a byte comes every 50 ms.
    const s = await ownSandbox({ fetchTotalTimeoutMs: 600 });
    const started = Date.now();
    const id = await submit(s, [trickle.url]);
    const info = await executed(s, id);
    const elapsed = Date.now() - started;
    expect(info.result).toEqual([
      {
        status: 'KO',
        url: trickle.url,
        message: 'Timeout while fetching the file: not finished within 600 ms',
      },
    ]);
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('diskQuotaBytes: a fetch that would go past the quota fails KO and stores nothing', async () => {
    // 64 KiB files: the first fits in 100 KiB, the second (with content-length) and the chunked 200 KiB do not.
    const s = await ownSandbox({ diskQuotaBytes: 100 * 1024, maxFileBytes: 1024 * 1024 });
    const url = `${source.origin}/file.bin`;
    const first = await executed(s, await submit(s, [url]));
    expect(first.result).toEqual([expect.objectContaining({ status: 'OK', url })]);
    const quotaKo = 'Disk quota exceeded: the sandbox stores at most 102400 bytes';
    const second = await executed(s, await submit(s, [url]));
    expect(second.result).toEqual([{ status: 'KO', url, message: quotaKo }]);
    const chunked = `${source.origin}/big-chunked`;
    const third = await executed(s, await submit(s, [chunked]));
    expect(third.result).toEqual([{ status: 'KO', url: chunked, message: quotaKo }]);
    const root = (await callApi(s.baseUrl, 'folder/ls.cgi', { files: 1 }, KEY_A)).json as {
      items: unknown[];
    };
    expect(root.items).toHaveLength(1);
  });
});
