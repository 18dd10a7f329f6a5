/**
 * The `relay` CLI as a user runs it: a child process (`bin/relay.js`) against the local runtime started in
 * this process on port 0 with the sandbox, finding it by itself through `RELAY_DATA_DIR/runtime.json`.
 * Covers help and exit codes, submit (arguments, stdin, --file, --dry-run, --follow), status, jobs, retry,
 * watch, report, circuit reset, key set/check (local keystore and Secrets Manager), login, and the
 * progress display under a pseudo-terminal.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYSTORE_FILE } from '../../infra/local/keystore.js';
import { runtimeOptionsFromEnv } from '../../infra/local/runtime.js';
import { RUNTIME_INFO_FILE } from '../../infra/local/runtime-info.js';
import { type SecretsStub, startSecretsStub } from '../../infra/local/secrets-stub.js';
import type { SandboxHandle } from '../../infra/sandbox/server.js';
import {
  closedPort,
  type FileServer,
  removeDir,
  startFileServer,
  startTestRuntime,
  startTestSandbox,
  type TestRuntime,
  tempDir,
  until,
} from '../support/runtime.js';
import { ANSI, COLOUR, runCli, runCliJson, runInTty, spawnCli } from './support.js';

interface Job {
  id: string;
  url: string;
  status: string;
  fileUrl?: string;
  error?: { code: string; message: string };
  retryable?: boolean;
  waitReason?: string;
  nextAttemptAt?: string;
}

let sandbox: SandboxHandle;
let files: FileServer;
let runtime: TestRuntime;
let dataDir: string;
let configHome: string;
/** The environment that lets the CLI find this test's runtime, as `npm start` in the repo would. */
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = tempDir('relay-cli-');
  configHome = tempDir('relay-cli-config-');
  sandbox = await startTestSandbox();
  files = await startFileServer();
  // The CLI makes many requests with one token in a short time: lift the per-token limit.
  runtime = await startTestRuntime({ dataDir, sandbox, env: { RELAY_TOKEN_RATE_PER_MIN: '100000' } });
  env = { RELAY_DATA_DIR: dataDir, XDG_CONFIG_HOME: configHome };
});

afterAll(async () => {
  await runtime?.close();
  await files?.close();
  await sandbox?.close();
  for (const d of [dataDir, configHome]) if (d) removeDir(d);
});

