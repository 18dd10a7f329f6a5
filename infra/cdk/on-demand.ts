/**
 * Modules a function loads only for the requests that need them, bundled as files of their own beside its
 * `index.mjs` (the function's `afterBundling` step), so that its cold start does not parse them:
 * - the API's feed tools (preview, OPML import, filter check: the feed parser and the backtracking checker,
 *   ~290 KiB), which `shared/feeds/load-feed-tools.ts` loads;
 * - the feeds reader's fetcher (the guarded HTTP client and the feed parser, ~220 KiB), which
 *   `shared/feeds/load-feed-fetcher.ts` loads on the first feed a run fetches.
 */
import { FEED_FETCHER_FILE } from '../../shared/feeds/load-feed-fetcher.js';
import { FEED_TOOLS_FILE } from '../../shared/feeds/load-feed-tools.js';
import { tsxCommand } from './tsx-command.js';

/** One on-demand module: its entry (from the repository root) and its file name beside `index.mjs`. */
export interface OnDemandModule {
  entry: string;
  file: string;
}

/** The API function's on-demand modules. */
export const API_ON_DEMAND: readonly OnDemandModule[] = [
  { entry: 'shared/feeds/feed-tools.ts', file: FEED_TOOLS_FILE },
];

/** The feeds reader's on-demand modules. */
export const FEEDS_ON_DEMAND: readonly OnDemandModule[] = [
  { entry: 'shared/feeds/feed-fetcher.ts', file: FEED_FETCHER_FILE },
];

/**
 * `afterBundling` commands that bundle each module like the function itself (`tools/bundle-module.ts`,
 * the same esbuild settings, a source map beside it). Local bundling runs them from the project root.
 */
export function onDemandCommands(
  modules: readonly OnDemandModule[],
): (inputDir: string, outputDir: string) => string[] {
  return (inputDir, outputDir) =>
    modules.map((m) =>
      tsxCommand(
        `${inputDir}/infra/cdk/tools/bundle-module.ts`,
        `${inputDir}/${m.entry}`,
        `${outputDir}/${m.file}`,
      ),
    );
}
