/**
 * The sandbox across restarts: ids never repeat (even without persistence), and with `persist` a restarted
 * sandbox is the same 1fichier — same key, remote requests and results, working download links — and runs
 * again the requests that had not executed when it stopped.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readSnapshot, SNAPSHOT_FILE } from '../../infra/sandbox/persist.js';
import {
  SandboxConfigError,
  type SandboxHandle,
  type SandboxOptions,
  sandboxOptionsFromEnv,
  startSandbox,
} from '../../infra/sandbox/server.js';
import {
  callApi,
  mkdirSchema,
  remoteInfoSchema,
  remoteListSchema,
  remoteRequestSchema,
  type SourceServer,
  startSourceServer,
  waitFor,
} from '../support/sandbox-helpers.js';

let source: SourceServer;
const open: SandboxHandle[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  source = await startSourceServer();
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

afterAll(async () => {
  source.releaseGate();
  await source?.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function newDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-persist-'));
  dirs.push(dir);
  return dir;
}

async function start(opts: SandboxOptions = {}): Promise<SandboxHandle> {
  const sandbox = await startSandbox({ port: 0, rate: 10_000, ...opts });
  open.push(sandbox);
  return sandbox;
}

async function stop(sandbox: SandboxHandle): Promise<void> {
  open.splice(open.indexOf(sandbox), 1);
  await sandbox.close();
}

const api = (sandbox: SandboxHandle, endpoint: string, body: unknown) =>
  callApi(sandbox.baseUrl, endpoint, body, sandbox.keys.premium);

async function submit(sandbox: SandboxHandle, urls: string[]): Promise<number> {
  const res = await api(sandbox, 'remote/request.cgi', { urls });
  expect(res.status).toBe(200);
  return remoteRequestSchema.parse(res.json).id;
}

async function info(sandbox: SandboxHandle, id: number) {
  const res = await api(sandbox, 'remote/info.cgi', { id });
  expect(res.status).toBe(200);
  return remoteInfoSchema.parse(res.json);
}

function executed(sandbox: SandboxHandle, id: number) {
  return waitFor(async () => {
    const i = await info(sandbox, id);
    return i.execution_date.startsWith('1970-01-01') ? undefined : i;
  }, `remote request ${id} to execute`);
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('ids', () => {
  it('a restarted sandbox without persistence hands out larger remote and folder ids than before', async () => {
    const dataDir = await newDir();
    const first = await start({ dataDir });
    const ids = [await submit(first, [`${source.origin}/missing`]), await submit(first, ['ftp://x/'])];
    const folder = mkdirSchema.parse((await api(first, 'folder/mkdir.cgi', { name: 'a' })).json).folder_id;
    await stop(first);
    // A given data dir is never removed, persisted or not.
    expect(existsSync(dataDir)).toBe(true);

    const second = await start({ dataDir });
    const next = await submit(second, [`${source.origin}/missing`]);
    const nextFolder = mkdirSchema.parse(
      (await api(second, 'folder/mkdir.cgi', { name: 'a' })).json,
    ).folder_id;
    expect(next).toBeGreaterThan(Math.max(...ids));
    expect(nextFolder).toBeGreaterThan(folder);
    expect(Number.isSafeInteger(next)).toBe(true);
    // Without persistence nothing of the first run is known.
    expect(
      remoteListSchema.parse((await api(second, 'remote/ls.cgi', {})).json).data.map((d) => d.id),
    ).toEqual([next]);
  });
});

describe('persist', () => {
  it('needs a data dir, and SANDBOX_PERSIST is read as a boolean', async () => {
    await expect(startSandbox({ port: 0, persist: true })).rejects.toThrow(SandboxConfigError);
    await expect(startSandbox({ port: 0, persist: true })).rejects.toThrow(/SANDBOX_DATA_DIR/);
    expect(sandboxOptionsFromEnv({ SANDBOX_PERSIST: '1' }).persist).toBe(true);
    expect(sandboxOptionsFromEnv({ SANDBOX_PERSIST: 'false' }).persist).toBe(false);
    expect(() => sandboxOptionsFromEnv({ SANDBOX_PERSIST: 'yes' })).toThrow(/SANDBOX_PERSIST/);
  });

  it('a restarted sandbox keeps its key, lists the old request, answers the same info and serves the old link', async () => {
    const dataDir = await newDir();
    const first = await start({ dataDir, persist: true });
    const id = await submit(first, [`${source.origin}/file.bin`, `${source.origin}/missing`]);
    const before = await executed(first, id);
    const link = before.result.find((r) => r.status === 'OK')?.download_link;
    expect(link).toBeDefined();
    expect(await download(link!)).toEqual(source.fileBytes);
    const folder = mkdirSchema.parse((await api(first, 'folder/mkdir.cgi', { name: 'kept' })).json).folder_id;
    const key = first.keys.premium;
    await stop(first);
    expect(existsSync(join(dataDir, SNAPSHOT_FILE))).toBe(true);

    // Same port: download links carry the sandbox's origin, as 1fichier's carry its host.
    const second = await start({ dataDir, persist: true, port: first.port });
    expect(second.keys.premium).toBe(key);
    const listed = remoteListSchema.parse((await api(second, 'remote/ls.cgi', {})).json).data;
    expect(listed.map((d) => d.id)).toEqual([id]);
    expect(await info(second, id)).toEqual(before);
    expect(await download(link!)).toEqual(source.fileBytes);
    const fileInfo = await api(second, 'file/info.cgi', { url: link });
    expect(fileInfo.status).toBe(200);
    expect(fileInfo.json).toMatchObject({ size: source.fileBytes.length, checksum: source.fileSha256 });
    const root = await api(second, 'folder/ls.cgi', { folder_id: 0 });
    expect(root.json).toMatchObject({ sub_folders: [{ id: folder, name: 'kept' }] });
    // New ids still go up.
    expect(await submit(second, [`${source.origin}/missing`])).toBeGreaterThan(id);
    await stop(second);
    expect(existsSync(dataDir)).toBe(true);
  });

  it('writes the snapshot soon after a change, without waiting for close (a killed process keeps it)', async () => {
    const dataDir = await newDir();
    const sandbox = await start({ dataDir, persist: true });
    const id = await submit(sandbox, [`${source.origin}/file.bin`]);
    await executed(sandbox, id);
    const saved = await waitFor(async () => {
      const snapshot = await readSnapshot(dataDir);
      const job = snapshot?.accounts[0]?.remote.find((r) => r.id === id);
      return job?.executedAt ? snapshot : undefined;
    }, 'a snapshot with the executed request');
    expect(saved.accounts[0]?.key).toBe(sandbox.keys.premium);
    expect(saved.files).toHaveLength(1);
  });

  it('with explicit keys, only their accounts come back, but every stored link still works', async () => {
    const dataDir = await newDir();
    const a = 'persist-key-aaaaaaaaaaaaaaaaaaaaaaaa';
    const b = 'persist-key-bbbbbbbbbbbbbbbbbbbbbbbb';
    const first = await start({ dataDir, persist: true, keys: [{ key: a, tier: 'premium' }] });
    const id = await submit(first, [`${source.origin}/file.bin`]);
    const link = (await executed(first, id)).result[0]?.download_link;
    await stop(first);

    const second = await start({
      dataDir,
      persist: true,
      port: first.port,
      keys: [{ key: b, tier: 'premium' }],
    });
    expect(second.keys.premium).toBe(b);
    expect(remoteListSchema.parse((await api(second, 'remote/ls.cgi', {})).json).data).toEqual([]);
    expect(await download(link!)).toEqual(source.fileBytes);
  });

  it('a request not executed at the stop is fetched again at start and completes', async () => {
    const dataDir = await newDir();
    // The fetch finishes, but the result is held back past the stop.
    const first = await start({ dataDir, persist: true, execDelayMs: 60_000 });
    const id = await submit(first, [`${source.origin}/file.bin`]);
    await waitFor(
      async () => (readdirSync(dataDir).some((n) => /^[a-z0-9]{20}$/.test(n)) ? true : undefined),
      'the fetched file on disk',
    );
    const fetchedBeforeStop = readdirSync(dataDir).filter((n) => /^[a-z0-9]{20}$/.test(n));
    expect((await info(first, id)).execution_date).toBe('1970-01-01 00:00:00');
    await stop(first);

    const second = await start({ dataDir, persist: true, port: first.port });
    const after = await executed(second, id);
    expect(after.result).toHaveLength(1);
    expect(after.result[0]).toMatchObject({ status: 'OK', url: `${source.origin}/file.bin` });
    expect(await download(after.result[0]!.download_link!)).toEqual(source.fileBytes);
    // The unpublished copy of the first run was deleted at start; one request, one stored file.
    for (const name of fetchedBeforeStop) expect(existsSync(join(dataDir, name))).toBe(false);
    expect(readdirSync(dataDir).filter((n) => /^[a-z0-9]{20}/.test(n))).toHaveLength(1);
    expect(second.stats().submissions).toEqual({});
  });

  it('a request cut mid-fetch by the stop whose source is gone at start ends KO with the fetch message', async () => {
    const dataDir = await newDir();
    const gone = await startSourceServer();
    const first = await start({ dataDir, persist: true });
    const id = await submit(first, [`${gone.origin}/gated.bin`]);
    await waitFor(async () => (gone.gatedWaiting() > 0 ? true : undefined), 'the fetch to be in flight');
    await stop(first);
    await gone.close();

    const second = await start({ dataDir, persist: true, port: first.port });
    const after = await executed(second, id);
    expect(after.result).toEqual([
      { status: 'KO', url: `${gone.origin}/gated.bin`, message: 'Host unreachable (ECONNREFUSED)' },
    ]);
  });
});
