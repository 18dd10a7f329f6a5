/**
 * What the API loads only for the requests that need it (`load-feed-tools.ts`): the feed preview, the OPML
 * import and the filter check, with the HTTP client, the feed parser and the backtracking checker they
 * bring (about 250 KiB minified). In a Lambda asset this is `feed-tools.mjs`, bundled on its own beside
 * the API's `index.mjs`, so that the API's cold start does not parse it.
 *
 * The error classes come from here too: an `instanceof` must test the class of the copy that threw.
 */
export { FeedFilterError, OpmlError } from './errors.js';
export { compileFilters } from './filters.js';
export { importFeeds } from './import-feeds.js';
export { previewFeed } from './preview-feed.js';

/** Where this copy of the module was loaded from (the tests tell the bundled file from the source). */
export const FEED_TOOLS_URL = import.meta.url;
