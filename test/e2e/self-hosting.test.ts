/**
 * Self-hosting: the local runtime with HOST beyond loopback keeps its sandbox on 127.0.0.1 and makes it
 * refuse private sources other than the sample file; the state directory is private (0700 / 0600).
 * Driven over HTTP on 127.0.0.1 only.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SAMPLE_TEXT, sampleUrl } from '../../infra/local/sample.js';
import { SandboxConfigError, sandboxOptionsFromEnv } from '../../infra/sandbox/server.js';
import {
  download,
  type FileServer,
  removeDir,
  startFileServer,
  startTestRuntime,
  tempDir,
  untilTerminal,
} from '../support/runtime.js';

/** Every path under `dir` with its permission bits. */
function modes(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  const walk = (d: string) => {
    out.push({ path: d, dir: true, mode: statSync(d).mode & 0o777 });
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ path: p, dir: false, mode: statSync(p).mode & 0o777 });
    }
  };
  walk(dir);
  return out;
}

/** The runtime's own sandbox (the one HOST affects), with test rates so fast polling never floods it. */
const SANDBOX = { port: 0, rate: 1000, floodLockMs: 300 };

const dirs: string[] = [];
let files: FileServer | undefined;
afterAll(async () => {
  await files?.close();
  for (const d of dirs) removeDir(d);
});

describe('an exposed API', () => {
  it.each([
    { how: 'HOST=0.0.0.0', opts: { host: '0.0.0.0' }, exposed: true },
    {
      how: 'SANDBOX_REFUSE_PRIVATE=1 on loopback (behind a tunnel)',
      opts: { sandboxOptions: { ...SANDBOX, ...sandboxOptionsFromEnv({ SANDBOX_REFUSE_PRIVATE: '1' }) } },
      exposed: false,
    },
  ])(
    '$how: the sandbox stays on loopback, fetches the sample file and refuses other local sources',
    async ({ opts, exposed }) => {
      const dataDir = tempDir();
      dirs.push(dataDir);
      files ??= await startFileServer();
      const runtime = await startTestRuntime({ dataDir, sandboxOptions: SANDBOX, ...opts });
      try {
        expect(runtime.exposed).toBe(exposed);
        expect(runtime.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(new URL(runtime.sandbox!.baseUrl).hostname).toBe('127.0.0.1');

        const sample = await runtime.client.postJobs({ url: sampleUrl(runtime.baseUrl) });
        const local = await runtime.client.postJobs({ url: files.url('owner-private.bin') });
        const [done, refused] = await untilTerminal(runtime.client, [sample.jobs[0]!.id, local.jobs[0]!.id]);

        expect(done!.status).toBe('done');
        expect((await download(done!.fileUrl!)).toString('utf8')).toBe(SAMPLE_TEXT);
        expect(refused!.status).toBe('failed');
        expect(refused!.error?.message).toMatch(/Refused: .*loopback.*only public URLs/);
        // Refused before connecting: the owner's server never saw the request.
        expect(files.hits.get('/files/owner-private.bin')).toBeUndefined();
      } finally {
        await runtime.close();
      }
    },
  );
});

describe('private local state', () => {
  it('creates the data directory 0700 and leaves every file in it 0600, even over an open one', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const { chmodSync, writeFileSync } = await import('node:fs');
    // State left by an older version, readable by everyone.
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'old-notes.txt'), 'x', { mode: 0o644 });
    const runtime = await startTestRuntime({ dataDir, sandboxOptions: SANDBOX });
    try {
      const posted = await runtime.client.postJobs({ url: sampleUrl(runtime.baseUrl) });
      await untilTerminal(runtime.client, [posted.jobs[0]!.id]);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    } finally {
      await runtime.close();
    }
    const all = modes(dataDir);
    // The token, dynalite's files and the sandbox's snapshot and stored file are all in there.
    expect(all.some((e) => e.path.endsWith('/token'))).toBe(true);
    expect(all.some((e) => e.path.includes('/dynamo/') && !e.dir)).toBe(true);
    expect(all.some((e) => e.path.endsWith('sandbox-state.json'))).toBe(true);
    expect(all.filter((e) => e.dir && e.mode !== 0o700)).toEqual([]);
    expect(all.filter((e) => !e.dir && e.mode !== 0o600)).toEqual([]);
  });
});

describe('SANDBOX_REFUSE_PRIVATE', () => {
  it('is 1/0/true/false, and anything else stops the start naming the variable', () => {
    expect(sandboxOptionsFromEnv({ SANDBOX_REFUSE_PRIVATE: 'true' }).privateTargets).toBeDefined();
    expect(sandboxOptionsFromEnv({ SANDBOX_REFUSE_PRIVATE: '0' }).privateTargets).toBeUndefined();
    expect(() => sandboxOptionsFromEnv({ SANDBOX_REFUSE_PRIVATE: 'yes' })).toThrow(SandboxConfigError);
    expect(() => sandboxOptionsFromEnv({ SANDBOX_REFUSE_PRIVATE: 'yes' })).toThrow(/SANDBOX_REFUSE_PRIVATE/);
  });
});
