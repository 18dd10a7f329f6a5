/**
 * Each Lambda bundles only what it uses: bundled like the CDK does, the API's import graph holds no
 * 1fichier client or pacer, no function holds the undici package (the SSRF-guarded client is built on
 * `node:http`, the 1fichier client on Node's own `fetch`), and the worker's, poller's and feeds reader's
 * no Hono.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ON_DEMAND, FEEDS_ON_DEMAND } from '../../infra/cdk/on-demand.js';
import { type BundleResult, bundleLikeCdk } from '../../infra/cdk/tools/bundle.js';
import { FEED_FETCHER_FILE } from '../../shared/feeds/load-feed-fetcher.js';
import { FEED_TOOLS_FILE } from '../../shared/feeds/load-feed-tools.js';

const FORBIDDEN = {
  undici: /(^|\/)node_modules\/undici\//,
  fichierClient: /^shared\/fichier\/client\.ts$/,
  memoryPacer: /^shared\/fichier\/memory-pacer\.ts$/,
  dynamoPacer: /^shared\/aws\/dynamo-pacer\.ts$/,
  hono: /(^|\/)node_modules\/(hono|@hono\/[^/]+)\//,
  zodClassic: /(^|\/)node_modules\/zod\/v4\/classic\//,
  zodOpenApi: /(^|\/)node_modules\/@hono\/zod-openapi\//,
};

/**
 * Most KiB zod may add to the API bundle: the `zod/mini` schemas plus zod's JSON Schema conversion behind
 * `GET /openapi.json` measured 49 KiB (2026-12-01; 20 KiB before the document). zod's classic API, which
 * `@hono/zod-openapi` needs, weighs about 440 KiB.
 */
const API_ZOD_BUDGET_KIB = 64;

const matching = (bundle: BundleResult, pattern: RegExp) => bundle.imported.filter((f) => pattern.test(f));

describe('Lambda bundles (esbuild metafile)', () => {
  const bundles: Record<
    'api' | 'worker' | 'poller' | 'feeds' | 'deliveries' | 'feedTools' | 'feedFetcher',
    BundleResult
  > = {} as never;
  beforeAll(async () => {
    for (const name of ['api', 'worker', 'poller', 'feeds', 'deliveries'] as const) {
      bundles[name] = await bundleLikeCdk(`functions/${name}.ts`);
    }
    // The API's on-demand module, bundled beside its index.mjs (infra/cdk/on-demand.ts).
    const [feedTools] = API_ON_DEMAND;
    bundles.feedTools = await bundleLikeCdk(feedTools!.entry);
    // The feeds reader's, loaded on the first feed a run fetches.
    const [feedFetcher] = FEEDS_ON_DEMAND;
    bundles.feedFetcher = await bundleLikeCdk(feedFetcher!.entry);
  }, 30_000);

  it('the API and the feeds reader import neither the 1fichier client nor a pacer', () => {
    const { fichierClient, memoryPacer, dynamoPacer } = FORBIDDEN;
    for (const pattern of [fichierClient, memoryPacer, dynamoPacer]) {
      expect(matching(bundles.feeds, pattern), String(pattern)).toEqual([]);
      expect(matching(bundles.api, pattern), String(pattern)).toEqual([]);
    }
    // The same check can see them: the worker does import the client and the DynamoDB pacer.
    expect(matching(bundles.worker, fichierClient)).toHaveLength(1);
    expect(matching(bundles.worker, dynamoPacer)).toHaveLength(1);
  });

  it("the 1fichier functions do not bundle the undici package: the 1fichier client uses Node's own fetch", () => {
    for (const name of ['worker', 'poller'] as const) {
      expect(matching(bundles[name], FORBIDDEN.undici), name).toEqual([]);
    }
  });

  it('the functions that fetch user-chosen URLs do not bundle the undici package: the SSRF-guarded client is on node:http', async () => {
    // The API and the feeds reader fetch feeds only in their on-demand modules.
    for (const name of ['feedTools', 'feedFetcher', 'deliveries'] as const) {
      expect(matching(bundles[name], FORBIDDEN.undici), name).toEqual([]);
      expect(bundles[name].imported, name).toContain('shared/net/guarded-fetch.ts');
    }
    // The same check sees the package when something does import it.
    const importing = await bundleLikeCdk({ contents: "export { request } from 'undici';" });
    expect(matching(importing, FORBIDDEN.undici).length).toBeGreaterThan(0);
  });

  it("the API's bundle holds neither the feed parser nor the backtracking checker: its on-demand feed tools do", () => {
    const heavy = /(^|\/)node_modules\/(feedsmith|fast-xml-parser|redos-detector|entities)\//;
    expect(matching(bundles.api, heavy)).toEqual([]);
    expect(matching(bundles.api, /^shared\/net\/guarded-fetch\.ts$/)).toEqual([]);
    expect(matching(bundles.feedTools, heavy).length).toBeGreaterThanOrEqual(4);
    // The bundle names the file it loads them from.
    expect(Buffer.from(bundles.api.code).toString('utf8')).toContain(FEED_TOOLS_FILE);
  });

  it("the feeds reader's bundle holds neither the feed parser nor the HTTP client: its on-demand fetcher does", () => {
    const parser = /(^|\/)node_modules\/(feedsmith|fast-xml-parser|entities)\//;
    expect(matching(bundles.feeds, parser)).toEqual([]);
    expect(matching(bundles.feeds, /^shared\/net\/guarded-fetch\.ts$/)).toEqual([]);
    expect(matching(bundles.feedFetcher, parser).length).toBeGreaterThanOrEqual(3);
    expect(Buffer.from(bundles.feeds.code).toString('utf8')).toContain(FEED_FETCHER_FILE);
  });

  it('the feeds reader, which reads no secret, does not bundle the Secrets Manager client', () => {
    const secrets = /(^|\/)node_modules\/@aws-sdk\/client-secrets-manager\//;
    expect(matching(bundles.feeds, secrets)).toEqual([]);
    // The same check sees the client where the key is read.
    for (const name of ['api', 'worker', 'poller'] as const) {
      expect(matching(bundles[name], secrets).length, name).toBeGreaterThan(0);
    }
  });

  it("the API bundles the status page's routes but neither esbuild nor the page builder", () => {
    expect(bundles.api.imported).toContain('functions/routes/web.ts');
    expect(matching(bundles.api, /(^|\/)node_modules\/esbuild\//)).toEqual([]);
    expect(matching(bundles.api, /^infra\/web\//)).toEqual([]);
    expect(matching(bundles.api, /^web\//)).toEqual([]);
  });

  it('the OpenAPI document costs the API bundle only zod/mini and its JSON Schema conversion', () => {
    expect(matching(bundles.api, FORBIDDEN.zodClassic)).toEqual([]);
    expect(matching(bundles.api, FORBIDDEN.zodOpenApi)).toEqual([]);
    expect(bundles.api.inputs.some((f) => f.endsWith('zod/v4/core/to-json-schema.js'))).toBe(true);
    expect((bundles.api.bytesByPackage.get('zod') ?? 0) / 1024).toBeLessThanOrEqual(API_ZOD_BUDGET_KIB);
  });

  it('the worker and the poller do not import Hono', () => {
    expect(matching(bundles.worker, FORBIDDEN.hono)).toEqual([]);
    expect(matching(bundles.poller, FORBIDDEN.hono)).toEqual([]);
    expect(matching(bundles.feeds, FORBIDDEN.hono)).toEqual([]);
    expect(matching(bundles.api, FORBIDDEN.hono).length).toBeGreaterThan(0);
  });
});
