/**
 * `tsx infra/cdk/tools/bundle-module.ts <entry.ts> <out.mjs>`: bundles one module the way the CDK bundles a
 * function (`bundleLikeCdk`, with a source map), for the on-demand modules written beside a function's
 * `index.mjs` (`infra/cdk/on-demand.ts`).
 */
import { bundleLikeCdk } from './bundle.js';

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  process.stderr.write('usage: bundle-module.ts <entry.ts> <out.mjs>\n');
  process.exit(2);
}
const bundle = await bundleLikeCdk(entry, { outfile, sourcemap: true });
process.stdout.write(`${outfile}: ${(bundle.bytes / 1024).toFixed(0)} KiB\n`);
