/**
 * Loads `feed-fetcher.ts` on the feeds reader's first fetch (`shared/app/on-demand.ts`). In a Lambda asset
 * the module is `feed-fetcher.mjs` beside the reader's bundle (its `afterBundling` step writes it:
 * infra/cdk/on-demand.ts).
 */
import { importOnDemand, loadOnce } from '../app/on-demand.js';

/** The module's exports. */
export type FeedFetcher = typeof import('./feed-fetcher.js');

/** Its file name beside a Lambda bundle. */
export const FEED_FETCHER_FILE = 'feed-fetcher.mjs';

/** The fetcher for code at `besideUrl`: the bundled file when it is there, else the source. */
export function importFeedFetcher(besideUrl: string | URL): Promise<FeedFetcher> {
  return importOnDemand<FeedFetcher>(
    {
      file: FEED_FETCHER_FILE,
      sourceUrl: new URL(['.', 'feed-fetcher.ts'].join('/'), import.meta.url).href,
      asset: 'feeds reader',
    },
    besideUrl,
  );
}

/** {@link importFeedFetcher} once per process; a failed load is tried again by the next caller. */
export const loadFeedFetcher: () => Promise<FeedFetcher> = loadOnce(() => importFeedFetcher(import.meta.url));
