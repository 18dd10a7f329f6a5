/**
 * Fidelity of the 1fichier sandbox to docs/1fichier-api.md: answer shapes, HTTP codes and messages of every
 * endpoint, and remote requests that really fetch their URLs from a local source server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import {
  agentFrom,
  callApi,
  closedPort,
  downloadTokenSchema,
  fileInfoSchema,
  folderListSchema,
  koSchema,
  mkdirSchema,
  remoteInfoSchema,
  remoteListSchema,
  remoteRequestSchema,
  type SourceServer,
  startSourceServer,
  userInfoSchema,
  waitFor,
} from '../support/sandbox-helpers.js';

const PREMIUM = 'premium-key-aaaaaaaaaaaaaaaaaaaaaaa';
const PREMIUM_2 = 'premium-key-bbbbbbbbbbbbbbbbbbbbbbb';
const FREE = 'free-key-ccccccccccccccccccccccccccc';
const MAX_FILE_BYTES = 100 * 1024;

let sandbox: SandboxHandle;
let source: SourceServer;

beforeAll(async () => {
  source = await startSourceServer();
  sandbox = await startSandbox({
    port: 0,
    // A high rate: these tests check answers, not the rate limit (sandbox-flood.test.ts does).
    rate: 10_000,
    maxFileBytes: MAX_FILE_BYTES,
    keys: [
      { key: PREMIUM, tier: 'premium' },
      { key: PREMIUM_2, tier: 'premium' },
      { key: FREE, tier: 'free' },
    ],
  });
});

afterAll(async () => {
  source.releaseGate();
  await sandbox?.close();
  await source?.close();
});

/** `key: null` sends no Authorization header. */
const api = (endpoint: string, body: unknown, key: string | null = PREMIUM) =>
  callApi(sandbox.baseUrl, endpoint, body, key ?? undefined);

/** Submits URLs and returns the remote request id. */
async function submit(urls: string[], extra: Record<string, unknown> = {}, key = PREMIUM): Promise<number> {
  const res = await api('remote/request.cgi', { urls, ...extra }, key);
  expect(res.status).toBe(200);
  return remoteRequestSchema.parse(res.json).id;
}

/** Polls remote/info.cgi until the request has executed. */
async function executed(id: number, key = PREMIUM) {
  return waitFor(async () => {
    const res = await api('remote/info.cgi', { id }, key);
    expect(res.status).toBe(200);
    const info = remoteInfoSchema.parse(res.json);
    return info.execution_date.startsWith('1970-01-01') ? undefined : info;
  }, `remote request ${id} to execute`);
}

describe('authentication and tiers', () => {
  it('answers 401 "Not authenticated #247" without an Authorization header', async () => {
    const res = await api('remote/ls.cgi', {}, null);
    expect(res.status).toBe(401);
    expect(koSchema.parse(res.json).message).toBe('Not authenticated #247');
  });

  it('answers 401 "Not authenticated #247" for an unknown key', async () => {
    const res = await api('remote/ls.cgi', {}, 'not-a-sandbox-key-000000000000000');
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ status: 'KO', message: 'Not authenticated #247' });
  });

  it('answers 403 "Must be a customer (Premium, Access) #200" to a free key on download/get_token.cgi', async () => {
    const res = await api('download/get_token.cgi', { url: `${sandbox.origin}/aaaaaaaaaaaaaaaaaaaa` }, FREE);
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ status: 'KO', message: 'Must be a customer (Premium, Access) #200' });
  });

  it('answers 403 "Must be a customer (Premium, Access) #200" to a free key on remote/request.cgi', async () => {
    const res = await api('remote/request.cgi', { urls: [`${source.origin}/file.bin`] }, FREE);
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ status: 'KO', message: 'Must be a customer (Premium, Access) #200' });
  });

  it('lets a free key call the non-premium endpoints (folder/ls.cgi)', async () => {
    const res = await api('folder/ls.cgi', {}, FREE);
    expect(res.status).toBe(200);
    folderListSchema.parse(res.json);
  });
});

describe('user/info.cgi', () => {
  // user/info.cgi is limited per client IP too: each test calls it from its own loopback address.
  it('answers email and offer 1 for a premium key, then a 403 flood KO to a second call within the interval', async () => {
    const first = await api('user/info.cgi', {}, PREMIUM_2);
    expect(first.status).toBe(200);
    expect(userInfoSchema.parse(first.json).offer).toBe(1);

    const second = await api('user/info.cgi', {}, PREMIUM_2);
    expect(second.status).toBe(403);
    expect(koSchema.parse(second.json).message).toMatch(/^Flood detected/);
  });

  it('answers offer 0 for a free key', async () => {
    const otherIp = agentFrom('127.0.0.2');
    try {
      const res = await callApi(sandbox.baseUrl, 'user/info.cgi', {}, FREE, { dispatcher: otherIp });
      expect(res.status).toBe(200);
      expect(userInfoSchema.parse(res.json).offer).toBe(0);
    } finally {
      await otherIp.close();
    }
  });
});

