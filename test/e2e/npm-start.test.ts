/**
 * `npm start` as a user runs it (infra/local/main.ts in a child process): with HOST beyond loopback it
 * prints the warning; with a real key set (here the URL and key of a sandbox, standing in for 1fichier)
 * the curl line carries a placeholder public URL, not the loopback sample; job lines never show a query
 * string; files written while it runs are 0600. Only 127.0.0.1 is reached.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_URL_PLACEHOLDER } from '../../infra/local/banner.js';
import { RUNTIME_NODE_FLAGS } from '../../infra/local/node-flags.js';
import type { SandboxHandle } from '../../infra/sandbox/server.js';
import {
  type FileServer,
  removeDir,
  startFileServer,
  startTestSandbox,
  tempDir,
  until,
} from '../support/runtime.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');

let sandbox: SandboxHandle;
let files: FileServer;
let dataDir: string;
let child: ChildProcess;
let stdout = '';

beforeAll(async () => {
  sandbox = await startTestSandbox();
  files = await startFileServer();
  dataDir = tempDir();
  child = spawn(
    process.execPath,
    // The flags of the `start` script (test/infra/node-flags.test.ts keeps the two equal).
    [...RUNTIME_NODE_FLAGS, '--import', 'tsx', '--no-warnings', join(repoRoot, 'infra/local/main.ts')],
    {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        HOST: '0.0.0.0',
        PORT: '0',
        RELAY_DATA_DIR: dataDir,
        ONEFICHIER_API_KEY: sandbox.keys.premium,
        ONEFICHIER_API_URL: sandbox.baseUrl,
        POLL_INTERVAL_S: '1',
        FICHIER_MIN_INTERVAL_MS: '50',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  await until(() => stdout.includes('Ctrl-C stops') || child.exitCode !== null, 'the start banner', 45_000);
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  await files?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

const apiUrl = () => /API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
const token = () => /^\s+token\s+(\S+)/m.exec(stdout)?.[1];

describe('npm start with HOST=0.0.0.0 and a real key', () => {
  it('prints the exposure warning before the banner', () => {
    expect(stdout).toMatch(/WARNING: the API listens on every network interface \(HOST=0\.0\.0\.0\)/);
    expect(stdout).toMatch(/plain HTTP/);
    expect(stdout.indexOf('WARNING')).toBeLessThan(stdout.indexOf('fichier-relay is running'));
  });

  it('offers a curl line with a placeholder public URL, not the loopback sample 1fichier cannot fetch', () => {
    expect(stdout).not.toContain('/sample/hello.txt');
    expect(stdout).toContain(`-d '{"url":"${PUBLIC_URL_PLACEHOLDER}"}'`);
    expect(apiUrl()).toBeDefined();
  });

  it('prints job lines without the query string, and keeps every file it writes 0600', async () => {
    const signed = `${files.url('signed.bin')}?X-Amz-Signature=topsecretsig123&token=t0ps3cr3t`;
    const res = await fetch(`${apiUrl()}/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: signed }),
    });
    expect(res.status).toBe(202);
    await until(() => /\bdone\s+http/.test(stdout), 'the done line', 45_000);

    expect(stdout).toContain('signed.bin?X-Amz-Signature=[redacted]&token=[redacted]');
    expect(stdout).not.toContain('topsecretsig123');
    expect(stdout).not.toContain('t0ps3cr3t');
    const open: string[] = [];
    const walk = (d: string) => {
      if ((statSync(d).mode & 0o777) !== 0o700) open.push(d);
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && (statSync(p).mode & 0o777) !== 0o600) open.push(p);
      }
    };
    walk(dataDir);
    expect(open).toEqual([]);
  });

  it('stops cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
  });
});
