/**
 * The CLI commands over routes other branches add (tokens, feeds, notifications, `GET /reports?limit=`),
 * written against the contract: the real CLI as a child process, the local runtime in-process, a feed and
 * a webhook receiver as real HTTP servers on 127.0.0.1 (`RELAY_ALLOW_PRIVATE_URLS=1`), and `watch` reading the
 * live pacer from the status page's `GET /status`.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  untilTerminal,
} from '../support/runtime.js';
import { runCli, runCliJson, spawnCli } from './support.js';

let sandbox: SandboxHandle;
let files: FileServer;
let runtime: TestRuntime;
let dataDir: string;
let env: Record<string, string>;
let server: Server;
let origin: string;
const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];

/** An RSS feed with two items whose enclosures point at the file server, and a webhook receiver. */
function startChannelServer(): Promise<void> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      if (req.url === '/feed.xml') {
        res
          .writeHead(200, { 'content-type': 'application/rss+xml' })
          .end(
            `<?xml version="1.0"?><rss version="2.0"><channel><title>CLI feed</title><link>${origin}/</link>` +
              `<item><guid>a</guid><title>Episode A</title><enclosure url="${files.url('feed-a.bin')}" type="application/octet-stream" length="1"/></item>` +
              `<item><guid>b</guid><title>Trailer B</title><enclosure url="${files.url('feed-b.bin')}" type="application/octet-stream" length="1"/></item>` +
              '</channel></rss>',
          );
        return;
      }
      if (req.url?.startsWith('/hook')) {
        received.push({ path: req.url, headers: req.headers, body });
        res.writeHead(200).end('ok');
        return;
      }
      res.writeHead(404).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

beforeAll(async () => {
  dataDir = tempDir('relay-cli-ch-');
  sandbox = await startTestSandbox();
  files = await startFileServer();
  await startChannelServer();
  // Private URLs: the feed and the webhook receiver are on 127.0.0.1. The CLI makes many requests with
  // one token in a short time: lift the per-token limit.
  runtime = await startTestRuntime({
    dataDir,
    sandbox,
    env: {
      RELAY_ALLOW_PRIVATE_URLS: '1',
      RELAY_TOKEN_RATE_PER_MIN: '100000',
      // The last test pauses the key with an unknown answer: long enough to be seen.
      FICHIER_UNKNOWN_BACKOFF_MS: '600000',
    },
  });
  env = { RELAY_DATA_DIR: dataDir, XDG_CONFIG_HOME: dataDir };
});

