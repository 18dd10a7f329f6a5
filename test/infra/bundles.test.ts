/**
 * Each Lambda bundles only what it uses: bundled like the CDK does, the API's import graph holds no
 * 1fichier client or pacer, no bundle holds the undici package, and the worker's and poller's no Hono.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type BundleResult, bundleLikeCdk } from '../../infra/cdk/tools/bundle.js';

const FORBIDDEN = {
  undici: /(^|\/)node_modules\/undici\//,
  fichierClient: /^shared\/fichier\/client\.ts$/,
  memoryPacer: /^shared\/fichier\/memory-pacer\.ts$/,
  dynamoPacer: /^shared\/aws\/dynamo-pacer\.ts$/,
  hono: /(^|\/)node_modules\/(hono|@hono\/[^/]+)\//,
};

const matching = (bundle: BundleResult, pattern: RegExp) => bundle.imported.filter((f) => pattern.test(f));

describe('Lambda bundles (esbuild metafile)', () => {
  const bundles: Record<'api' | 'worker' | 'poller', BundleResult> = {} as never;
  beforeAll(async () => {
    for (const name of ['api', 'worker', 'poller'] as const) {
      bundles[name] = await bundleLikeCdk(`functions/${name}.ts`);
    }
  }, 30_000);

  it('the API imports neither undici, nor the 1fichier client, nor a pacer', () => {
    const { undici, fichierClient, memoryPacer, dynamoPacer } = FORBIDDEN;
    for (const pattern of [undici, fichierClient, memoryPacer, dynamoPacer]) {
      expect(matching(bundles.api, pattern), String(pattern)).toEqual([]);
    }
    // The same check can see them: the worker does import the client and the DynamoDB pacer.
    expect(matching(bundles.worker, fichierClient)).toHaveLength(1);
    expect(matching(bundles.worker, dynamoPacer)).toHaveLength(1);
  });

  it("no function bundles the undici package: the 1fichier client uses Node's own fetch", () => {
    for (const name of ['api', 'worker', 'poller'] as const) {
      expect(matching(bundles[name], FORBIDDEN.undici), name).toEqual([]);
    }
  });

  it("the API bundles the status page's routes but neither esbuild nor the page builder", () => {
    expect(bundles.api.imported).toContain('functions/routes/web.ts');
    expect(matching(bundles.api, /(^|\/)node_modules\/esbuild\//)).toEqual([]);
    expect(matching(bundles.api, /^infra\/web\//)).toEqual([]);
    expect(matching(bundles.api, /^web\//)).toEqual([]);
  });

  it('the worker and the poller do not import Hono', () => {
    expect(matching(bundles.worker, FORBIDDEN.hono)).toEqual([]);
    expect(matching(bundles.poller, FORBIDDEN.hono)).toEqual([]);
    expect(matching(bundles.api, FORBIDDEN.hono).length).toBeGreaterThan(0);
  });
});
