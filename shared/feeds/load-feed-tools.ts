/**
 * Loads `feed-tools.ts` on first use (`shared/app/on-demand.ts`). In a Lambda asset the module is
 * `feed-tools.mjs` beside the API's bundle (its `afterBundling` step writes it: infra/cdk/on-demand.ts).
 */
import { importOnDemand, loadOnce } from '../app/on-demand.js';

/** The module's exports. */
export type FeedTools = typeof import('./feed-tools.js');

/** Its file name beside a Lambda bundle. */
export const FEED_TOOLS_FILE = 'feed-tools.mjs';

/**
 * The tools for code at `besideUrl` (a bundle's `import.meta.url`, or this module's): the bundled file when
 * it is there, else the source.
 */
export function importFeedTools(besideUrl: string | URL): Promise<FeedTools> {
  return importOnDemand<FeedTools>(
    {
      file: FEED_TOOLS_FILE,
      sourceUrl: new URL(['.', 'feed-tools.ts'].join('/'), import.meta.url).href,
      asset: 'API',
    },
    besideUrl,
  );
}

/** {@link importFeedTools} once per process; a failed load is tried again by the next caller. */
export const loadFeedTools: () => Promise<FeedTools> = loadOnce(() => importFeedTools(import.meta.url));
