/**
 * Sandbox configuration: `SANDBOX_*` parsing with fail-fast errors, option defaults, the data directory,
 * and `npm run sandbox` (infra/sandbox/main.ts) starting from env and stopping on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sandboxOptionsFromEnv, startSandbox } from '../../infra/sandbox/server.js';
import {
  callApi,
  remoteInfoSchema,
  remoteRequestSchema,
  startSourceServer,
  waitFor,
} from '../support/sandbox-helpers.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('sandboxOptionsFromEnv', () => {
  it('reads every SANDBOX_* variable', () => {
    const opts = sandboxOptionsFromEnv({
      SANDBOX_PORT: '0',
      SANDBOX_KEYS: 'key1:premium, key2:free',
      SANDBOX_RATE: '5',
      SANDBOX_FLOOD_LOCK_MS: '1000',
      SANDBOX_DATA_DIR: '/tmp/x',
      SANDBOX_MAX_FILE_BYTES: '2048',
      SANDBOX_EXEC_DELAY_MS: '10',
      SANDBOX_USER_INFO_MIN_INTERVAL_MS: '0',
      SANDBOX_USER_INFO_KEY_MIN_INTERVAL_MS: '1500',
      SANDBOX_FETCH_TOTAL_TIMEOUT_MS: '2500',
      SANDBOX_DISK_QUOTA_BYTES: '4096',
    });
    expect(opts).toEqual({
      port: 0,
      keys: [
        { key: 'key1', tier: 'premium' },
        { key: 'key2', tier: 'free' },
      ],
      rate: 5,
      floodLockMs: 1000,
      dataDir: '/tmp/x',
      maxFileBytes: 2048,
      execDelayMs: 10,
      userInfoMinIntervalMs: 0,
      userInfoKeyMinIntervalMs: 1500,
      fetchTotalTimeoutMs: 2500,
      diskQuotaBytes: 4096,
    });
  });

  it('leaves unset or empty variables out so the defaults apply', () => {
    expect(sandboxOptionsFromEnv({ SANDBOX_RATE: '' })).toEqual({});
  });

  it.each([
    ['SANDBOX_PORT', '70000'],
    ['SANDBOX_RATE', 'fast'],
    ['SANDBOX_RATE', '0'],
    ['SANDBOX_FLOOD_LOCK_MS', '-1'],
    ['SANDBOX_MAX_FILE_BYTES', '1.5'],
    ['SANDBOX_USER_INFO_KEY_MIN_INTERVAL_MS', '-5'],
    ['SANDBOX_FETCH_TOTAL_TIMEOUT_MS', '0'],
    ['SANDBOX_FETCH_TOTAL_TIMEOUT_MS', '9999999999'],
    ['SANDBOX_DISK_QUOTA_BYTES', '1GiB'],
    ['SANDBOX_KEYS', 'key1:gold'],
    ['SANDBOX_KEYS', 'key1:free'],
    ['SANDBOX_KEYS', 'bad key:premium'],
  ])('fails fast naming %s for %j', (name, value) => {
    expect(() => sandboxOptionsFromEnv({ [name]: value })).toThrow(name);
  });
});

describe('startSandbox options', () => {
  it('generates one 32-character premium key by default', async () => {
    const sandbox = await startSandbox({ port: 0 });
    try {
      expect(sandbox.keys.premium).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(sandbox.keys.free).toBeUndefined();
      expect(sandbox.keys.all).toEqual([{ key: sandbox.keys.premium, tier: 'premium' }]);
      expect(sandbox.baseUrl).toBe(`http://127.0.0.1:${sandbox.port}/v1`);
    } finally {
      await sandbox.close();
    }
  });

  it('removes the temporary dataDir it made on close', async () => {
    const sandbox = await startSandbox({ port: 0 });
    expect(await readdir(sandbox.dataDir)).toEqual([]);
    await sandbox.close();
    await expect(readdir(sandbox.dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects invalid options naming the option', async () => {
    await expect(startSandbox({ port: 0, rate: 0 })).rejects.toThrow(/rate/);
  });

  it('stores fetched files under dataDir and leaves a given dataDir in place on close', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sandbox-test-'));
    const source = await startSourceServer();
    const sandbox = await startSandbox({ port: 0, rate: 1000, dataDir });
    try {
      const key = sandbox.keys.premium;
      const sent = await callApi(
        sandbox.baseUrl,
        'remote/request.cgi',
        { urls: [`${source.origin}/file.bin`] },
        key,
      );
      const { id } = remoteRequestSchema.parse(sent.json);
      await waitFor(async () => {
        const info = remoteInfoSchema.parse(
          (await callApi(sandbox.baseUrl, 'remote/info.cgi', { id }, key)).json,
        );
        return info.result.length > 0 ? info : undefined;
      }, 'the remote request');
      await sandbox.close();
      expect(await readdir(dataDir)).toHaveLength(1);
    } finally {
      await sandbox.close();
      await source.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('npm run sandbox (infra/sandbox/main.ts)', () => {
  it('starts from SANDBOX_* env, prints its base URL and keys, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/sandbox/main.ts'], {
      env: { ...process.env, SANDBOX_PORT: '0', SANDBOX_KEYS: 'main-test-key:premium,main-free-key:free' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const baseUrl = await waitFor(
      async () => out.match(/1fichier sandbox: (http:\/\/127\.0\.0\.1:\d+\/v1)/)?.[1],
      'the sandbox banner',
      30_000,
      50,
    );
    expect(out).toContain('main-test-key');
    expect(out).toContain('main-free-key');
    expect(out).toContain('curl');

    const res = await callApi(baseUrl, 'remote/ls.cgi', {}, 'main-test-key');
    expect(res).toEqual({ status: 200, json: { status: 'OK', data: [] } });

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
