/**
 * The status page in the API function's bundle: after esbuild bundles `functions/api.ts`, the CDK runs
 * `infra/web/build.ts` (through tsx, from the project's own node_modules, offline) to write the page's files
 * under `web-assets/` beside `index.mjs`. `functions/routes/web.ts` serves them from there in AWS.
 */
import { tsxCommand } from './tsx-command.js';

/** Directory of the page's files inside the API bundle (beside `index.mjs`). */
export const WEB_ASSETS_DIR = 'web-assets';

/**
 * The `afterBundling` command hook of the API function (`commandHooks` of NodejsFunction): one shell command
 * that builds the page into `<outputDir>/web-assets`. Local bundling runs it with the project root as its
 * working directory, so `--import tsx` resolves the project's tsx.
 */
export function webAssetCommands(inputDir: string, outputDir: string): string[] {
  return [tsxCommand(`${inputDir}/infra/web/build.ts`, `${outputDir}/${WEB_ASSETS_DIR}`)];
}
