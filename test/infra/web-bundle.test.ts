/**
 * The status page as the Lambda serves it: `functions/api.ts` bundled like the CDK does, the API function's
 * `afterBundling` command (infra/cdk/web-assets.ts) run into the same directory, then the bundle's own
 * `handler` invoked in a child process with API Gateway v2 events for `GET /` and each asset. Nothing of
 * the repository is on that path: the page comes from `web-assets/` beside `index.mjs`. The same step writes
 * the on-demand feed tools (`feed-tools.mjs`, infra/cdk/on-demand.ts), tested below.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_CSP } from '../../functions/routes/web.js';
import { API_ON_DEMAND, onDemandCommands } from '../../infra/cdk/on-demand.js';
import { bundleLikeCdk, repoRoot } from '../../infra/cdk/tools/bundle.js';
import { WEB_ASSETS_DIR, webAssetCommands } from '../../infra/cdk/web-assets.js';
import { FEED_TOOLS_FILE, importFeedTools } from '../../shared/feeds/load-feed-tools.js';

const root = join(tmpdir(), `relay-api-bundle-${process.pid}`);
const dir = join(root, 'with-page');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Calls the bundled handler once per path (in a child: the handler reads its config from env). */
function invoke(
  paths: string[],
  at = dir,
): { path: string; statusCode: number; headers: Record<string, string>; body: string }[] {
  const script = join(at, 'invoke.mjs');
  writeFileSync(
    script,
    `import { handler } from './index.mjs';
const out = [];
for (const path of JSON.parse(process.argv[2])) {
  const r = await handler({
    version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: '', headers: { host: 'x.example' },
    requestContext: { http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 't' },
      domainName: 'x.example', requestId: 'r', routeKey: '$default', stage: '$default', timeEpoch: 0 },
    isBase64Encoded: false,
  }, {});
  const body = r.isBase64Encoded ? Buffer.from(r.body, 'base64').toString('utf8') : r.body;
  out.push({ path, statusCode: r.statusCode, headers: r.headers, body });
}
process.stdout.write(JSON.stringify(out));`,
  );
  const stdout = execFileSync(process.execPath, [script, JSON.stringify(paths)], {
    cwd: at,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      LAMBDA_TASK_ROOT: at,
      AWS_REGION: 'us-east-1',
      RELAY_TABLE_NAME: 'unused',
      RELAY_QUEUE_URL: 'http://127.0.0.1:9/queue',
      ONEFICHIER_SECRET_ID: 'unused',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  return JSON.parse(stdout);
}

// The bundle directory both groups of tests use: index.mjs plus what the afterBundling step writes.
beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  await bundleLikeCdk('functions/api.ts', { outfile: join(dir, 'index.mjs') });
  for (const cmd of [...webAssetCommands(repoRoot, dir), ...onDemandCommands(API_ON_DEMAND)(repoRoot, dir)]) {
    execFileSync('bash', ['-c', cmd], { cwd: repoRoot, stdio: 'pipe' });
  }
}, 60_000);

describe('the API Lambda bundle serves the status page', () => {
  it('answers GET / and every asset it names from web-assets/ beside index.mjs, with the CSP', () => {
    const [page] = invoke(['/']);
    expect(page).toMatchObject({ statusCode: 200 });
    expect(page!.headers['content-security-policy']).toBe(PAGE_CSP);
    const assets = [...page!.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toHaveLength(3);
    for (const a of invoke(assets)) {
      expect(a.statusCode, a.path).toBe(200);
      expect(a.headers['cache-control'], a.path).toContain('immutable');
    }
    expect(WEB_ASSETS_DIR).toBe('web-assets');
  });

  it('refuses an asset it does not have with a JSON 404', () => {
    const [missing] = invoke(['/assets/app-000000000000.js']);
    expect(missing!.statusCode).toBe(404);
    expect(JSON.parse(missing!.body)).toEqual({ error: { code: 'notFound', message: 'no such asset' } });
  });

  it('without the afterBundling step the same bundle says the page is missing (503), never builds it', () => {
    const bare = join(root, 'without-page');
    mkdirSync(bare, { recursive: true });
    copyFileSync(join(dir, 'index.mjs'), join(bare, 'index.mjs'));
    const [page] = invoke(['/'], bare);
    expect(page!.statusCode).toBe(503);
    expect(JSON.parse(page!.body).error.code).toBe('pageMissing');
  });
});

describe("the API Lambda bundle's on-demand feed tools", () => {
  const beside = () => pathToFileURL(join(dir, 'index.mjs'));

  it('are a bundle of their own beside index.mjs that works alone: a refused filter throws its own error class', () => {
    const script = join(dir, 'tools.mjs');
    writeFileSync(
      script,
      `const t = await import('./${FEED_TOOLS_FILE}');
let refused;
try { t.compileFilters({ include: ['(a+)+$'], exclude: [] }); } catch (err) { refused = err instanceof t.FeedFilterError; }
process.stdout.write(JSON.stringify({ url: t.FEED_TOOLS_URL, refused, kinds: [typeof t.previewFeed, typeof t.importFeeds] }));`,
    );
    const out = JSON.parse(
      execFileSync(process.execPath, [script], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      }),
    );
    expect(out).toEqual({
      url: pathToFileURL(join(dir, FEED_TOOLS_FILE)).href,
      refused: true,
      kinds: ['function', 'function'],
    });
  });

  it('are loaded from that file when it is beside the bundle, from the sources otherwise', async () => {
    expect((await importFeedTools(beside())).FEED_TOOLS_URL).toBe(
      pathToFileURL(join(dir, FEED_TOOLS_FILE)).href,
    );
    const bare = pathToFileURL(join(root, 'no-tools-here', 'index.mjs'));
    expect((await importFeedTools(bare)).FEED_TOOLS_URL).toMatch(/\/shared\/feeds\/feed-tools\.ts$/);
  });

  it('in a Lambda without the file, fail with a message naming it instead of reaching for the sources', async () => {
    const before = process.env.LAMBDA_TASK_ROOT;
    process.env.LAMBDA_TASK_ROOT = root;
    try {
      await expect(importFeedTools(pathToFileURL(join(root, 'nowhere', 'index.mjs')))).rejects.toThrow(
        `${FEED_TOOLS_FILE} is missing beside the bundle`,
      );
    } finally {
      if (before === undefined) delete process.env.LAMBDA_TASK_ROOT;
      else process.env.LAMBDA_TASK_ROOT = before;
    }
  });
});