describe('folders', () => {
  it('lists the root (folder_id 0 or absent) with its documented shape', async () => {
    const absent = folderListSchema.parse((await api('folder/ls.cgi', {})).json);
    const zero = folderListSchema.parse((await api('folder/ls.cgi', { folder_id: 0 })).json);
    expect(absent.folder_id).toBe(0);
    expect(zero).toEqual(absent);
  });

  it('creates folders with folder/mkdir.cgi and lists them back with folder/ls.cgi', async () => {
    const made = await api('folder/mkdir.cgi', { name: 'Roundtrip', folder_id: 0 });
    expect(made.status).toBe(200);
    const parent = mkdirSchema.parse(made.json);
    expect(parent.name).toBe('Roundtrip');
    const child = mkdirSchema.parse(
      (await api('folder/mkdir.cgi', { name: 'Child', folder_id: parent.folder_id })).json,
    );

    const root = folderListSchema.parse((await api('folder/ls.cgi', { folder_id: 0 })).json);
    expect(root.sub_folders).toContainEqual(
      expect.objectContaining({ id: parent.folder_id, name: 'Roundtrip' }),
    );
    const listed = folderListSchema.parse((await api('folder/ls.cgi', { folder_id: parent.folder_id })).json);
    expect(listed).toMatchObject({ folder_id: parent.folder_id, name: 'Roundtrip' });
    expect(listed.sub_folders.map((f) => f.id)).toEqual([child.folder_id]);
  });

  it('accepts a 250-character name and refuses 251 characters or an empty name with a 400 KO', async () => {
    const ok = await api('folder/mkdir.cgi', { name: 'n'.repeat(250), folder_id: 0 });
    expect(ok.status).toBe(200);
    expect(mkdirSchema.parse(ok.json).name).toHaveLength(250);

    for (const name of ['n'.repeat(251), '']) {
      const res = await api('folder/mkdir.cgi', { name, folder_id: 0 });
      expect(res.status).toBe(400);
      expect(koSchema.parse(res.json).message).toMatch(/250/);
    }
  });

  it('refuses a duplicate folder name in the same parent with a KO', async () => {
    expect((await api('folder/mkdir.cgi', { name: 'Twice', folder_id: 0 })).status).toBe(200);
    const again = await api('folder/mkdir.cgi', { name: 'Twice', folder_id: 0 });
    expect(again.status).toBe(403);
    expect(koSchema.parse(again.json).message).toMatch(/already exists/);
  });

  it('answers 404 KO for an unknown folder_id in folder/ls.cgi and folder/mkdir.cgi', async () => {
    for (const [endpoint, body] of [
      ['folder/ls.cgi', { folder_id: 987654 }],
      ['folder/mkdir.cgi', { name: 'x', folder_id: 987654 }],
    ] as const) {
      const res = await api(endpoint, body);
      expect(res.status).toBe(404);
      expect(koSchema.parse(res.json).message).toMatch(/Resource not found/);
    }
  });

  it('keeps each key’s folders apart', async () => {
    const made = mkdirSchema.parse((await api('folder/mkdir.cgi', { name: 'Private', folder_id: 0 })).json);
    const other = await api('folder/ls.cgi', { folder_id: made.folder_id }, PREMIUM_2);
    expect(other.status).toBe(404);
  });
});

describe('files', () => {
  it('answers 404 "Resource not found #469" to file/info.cgi for an unknown url', async () => {
    const res = await api('file/info.cgi', { url: `${sandbox.origin}/zzzzzzzzzzzzzzzzzzzz` });
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ status: 'KO', message: 'Resource not found #469' });
  });

  it('answers 404 "Resource not found #469" to download/get_token.cgi for an unknown url', async () => {
    const res = await api('download/get_token.cgi', { url: 'https://1fichier.com/?zzzzzzzzzzzzzzzzzzzz' });
    expect(res.status).toBe(404);
    expect(koSchema.parse(res.json).message).toBe('Resource not found #469');
  });
});