describe('relay: help, usage and connection', () => {
  it('--help lists the commands and documents the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of [
      'submit',
      'status',
      'jobs',
      'watch',
      'retry',
      'feeds add',
      'tokens create',
      'notify test',
      'key set',
      'key check',
      'circuit reset',
      'report',
      'login',
    ])
      expect(r.stdout).toContain(cmd);
    expect(r.stdout).toMatch(
      /Exit codes:[\s\S]*2 +usage[\s\S]*3 +auth[\s\S]*4 +unreachable[\s\S]*5 +rate limited/,
    );
  });

  it('a command’s --help shows its own options', async () => {
    const r = await runCli(['submit', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--dry-run');
    expect(r.stdout).toContain('--follow');
    expect(r.stdout).toContain('--folder');
  });

  it('an unknown command or option exits 2 and says what to do', async () => {
    const unknown = await runCli(['frobnicate'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"[\s\S]*relay --help/);
    const option = await runCli(['jobs', '--bogus'], { env });
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/--bogus[\s\S]*relay jobs --help/);
  });

  it('finds the local runtime by itself: URL and token from RELAY_DATA_DIR/runtime.json (mode 0600)', async () => {
    const info = JSON.parse(readFileSync(join(dataDir, RUNTIME_INFO_FILE), 'utf8')) as {
      url: string;
      token: string;
    };
    expect(info).toMatchObject({ url: runtime.baseUrl, token: runtime.token });
    expect(statSync(join(dataDir, RUNTIME_INFO_FILE)).mode & 0o777).toBe(0o600);
    const r = await runCliJson<{ jobs: Job[] }>(['jobs'], { env });
    expect(r.code).toBe(0);
    expect(Array.isArray(r.json.jobs)).toBe(true);
  });

  it('a wrong token exits 3, an unreachable relay 4, each with what to do', async () => {
    const auth = await runCli(['jobs', '--token', 'fr_wrong'], { env });
    expect(auth.code).toBe(3);
    expect(auth.stderr).toMatch(/refused the token[\s\S]*→ .*(--token|login)/);
    const port = await closedPort();
    const down = await runCli(['jobs', '--api', `http://127.0.0.1:${port}`, '--token', 'x'], { env });
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/cannot reach the relay[\s\S]*→ /);
  });

  it('inside the repo with no runtime running it exits 4 and says to start one', async () => {
    const empty = tempDir('relay-cli-none-');
    try {
      const r = await runCli(['jobs'], { env: { RELAY_DATA_DIR: empty, XDG_CONFIG_HOME: configHome } });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('npm start');
    } finally {
      removeDir(empty);
    }
  });

  it('a 429 from the API exits 5 and says how long to wait (Retry-After)', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(
        JSON.stringify({ error: { code: 'rateLimited', message: 'too many requests for this token' } }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await runCli(['jobs', '--api', api, '--token', 'x'], { env });
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/rate limited[\s\S]*wait 7 s/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('submit --follow waits out a 429 (Retry-After) and goes on following', async () => {
    let gets = 0;
    const job = { id: 'j429', url: 'https://example.com/a.iso', status: 'queued', duplicate: false };
    const server: Server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') return void res.writeHead(202).end(JSON.stringify({ jobs: [job] }));
      gets++;
      if (gets === 1) {
        res.writeHead(429, { 'retry-after': '1' });
        return void res.end(JSON.stringify({ error: { code: 'rateLimited', message: 'slow down' } }));
      }
      res.writeHead(200).end(JSON.stringify({ ...job, status: 'done', fileUrl: 'https://1fichier.com/?x' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await runCli(
        ['submit', job.url, '--follow', '--api', api, '--token', 'x', '--interval', '0.1'],
        { env },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/rate limited by the relay; polling again in 1 s/);
      expect(r.stdout).toMatch(/file: https:\/\/1fichier\.com\/\?x/);
      expect(gets).toBe(2);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('--json errors are JSON on stdout too, with the exit code and the hint', async () => {
    const r = await runCli(['jobs', '--token', 'fr_wrong', '--json'], { env });
    expect(r.code).toBe(3);
    const body = JSON.parse(r.stdout) as { error: { exitCode: number; hint: string } };
    expect(body.error.exitCode).toBe(3);
    expect(body.error.hint).toBeTruthy();
  });
});

describe('relay submit, status, jobs', () => {
  it('submit --follow (no TTY) prints plain lines until the job is done, with the file link, and exits 0', async () => {
    const url = files.url('cli-follow.bin');
    const r = await runCli(['submit', url, '--follow', '--interval', '0.2'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/done/);
    expect(r.stdout).toMatch(/file: http:\/\/127\.0\.0\.1:\d+\//);
    expect(r.stdout).not.toMatch(ANSI);
    expect(r.stdout).not.toContain('\r');
  });

  it('submit --json creates the jobs; status --json shows one; a second submit is a duplicate', async () => {
    const url = files.url('cli-json.bin');
    const first = await runCliJson<{ jobs: (Job & { duplicate: boolean })[] }>(['submit', url], { env });
    expect(first.code).toBe(0);
    expect(first.json.jobs).toHaveLength(1);
    const [job] = first.json.jobs;
    expect(job).toMatchObject({ url, duplicate: false });
    const again = await runCliJson<{ jobs: (Job & { duplicate: boolean })[] }>(['submit', url], { env });
    expect(again.json.jobs[0]).toMatchObject({ id: job!.id, duplicate: true });
    const status = await runCliJson<Job>(['status', job!.id], { env });
    expect(status.code).toBe(0);
    expect(status.json.id).toBe(job!.id);
  });

  it('reads URLs from stdin with - and from --file (blank lines and # comments skipped), into --folder', async () => {
    const a = files.url('cli-stdin-a.bin');
    const b = files.url('cli-file-b.bin');
    const list = join(dataDir, 'urls.txt');
    writeFileSync(list, `# my list\n\n${b}\n`);
    const r = await runCliJson<{ jobs: Job[] }>(['submit', '-', '--file', list, '--folder', 'CLI/Test'], {
      env,
      input: `${a}\n\n`,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.jobs.map((j) => j.url)).toEqual([a, b]);
    const shown = await runtime.client.getJob(r.json.jobs[0]!.id);
    expect(shown.folder).toBe('CLI/Test');
  });

  it('an invalid URL exits 2, names every bad URL, and creates nothing', async () => {
    const good = files.url('cli-never.bin');
    const r = await runCli(['submit', good, 'ftp://example.invalid/x', 'not a url'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ftp://example.invalid/x');
    expect(r.stderr).toContain('not a url');
    expect(r.stderr).toMatch(/nothing was submitted/);
    const list = await runCliJson<{ jobs: Job[] }>(['jobs', '--limit', '100'], { env });
    expect(list.json.jobs.some((j) => j.url === good)).toBe(false);
  });

  it('--dry-run creates nothing and says, by computing the job id, which URL would be created or is a duplicate', async () => {
    const existing = files.url('cli-json.bin'); // submitted above
    const fresh = files.url('cli-dry-fresh.bin');
    const r = await runCliJson<{
      dryRun: boolean;
      dedupe: string;
      method: string;
      jobs: { url: string; action: string; id: string; status?: string }[];
    }>(['submit', existing, fresh, '--dry-run'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.dryRun).toBe(true);
    expect(r.json.dedupe).toBe('computed');
    expect(r.json.method).toMatch(/computing each job id[\s\S]*GET \/jobs\/<id>/);
    const byUrl = Object.fromEntries(r.json.jobs.map((j) => [j.url, j]));
    expect(byUrl[existing]).toMatchObject({ action: 'duplicate' });
    expect(byUrl[fresh]).toMatchObject({ action: 'create' });
    // Nothing was created: the computed id of the fresh URL is unknown to the API.
    const res = await fetch(`${runtime.baseUrl}/jobs/${byUrl[fresh]!.id}`, {
      headers: { authorization: `Bearer ${runtime.token}` },
    });
    expect(res.status).toBe(404);
    const human = await runCli(['submit', fresh, '--dry-run'], { env });
    expect(human.stdout).toMatch(/Dry run: nothing was created/);
    expect(human.stdout).toMatch(/would create/);
  });

  it('jobs --status filters and lists newest first; a bad --status exits 2', async () => {
    const r = await runCliJson<{ jobs: Job[] }>(['jobs', '--status', 'done', '--limit', '50'], { env });
    expect(r.code).toBe(0);
    expect(r.json.jobs.length).toBeGreaterThan(0);
    expect(r.json.jobs.every((j) => j.status === 'done')).toBe(true);
    const bad = await runCli(['jobs', '--status', 'finished'], { env });
    expect(bad.code).toBe(2);
  });
});

describe('relay: failed jobs, retry, watch, report, circuit reset', () => {
  let failedId: string;

  it('a failed job makes submit --follow exit 1, saying why and whether retrying can help', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/gone.bin`;
    const r = await runCli(['submit', url, '--follow', '--interval', '0.2'], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/failed: remoteFailed/);
    expect(r.stdout).toMatch(/retrying may help: relay retry \S+/);
    failedId = /retrying may help: relay retry (\S+)/.exec(r.stdout)![1]!;
    const status = await runCliJson<Job>(['status', failedId], { env });
    expect(status.code).toBe(1);
    expect(status.json).toMatchObject({ status: 'failed', retryable: true, error: { code: 'remoteFailed' } });
  });

  it('retry <id> requeues a failed job; a job that did not fail is refused with exit 1', async () => {
    const r = await runCliJson<{ retried: Job[] }>(['retry', failedId], { env });
    expect(r.code).toBe(0);
    expect(r.json.retried[0]).toMatchObject({ id: failedId, status: 'queued' });
    const done = await runCliJson<{ jobs: Job[] }>(['jobs', '--status', 'done', '--limit', '1'], { env });
    const doneId = done.json.jobs[0]!.id;
    const refused = await runCli(['retry', doneId], { env });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(new RegExp(`${doneId}\\s+not retried`));
  });

  it('retry --failed retries every failed job that retrying can help', async () => {
    await until(
      async () => (await runtime.client.getJob(failedId)).status === 'failed',
      'the retried job to fail again',
    );
    const r = await runCliJson<{ retried: Job[]; skipped: Job[] }>(['retry', '--failed'], { env });
    expect(r.code).toBe(0);
    expect(r.json.retried.map((j) => j.id)).toContain(failedId);
  });

  it('watch shows counts, then each job event as it happens, until Ctrl-C (exit 0)', async () => {
    const w = spawnCli(['watch', '--interval', '0.2'], { env });
    await until(() => /Latest \d+ job\(s\)/.test(w.output().stdout), 'watch to print its counts', 20_000);
    const url = files.url('cli-watch.bin');
    const posted = await runtime.client.postJobs({ url });
    const id = posted.jobs[0]!.id;
    await until(
      () => new RegExp(`${id}\\s+done`).test(w.output().stdout),
      'watch to show the job done',
      30_000,
    );
    w.child.kill('SIGINT');
    const r = await w.exited;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/counts: .*done \d+/);
  });

  it('report shows the latest report with files done', async () => {
    await runtime.pollNow();
    const r = await runCli(['report'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Report/);
    const j = await runCliJson<{ counts: Record<string, number> }>(['report'], { env });
    expect(j.json.counts).toBeDefined();
  });

  it('circuit reset closes the circuit and says how many jobs were sent again', async () => {
    const r = await runCli(['circuit', 'reset'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Circuit closed[\s\S]*job\(s\) sent again/);
  });
});

describe('relay under a pseudo-terminal', () => {
  it('submit --follow on a TTY redraws a progress bar and a spinner, in colour', async () => {
    const url = files.url('cli-tty.bin');
    const r = await runInTty(['submit', url, '--follow', '--interval', '0.2'], { env });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('\r\u001b[2K'); // the status line redrawn in place
    expect(r.stdout).toMatch(/\[█+░*\] \d\/1/);
    expect(r.stdout).toContain('\u001b[32m'); // green "done"
  });

  it('NO_COLOR turns colours off on a TTY (the progress line stays)', async () => {
    const url = files.url('cli-tty-nocolor.bin');
    const r = await runInTty(['submit', url, '--follow', '--interval', '0.2'], {
      env: { ...env, NO_COLOR: '1' },
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\[█+░*\] 1\/1/);
    expect(r.stdout).not.toMatch(COLOUR);
  });
});

describe('relay key set / key check', () => {
  it('key set (local) stores the key from stdin in the keystore (0600) without echoing it; npm start reads it', async () => {
    const keyDir = tempDir('relay-cli-key-');
    try {
      const key = sandbox.keys.premium;
      const r = await runCli(['key', 'set'], {
        env: { RELAY_DATA_DIR: keyDir, XDG_CONFIG_HOME: configHome },
        input: `${key}\n`,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(key);
      const file = join(keyDir, KEYSTORE_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(runtimeOptionsFromEnv({ RELAY_DATA_DIR: keyDir }).fichierApiKey).toBe(key);
      // The variable still wins.
      expect(
        runtimeOptionsFromEnv({ RELAY_DATA_DIR: keyDir, ONEFICHIER_API_KEY: 'other' }).fichierApiKey,
      ).toBe('other');
    } finally {
      removeDir(keyDir);
    }
  });

  it('key check calls user/info.cgi once, then answers from its record within 5 minutes', async () => {
    const keyDir = tempDir('relay-cli-key-');
    const keyEnv = {
      RELAY_DATA_DIR: keyDir,
      XDG_CONFIG_HOME: configHome,
      ONEFICHIER_API_URL: sandbox.baseUrl,
    };
    try {
      await runCli(['key', 'set'], { env: keyEnv, input: sandbox.keys.premium });
      const before = sandbox.stats().requests['user/info.cgi'] ?? 0;
      const first = await runCliJson<{ ok: boolean; cached: boolean }>(['key', 'check'], { env: keyEnv });
      expect(first.code, first.stderr).toBe(0);
      expect(first.json).toMatchObject({ ok: true, cached: false });
      expect(sandbox.stats().requests['user/info.cgi'] ?? 0).toBe(before + 1);
      const second = await runCli(['key', 'check'], { env: keyEnv });
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/Last checked .* ago/);
      expect(sandbox.stats().requests['user/info.cgi'] ?? 0).toBe(before + 1);
    } finally {
      removeDir(keyDir);
    }
  });

  it('key check with a key 1fichier refuses exits 3 and says to set the right one', async () => {
    const keyDir = tempDir('relay-cli-key-');
    const keyEnv = {
      RELAY_DATA_DIR: keyDir,
      XDG_CONFIG_HOME: configHome,
      ONEFICHIER_API_URL: sandbox.baseUrl,
    };
    try {
      await runCli(['key', 'set'], { env: keyEnv, input: 'notAKeyTheSandboxKnows1234' });
      const r = await runCli(['key', 'check'], { env: keyEnv });
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/relay key set/);
    } finally {
      removeDir(keyDir);
    }
  });

  describe('deployed: Secrets Manager', () => {
    let stub: SecretsStub;
    beforeAll(async () => {
      stub = await startSecretsStub({ secrets: { 'relay-key': '' } });
    });
    afterAll(async () => stub?.close());

    it('key set --secret puts the key in the secret and key check reads it from there', async () => {
      const cfg = tempDir('relay-cli-aws-');
      const awsEnv = {
        XDG_CONFIG_HOME: cfg,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: stub.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        ONEFICHIER_API_URL: sandbox.baseUrl,
      };
      try {
        const key = sandbox.keys.premium;
        const set = await runCli(['key', 'set', '--secret', 'relay-key'], {
          env: awsEnv,
          input: key,
          cwd: cfg,
        });
        expect(set.code, set.stderr).toBe(0);
        expect(set.stdout).not.toContain(key);
        const sm = new SecretsManagerClient({
          endpoint: stub.endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 't', secretAccessKey: 't' },
        });
        const got = await sm.send(new GetSecretValueCommand({ SecretId: 'relay-key' }));
        sm.destroy();
        expect(got.SecretString).toBe(key);
        const check = await runCliJson<{ ok: boolean }>(['key', 'check', '--secret', 'relay-key'], {
          env: awsEnv,
          cwd: cfg,
        });
        expect(check.code, check.stderr).toBe(0);
        expect(check.json.ok).toBe(true);
      } finally {
        removeDir(cfg);
      }
    });
  });
});

describe('relay login', () => {
  it('checks the token, writes the config file (0600), and later commands outside the repo use it', async () => {
    const cfg = tempDir('relay-cli-login-');
    const outside = tempDir('relay-cli-cwd-');
    try {
      const r = await runCli(['login', runtime.baseUrl], {
        env: { XDG_CONFIG_HOME: cfg },
        input: `${runtime.token}\n`,
        cwd: outside,
      });
      expect(r.code, r.stderr).toBe(0);
      const file = join(cfg, 'fichier-relay', 'config.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
        apiUrl: runtime.baseUrl,
        token: runtime.token,
      });
      const jobs = await runCliJson<{ jobs: Job[] }>(['jobs'], {
        env: { XDG_CONFIG_HOME: cfg },
        cwd: outside,
      });
      expect(jobs.code).toBe(0);
      expect(jobs.json.jobs.length).toBeGreaterThan(0);
    } finally {
      removeDir(cfg);
      removeDir(outside);
    }
  });

  it('a token the relay refuses is not saved (exit 3)', async () => {
    const cfg = tempDir('relay-cli-login-');
    try {
      mkdirSync(join(cfg, 'fichier-relay'), { recursive: true });
      const r = await runCli(['login', runtime.baseUrl], {
        env: { XDG_CONFIG_HOME: cfg },
        input: 'fr_nope\n',
        cwd: cfg,
      });
      expect(r.code).toBe(3);
      expect(() => statSync(join(cfg, 'fichier-relay', 'config.json'))).toThrow();
    } finally {
      removeDir(cfg);
    }
  });

  it('outside the repo with no config it exits 2 and says how to connect', async () => {
    const cfg = tempDir('relay-cli-login-');
    try {
      const r = await runCli(['jobs'], { env: { XDG_CONFIG_HOME: cfg }, cwd: cfg });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/relay login/);
    } finally {
      removeDir(cfg);
    }
  });
});
