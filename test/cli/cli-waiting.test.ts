/**
 * A waiting job as the CLI shows it: 1fichier answers the submission with a text no rule knows, so the
 * job waits in `queued`; `relay status` and `submit --follow` say why and when it is tried next, and the
 * job JSON carries `waitReason` and `nextAttemptAt`. Its own runtime: the unknown answer pauses the key
 * (and the last test stops the runtime under a running `watch`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_INFO_FILE } from '../../infra/local/runtime-info.js';
import type { SandboxHandle } from '../../infra/sandbox/server.js';
import {
  type FileServer,
  removeDir,
  startFileServer,
  startTestRuntime,
  startTestSandbox,
  type TestRuntime,
  tempDir,
  until,
} from '../support/runtime.js';
import { runCli, runCliJson, spawnCli } from './support.js';

let sandbox: SandboxHandle;
let files: FileServer;
let runtime: TestRuntime;
let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = tempDir('relay-cli-wait-');
  sandbox = await startTestSandbox();
  files = await startFileServer();
  runtime = await startTestRuntime({
    dataDir,
    sandbox,
    env: { FICHIER_UNKNOWN_BACKOFF_MS: '600000', RELAY_TOKEN_RATE_PER_MIN: '100000' },
  });
  env = { RELAY_DATA_DIR: dataDir, XDG_CONFIG_HOME: dataDir };
});

afterAll(async () => {
  await runtime?.close();
  await files?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

describe('relay: a waiting job', () => {
  it('status and submit --follow show why the job waits and when it is tried next', async () => {
    sandbox.setFaults({
      forceUnknownKo: 1,
      unknownKoMessage: 'Something new happened #999',
      paths: ['remote/request.cgi'],
    });
    const url = files.url('cli-wait.bin');
    const follow = spawnCli(['submit', url, '--follow', '--interval', '0.2'], { env });
    await until(() => /waiting: /.test(follow.output().stdout), 'submit --follow to show the wait', 30_000);
    follow.child.kill('SIGINT');
    const followed = await follow.exited;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/Something new happened #999/);
    expect(followed.stdout).toMatch(/Stopped following; the jobs go on/);

    const list = await runCliJson<{ jobs: { id: string; url: string }[] }>(['jobs'], { env });
    const id = list.json.jobs.find((j) => j.url === url)!.id;
    const json = await runCliJson<{ status: string; waitReason: string; nextAttemptAt: string }>(
      ['status', id],
      { env },
    );
    expect(json.json.status).toBe('queued');
    expect(json.json.waitReason).toMatch(/Something new happened #999/);
    expect(Date.parse(json.json.nextAttemptAt)).toBeGreaterThan(Date.now() + 60_000);

    const human = await runCli(['status', id], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /waiting: .*Something new happened #999.*; next attempt \d\d:\d\d:\d\d \(in (9|10)m/,
    );
  });

  it('watch keeps watching while the relay is unreachable, saying so, until Ctrl-C', async () => {
    const w = spawnCli(['watch', '--interval', '0.2'], { env });
    await until(() => /Latest \d+ job\(s\)/.test(w.output().stdout), 'watch to print its counts', 20_000);
    await runtime.close();
    // A stopped runtime takes its record with it: the CLI would not take a stale URL for a running relay.
    expect(existsSync(join(dataDir, RUNTIME_INFO_FILE))).toBe(false);
    await until(
      () => /cannot reach the relay.*retrying/.test(w.output().stdout),
      'watch to report the outage',
      20_000,
    );
    expect(w.child.exitCode).toBeNull();
    w.child.kill('SIGINT');
    const r = await w.exited;
    expect(r.code).toBe(0);
  });
});