describe('remote upload', () => {
  it('stays pending with the 1970 sentinel while fetching, then executes with an OK download_link serving the source bytes', async () => {
    const url = `${source.origin}/gated.bin`;
    const sent = await api('remote/request.cgi', { urls: [url] });
    expect(sent.status).toBe(200);
    const request = remoteRequestSchema.parse(sent.json);
    expect(request).toMatchObject({ status: 'OK', urls: [url], headers: {} });
    await waitFor(async () => (source.gatedWaiting() > 0 ? true : undefined), 'the source fetch to start');

    const pending = remoteInfoSchema.parse((await api('remote/info.cgi', { id: request.id })).json);
    expect(pending).toMatchObject({
      id: request.id,
      execution_date: '1970-01-01 00:00:00',
      links: [url],
      result: [],
    });
    const listed = remoteListSchema.parse((await api('remote/ls.cgi', {})).json);
    expect(listed.data).toContainEqual({
      id: request.id,
      request_date: request.date,
      execution_date: '1970-01-01 00:00:00',
    });

    source.releaseGate();
    const info = await executed(request.id);
    expect(info.result).toHaveLength(1);
    const [result] = info.result;
    expect(result).toMatchObject({ status: 'OK', url });
    expect(result?.download_link).toMatch(new RegExp(`^${sandbox.origin}/[a-z0-9]{20}$`));

    const download = await fetch(result?.download_link ?? '');
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(source.fileBytes)).toBe(true);
    const after = remoteListSchema.parse((await api('remote/ls.cgi', {})).json);
    expect(after.data.find((d) => d.id === request.id)?.execution_date).toBe(info.execution_date);
  });

  it('keeps execution_date at the sentinel until every URL of the request is processed', async () => {
    const id = await submit([`${source.origin}/file.bin`, `${source.origin}/gated.bin`]);
    await waitFor(async () => (source.gatedWaiting() > 0 ? true : undefined), 'the gated fetch to start');
    // The first URL is tiny and local; give it time to finish so the check below means something.
    await new Promise((r) => setTimeout(r, 200));
    const pending = remoteInfoSchema.parse((await api('remote/info.cgi', { id })).json);
    expect(pending.execution_date).toBe('1970-01-01 00:00:00');
    expect(pending.result).toEqual([]);

    source.releaseGate();
    const info = await executed(id);
    expect(info.result.map((r) => r.status)).toEqual(['OK', 'OK']);
  });

  it('describes the stored file in file/info.cgi: name, size, sha256 checksum, folder', async () => {
    const folder = mkdirSchema.parse((await api('folder/mkdir.cgi', { name: 'Inbox', folder_id: 0 })).json);
    const id = await submit([`${source.origin}/file.bin`], { folder_id: folder.folder_id });
    const link = (await executed(id)).result[0]?.download_link ?? '';

    const res = await api('file/info.cgi', { url: link });
    expect(res.status).toBe(200);
    expect(fileInfoSchema.parse(res.json)).toMatchObject({
      url: link,
      filename: 'file.bin',
      size: source.fileBytes.length,
      folder_id: folder.folder_id,
      checksum: source.fileSha256,
      content_type: 'application/octet-stream',
    });
    const listed = folderListSchema.parse(
      (await api('folder/ls.cgi', { folder_id: folder.folder_id, files: 1 })).json,
    );
    expect(listed.items?.map((i) => i.url)).toEqual([link]);
  });

  it('answers 404 KO to remote/request.cgi with an unknown folder_id', async () => {
    const res = await api('remote/request.cgi', { urls: [`${source.origin}/file.bin`], folder_id: 424242 });
    expect(res.status).toBe(404);
    expect(koSchema.parse(res.json).message).toMatch(/Resource not found/);
  });

  it('reports KO per URL for a 404 source, a 500 source, an unreachable host and a non-http scheme', async () => {
    const port = await closedPort();
    const urls = [
      `${source.origin}/missing`,
      `${source.origin}/error`,
      `http://127.0.0.1:${port}/file.bin`,
      'ftp://127.0.0.1/file.bin',
    ];
    const info = await executed(await submit(urls));
    expect(info.result.map((r) => [r.url, r.status])).toEqual(urls.map((u) => [u, 'KO']));
    const [notFound, serverError, unreachable, scheme] = info.result.map((r) => r.message);
    expect(notFound).toMatch(/HTTP 404/);
    expect(serverError).toMatch(/HTTP 500/);
    expect(unreachable).toMatch(/unreachable/i);
    expect(scheme).toMatch(/scheme/i);
    expect(info.result.every((r) => r.download_link === undefined)).toBe(true);
  });

  it('reports KO "too large" for sources over maxFileBytes, with or without a content-length', async () => {
    const info = await executed(await submit([`${source.origin}/big`, `${source.origin}/big-chunked`]));
    expect(info.result.map((r) => r.status)).toEqual(['KO', 'KO']);
    for (const r of info.result) expect(r.message).toMatch(/too large/i);
  });

  it('follows redirects and sends the request headers to the source', async () => {
    const urls = [`${source.origin}/redirect`, `${source.origin}/needs-token`];
    const id = await submit(urls, { headers: { 'x-token': 'secret' } });
    const info = await executed(id);
    expect(info.result.map((r) => r.status)).toEqual(['OK', 'OK']);
    expect(source.lastHeaders.get('/needs-token')?.['x-token']).toBe('secret');
  });

  it('gives increasing integer ids and keeps each key’s remote requests apart', async () => {
    const first = await submit([`${source.origin}/file.bin`]);
    const second = await submit([`${source.origin}/file.bin`]);
    expect(second).toBeGreaterThan(first);

    const foreign = await api('remote/info.cgi', { id: first }, PREMIUM_2);
    expect(foreign.status).toBe(404);
    const list = remoteListSchema.parse((await api('remote/ls.cgi', {}, PREMIUM_2)).json);
    expect(list.data.map((d) => d.id)).not.toContain(first);
  });

  it('answers 404 KO to remote/info.cgi for an unknown id and 400 KO without urls', async () => {
    const unknown = await api('remote/info.cgi', { id: 999_999 });
    expect(unknown.status).toBe(404);
    koSchema.parse(unknown.json);
    for (const body of [{}, { urls: [] }, { urls: 'http://x' }, { urls: [42] }]) {
      const res = await api('remote/request.cgi', body);
      expect(res.status).toBe(400);
      koSchema.parse(res.json);
    }
  });

  it('hands out a one-shot download/get_token.cgi URL that serves the bytes once', async () => {
    const link = (await executed(await submit([`${source.origin}/file.bin`]))).result[0]?.download_link ?? '';
    const res = await api('download/get_token.cgi', { url: link });
    expect(res.status).toBe(200);
    const token = downloadTokenSchema.parse(res.json);
    expect(token.url.startsWith(`${sandbox.origin}/`)).toBe(true);

    const first = await fetch(token.url);
    expect(Buffer.from(await first.arrayBuffer()).equals(source.fileBytes)).toBe(true);
    const second = await fetch(token.url);
    expect(second.status).toBe(404);
    await second.arrayBuffer();
  });
});

