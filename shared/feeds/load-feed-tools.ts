/**
 * Loads `feed-tools.ts` on first use. In a Lambda asset the module is `feed-tools.mjs` beside the bundle
 * (the API function's `afterBundling` step writes it: infra/cdk/on-demand.ts); from the sources (the local
 * runtime, the tests) it is the TypeScript module. The specifiers are computed, so esbuild follows neither
 * and the tools stay out of the API's bundle.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The module's exports. */
export type FeedTools = typeof import('./feed-tools.js');

/** Its file name beside a Lambda bundle. */
export const FEED_TOOLS_FILE = 'feed-tools.mjs';

/**
 * The tools for code at `besideUrl` (a bundle's `import.meta.url`, or this module's): the bundled file when
 * it is there, else the source.
 */
export async function importFeedTools(besideUrl: string | URL): Promise<FeedTools> {
  const bundled = new URL(`./${FEED_TOOLS_FILE}`, besideUrl);
  if (existsSync(fileURLToPath(bundled))) return (await import(bundled.href)) as FeedTools;
  if (process.env.LAMBDA_TASK_ROOT) {
    throw new Error(`${FEED_TOOLS_FILE} is missing beside the bundle (the API asset was built without it)`);
  }
  const source = new URL(['.', 'feed-tools.ts'].join('/'), import.meta.url).href;
  return (await import(source)) as FeedTools;
}

let loading: Promise<FeedTools> | undefined;

/** {@link importFeedTools} once per process; a failed load is tried again by the next caller. */
export function loadFeedTools(): Promise<FeedTools> {
  loading ??= importFeedTools(import.meta.url).catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}
