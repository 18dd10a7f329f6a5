import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSandboxKey, type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import type { PacingPolicy } from '../../shared/fichier/backoff.js';
import { createFichierClient, type FichierClient } from '../../shared/fichier/client.js';
import { FichierApiError } from '../../shared/fichier/errors.js';
import { staticKeyProvider } from '../../shared/fichier/key-providers.js';
import { MemoryPacer } from '../../shared/fichier/memory-pacer.js';
import { isRemotePending } from '../../shared/fichier/types.js';

/** The client against the real sandbox (infra/sandbox), over loopback. */
const policy: PacingPolicy = {
  minIntervalMs: 40,
  floodPauseMs: 300,
  floodPauseMaxMs: 2000,
  ipLockPauseMs: 3_600_000,
  floodGrowth: 2,
  transientBaseMs: 20,
  transientMaxMs: 500,
  maxRetries: 3,
};
const payload = randomBytes(256 * 1024);

let sandbox: SandboxHandle;
let files: Server;
let fileOrigin: string;
let premium: FichierClient;
let free: FichierClient;

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    rate: 50,
    // Two keys read user/info from the same loopback address here.
    userInfoMinIntervalMs: 0,
    keys: [
      { key: generateSandboxKey(), tier: 'premium' },
      { key: generateSandboxKey(), tier: 'free' },
    ],
  });
  files = createServer((req, res) => {
    if (req.url === '/media/sample.bin') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length });
      res.end(payload);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  fileOrigin = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  const common = { baseUrl: sandbox.baseUrl, policy };
  premium = createFichierClient({
    ...common,
    keyProvider: staticKeyProvider(sandbox.keys.premium),
    pacer: new MemoryPacer({ policy }),
  });
  free = createFichierClient({
    ...common,
    keyProvider: staticKeyProvider(sandbox.keys.free!),
    pacer: new MemoryPacer({ policy }),
  });
});

afterAll(async () => {
  await premium?.close();
  await free?.close();
  await sandbox?.close();
  await new Promise<void>((resolve) => (files ? files.close(() => resolve()) : resolve()));
});

async function bytesOf(url: string): Promise<Buffer> {
  const res = await request(url);
  expect(res.statusCode).toBe(200);
  return Buffer.from(await res.body.arrayBuffer());
}

/** Polls like the poller will: one remote/ls per round, remote/info once the request executed. */
async function waitForRemote(id: number) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const entry = (await premium.remoteList()).find((e) => e.id === id);
    expect(entry).toBeDefined();
    if (!isRemotePending(entry!.execution_date)) return premium.remoteInfo(id);
    await sleep(50);
  }
  throw new Error(`remote request ${id} did not execute within 30 s`);
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

describe('fichier client against the sandbox', () => {
  it('reads user/info: premium offer 1, free offer 0', async () => {
    expect((await premium.userInfo()).offer).toBe(1);
    expect((await free.userInfo()).offer).toBe(0);
  });

  it('resolves a folder path, creating the missing parts', async () => {
    const id = await premium.resolveFolder('Feeds/Podcasts');
    expect(id).toBeGreaterThan(0);
    const root = await premium.folderList();
    const feeds = root.sub_folders.find((f) => f.name === 'Feeds');
    expect(feeds).toBeDefined();
    const inFeeds = await premium.folderList(feeds!.id);
    expect(inFeeds.sub_folders.map((f) => [f.name, f.id])).toContainEqual(['Podcasts', id]);
  });

  it('resolves a folder created outside the client by listing it, without mkdir', async () => {
    const other = createFichierClient({
      baseUrl: sandbox.baseUrl,
      policy,
      keyProvider: staticKeyProvider(sandbox.keys.premium),
    });
    try {
      const made = await premium.folderMkdir('Shared');
      const mkdirsBefore = sandbox.stats().requests['folder/mkdir.cgi'] ?? 0;
      expect(await other.resolveFolder('Shared')).toBe(made.folder_id);
      expect(sandbox.stats().requests['folder/mkdir.cgi'] ?? 0).toBe(mkdirsBefore);
    } finally {
      await other.close();
    }
  });

  it('remote-uploads a file served on loopback and its download_link serves the same bytes', async () => {
    const folderId = await premium.resolveFolder('Feeds/Podcasts');
    const url = `${fileOrigin}/media/sample.bin`;
    const submitted = await premium.remoteRequest({ urls: [url], folder_id: folderId });
    expect(submitted.id).toBeGreaterThan(0);

    const info = await waitForRemote(submitted.id);
    const [result] = info.result ?? [];
    expect(result).toMatchObject({ status: 'OK' });
    expect(result?.download_link).toBeTruthy();
    const link = result!.download_link!;
    expect((await bytesOf(link)).equals(payload)).toBe(true);

    const file = await premium.fileInfo(link);
    expect(file).toMatchObject({ filename: 'sample.bin', size: payload.length, folder_id: folderId });

    const token = await premium.downloadToken(link);
    expect((await bytesOf(token.url)).equals(payload)).toBe(true);
  });

  it('gives a free key on download/get_token kind notPremium, with exactly 1 request', async () => {
    const before = sandbox.stats().requests['download/get_token.cgi'] ?? 0;
    const err = await failure(free.downloadToken('https://1fichier.com/?whatever'));
    expect(err).toMatchObject({ kind: 'notPremium', retryable: false, httpStatus: 403 });
    expect(err.message).toBe('download/get_token.cgi failed: Must be a customer (Premium, Access) #200');
    expect((sandbox.stats().requests['download/get_token.cgi'] ?? 0) - before).toBe(1);
  });

  it('classifies an unknown remote id as notFound', async () => {
    const err = await failure(premium.remoteInfo(999_999));
    expect(err.kind).toBe('notFound');
  });

  it('classifies a wrong key as auth and does not retry it', async () => {
    const stranger = createFichierClient({
      baseUrl: sandbox.baseUrl,
      policy,
      keyProvider: staticKeyProvider(generateSandboxKey()),
    });
    try {
      const before = sandbox.stats().requests['remote/ls.cgi'] ?? 0;
      const err = await failure(stranger.remoteList());
      expect(err).toMatchObject({ kind: 'auth', httpStatus: 401 });
      expect((sandbox.stats().requests['remote/ls.cgi'] ?? 0) - before).toBe(1);
    } finally {
      await stranger.close();
    }
  });

  it('waits out a flood lock and then succeeds', async () => {
    sandbox.setFaults({ forceFlood: 1, paths: ['remote/ls.cgi'], floodLockMs: 200 });
    try {
      const floodsBefore = sandbox.stats().floodAnswers;
      const list = await premium.remoteList();
      expect(Array.isArray(list)).toBe(true);
      expect(sandbox.stats().floodAnswers - floodsBefore).toBe(1);
    } finally {
      sandbox.resetFaults();
    }
  });
});