describe('remote upload with a minimum execution delay', () => {
  let delayed: SandboxHandle;
  beforeAll(async () => {
    delayed = await startSandbox({ port: 0, rate: 10_000, execDelayMs: 400 });
  });
  afterAll(async () => {
    await delayed?.close();
  });

  it('stays at the 1970 sentinel for execDelayMs after the request, then executes', async () => {
    const res = await callApi(
      delayed.baseUrl,
      'remote/request.cgi',
      { urls: [`${source.origin}/file.bin`] },
      delayed.keys.premium,
    );
    const { id } = remoteRequestSchema.parse(res.json);
    const info = remoteInfoSchema.parse(
      (await callApi(delayed.baseUrl, 'remote/info.cgi', { id }, delayed.keys.premium)).json,
    );
    expect(info.execution_date).toBe('1970-01-01 00:00:00');
    const done = await waitFor(async () => {
      const r = remoteInfoSchema.parse(
        (await callApi(delayed.baseUrl, 'remote/info.cgi', { id }, delayed.keys.premium)).json,
      );
      return r.result.length > 0 ? r : undefined;
    }, 'the delayed execution');
    expect(done.result[0]?.status).toBe('OK');
    expect(done.execution_date).not.toBe('1970-01-01 00:00:00');
  });
});

describe('robustness', () => {
  it('answers 400 KO JSON to a body that is not JSON or not an object', async () => {
    for (const body of ['{"urls":', '[1,2]', '"text"']) {
      const res = await api('remote/ls.cgi', body);
      expect(res.status).toBe(400);
      koSchema.parse(res.json);
    }
  });

  it('answers 404 "Resource not found" to an unknown endpoint', async () => {
    const res = await api('upload/add_url.cgi', {});
    expect(res.status).toBe(404);
    expect(koSchema.parse(res.json).message).toMatch(/^Resource not found/);
  });

  it('answers 405 to a GET on an API endpoint', async () => {
    const res = await fetch(`${sandbox.baseUrl}/remote/ls.cgi`);
    expect(res.status).toBe(405);
    koSchema.parse(await res.json());
  });

  it('answers 413 KO to a body over 1 MiB', async () => {
    const res = await api('remote/request.cgi', {
      urls: ['http://127.0.0.1/'],
      pad: 'x'.repeat(1024 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    koSchema.parse(res.json);
  });

  it('answers 400 KO to a non-integer id or folder_id', async () => {
    for (const [endpoint, body] of [
      ['remote/info.cgi', { id: 'abc' }],
      ['folder/ls.cgi', { folder_id: 1.5 }],
    ] as const) {
      const res = await api(endpoint, body);
      expect(res.status).toBe(400);
      koSchema.parse(res.json);
    }
  });
});