afterAll(async () => {
  await runtime?.close();
  await files?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

describe('relay tokens', () => {
  it('create prints the token once; ls lists it without the secret; a read token cannot submit (exit 3); revoke refuses it within 5 s', async () => {
    const made = await runCliJson<{ id: string; token: string; scope: string }>(
      ['tokens', 'create', '--name', 'cli-read', '--scope', 'read'],
      { env },
    );
    expect(made.code, made.stderr).toBe(0);
    expect(made.json.token).toMatch(/\S{20,}/);
    expect(made.json.scope).toBe('read');

    const ls = await runCli(['tokens', 'ls', '--json'], { env });
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain(made.json.id);
    expect(ls.stdout).not.toContain(made.json.token);

    const read = await runCli(['jobs', '--token', made.json.token], { env });
    expect(read.code).toBe(0);
    const submit = await runCli(['submit', files.url('scoped.bin'), '--token', made.json.token], { env });
    expect(submit.code).toBe(3);

    const revoke = await runCli(['tokens', 'revoke', made.json.id], { env });
    expect(revoke.code).toBe(0);
    await until(
      async () => (await runCli(['jobs', '--token', made.json.token], { env })).code === 3,
      'the revoked token to be refused',
      10_000,
      500,
    );
  });
});

describe('relay feeds', () => {
  it('preview shows which items the filters take, and adds nothing', async () => {
    const r = await runCli(['feeds', 'preview', `${origin}/feed.xml`, '--include', 'Episode'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/take .*Episode A/);
    expect(r.stdout).toMatch(/skip .*Trailer B/);
    const ls = await runCliJson<unknown>(['feeds', 'ls'], { env });
    expect(JSON.stringify(ls.json)).not.toContain('/feed.xml');
  });

  it('add, ls, show and rm a feed', async () => {
    const added = await runCliJson<{ id: string; url: string }>(
      ['feeds', 'add', `${origin}/feed.xml`, '--folder', 'Feeds/CLI'],
      { env },
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.json.url).toBe(`${origin}/feed.xml`);
    const ls = await runCliJson<unknown>(['feeds', 'ls'], { env });
    expect(JSON.stringify(ls.json)).toContain(added.json.id);
    const show = await runCliJson<{ id: string }>(['feeds', 'show', added.json.id], { env });
    expect(show.json.id).toBe(added.json.id);
    const human = await runCli(['feeds', 'ls'], { env });
    expect(human.stdout).toContain(`${origin}/feed.xml`);
    const rm = await runCli(['feeds', 'rm', added.json.id], { env });
    expect(rm.code).toBe(0);
    const after = await runCliJson<unknown>(['feeds', 'ls'], { env });
    expect(JSON.stringify(after.json)).not.toContain(added.json.id);
  });

  it('import adds the feeds of an OPML file', async () => {
    const opml = join(dataDir, 'feeds.opml');
    writeFileSync(
      opml,
      `<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>` +
        `<outline type="rss" text="CLI" xmlUrl="${origin}/feed.xml?opml=1"/></body></opml>`,
    );
    const r = await runCli(['feeds', 'import', opml], { env });
    expect(r.code, r.stderr).toBe(0);
    const ls = await runCliJson<unknown>(['feeds', 'ls'], { env });
    expect(JSON.stringify(ls.json)).toContain('/feed.xml?opml=1');
  });
});

describe('relay notify', () => {
  it('add a signed webhook, ls it, test it (the receiver gets a signed POST), rm it', async () => {
    const added = await runCliJson<{ id: string; type: string }>(
      ['notify', 'add', 'webhook', `${origin}/hook/cli`, '--event', 'job.done'],
      { env },
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.json.type).toBe('webhook');
    const ls = await runCliJson<unknown>(['notify', 'ls'], { env });
    expect(JSON.stringify(ls.json)).toContain(added.json.id);

    const before = received.length;
    const test = await runCli(['notify', 'test', added.json.id], { env });
    expect(test.code, test.stderr).toBe(0);
    await until(() => received.length > before, 'the test delivery', 15_000);
    expect(received.at(-1)!.headers['webhook-signature']).toMatch(/^v1,/);

    const rm = await runCli(['notify', 'rm', added.json.id], { env });
    expect(rm.code).toBe(0);
    const after = await runCliJson<unknown>(['notify', 'ls'], { env });
    expect(JSON.stringify(after.json)).not.toContain(added.json.id);
  });

  it('a Discord URL is read hidden from stdin with -, and never printed back', async () => {
    const secretUrl = 'https://discord.com/api/webhooks/123456789012/abcdefghijklmnopqrstuvwxyz0123';
    const r = await runCli(['notify', 'add', 'discord', '-'], { env, input: `${secretUrl}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('abcdefghijklmnopqrstuvwxyz0123');
  });
});

describe('relay report --limit', () => {
  it('shows the last reports (GET /reports?limit=)', async () => {
    const posted = await runtime.client.postJobs({ url: files.url('report.bin') });
    await untilTerminal(runtime.client, [posted.jobs[0]!.id]);
    await runtime.pollNow();
    const r = await runCliJson<unknown>(['report', '--limit', '2'], { env });
    expect(r.code, r.stderr).toBe(0);
    const list = Array.isArray(r.json) ? r.json : (r.json as { reports: unknown[] }).reports;
    expect(list.length).toBeGreaterThan(0);
    expect(list.length).toBeLessThanOrEqual(2);
  });
});

describe('relay watch and the pacer (GET /status)', () => {
  it('watch says when 1fichier calls are paused, live', async () => {
    sandbox.setFaults({
      forceUnknownKo: 1,
      unknownKoMessage: 'Odd new answer #998',
      paths: ['remote/request.cgi'],
    });
    const posted = await runtime.client.postJobs({ url: files.url('pause.bin') });
    const id = posted.jobs[0]!.id;
    await until(
      async () => ((await runtime.client.getJob(id)) as { waitReason?: string }).waitReason?.includes('#998'),
      'the job to wait after the unknown answer',
      20_000,
    );
    const w = spawnCli(['watch', '--interval', '0.2'], { env });
    await until(
      () => /1fichier calls paused until \d\d:\d\d:\d\d; jobs wait/.test(w.output().stdout),
      'watch to show the pause',
      20_000,
    );
    w.child.kill('SIGINT');
    expect((await w.exited).code).toBe(0);
  });
});
