/**
 * What the feeds reader loads on the first feed it fetches (`load-feed-fetcher.ts`): the fetch with its
 * SSRF-guarded HTTP client and the feed parser (feedsmith, fast-xml-parser, entities; about 220 KiB
 * minified). In a Lambda asset this is `feed-fetcher.mjs`, bundled on its own beside the reader's
 * `index.mjs`, so that a cold start, and a tick with no feed due, does not parse it.
 */
export { fetchFeedDocument } from './fetch-feed.js';

/** Where this copy of the module was loaded from (the tests tell the bundled file from the source). */
export const FEED_FETCHER_URL = import.meta.url;
