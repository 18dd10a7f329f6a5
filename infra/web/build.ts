/**
 * Builds the status page (`web/`) with esbuild: `web/src/main.ts` bundled and minified for browsers,
 * `web/static/app.css` and `favicon.svg`, and `web/static/index.html` naming them all content-hashed, so the page can be
 * cached for good and a new build is never mixed with an old one.
 *
 * Used two ways, one build either way:
 * - in memory, by the API's page route when it runs from the sources (`npm start`, tests): it imports this
 *   module on the first request for the page (`functions/routes/web.ts`);
 * - as a command, by the CDK bundling of the API function (`afterBundling`, infra/cdk/web-assets.ts):
 *   `tsx infra/web/build.ts <dir>` writes the files next to the Lambda bundle, where the route reads them.
 * Nothing here needs the network.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Repository root. */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** One file of the page: its path under `/` and its bytes. */
export interface WebAsset {
  /** `index.html`, `assets/app-<hash>.js`, `assets/app-<hash>.css`, `assets/favicon-<hash>.svg`. */
  name: string;
  contentType: string;
  body: Uint8Array;
}

/** Browsers the bundle targets (evergreen ones, including the Chromium the tests drive). */
export const WEB_TARGET = ['chrome110', 'firefox115', 'safari16'];

const hash12 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 12);

/** Builds every file of the page in memory. */
export async function buildWebAssets(): Promise<WebAsset[]> {
  const out = await build({
    entryPoints: [join(root, 'web/src/main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: WEB_TARGET,
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
    absWorkingDir: root,
    tsconfig: join(root, 'web/tsconfig.json'),
  });
  const js = out.outputFiles[0]?.contents;
  if (!js) throw new Error('esbuild wrote no JavaScript for the status page');
  const files: WebAsset[] = [
    { name: 'app.js', contentType: 'text/javascript; charset=utf-8', body: js },
    {
      name: 'app.css',
      contentType: 'text/css; charset=utf-8',
      body: readFileSync(join(root, 'web/static/app.css')),
    },
    {
      name: 'favicon.svg',
      contentType: 'image/svg+xml',
      body: readFileSync(join(root, 'web/static/favicon.svg')),
    },
  ].map((f) => {
    const dot = f.name.lastIndexOf('.');
    return { ...f, name: `assets/${f.name.slice(0, dot)}-${hash12(f.body)}${f.name.slice(dot)}` };
  });
  let html = readFileSync(join(root, 'web/static/index.html'), 'utf8');
  for (const [i, plain] of ['app.js', 'app.css', 'favicon.svg'].entries()) {
    const ref = `"/assets/${plain}"`;
    if (!html.includes(ref)) throw new Error(`web/static/index.html must reference ${ref}`);
    html = html.replace(ref, `"/${files[i]!.name}"`);
  }
  return [
    { name: 'index.html', contentType: 'text/html; charset=utf-8', body: new TextEncoder().encode(html) },
    ...files,
  ];
}

/** Writes the page's files under `dir` (`dir/index.html`, `dir/assets/...`) plus a `manifest.json`. */
export async function writeWebAssets(dir: string): Promise<WebAsset[]> {
  const assets = await buildWebAssets();
  for (const a of assets) {
    mkdirSync(dirname(join(dir, a.name)), { recursive: true });
    writeFileSync(join(dir, a.name), a.body);
  }
  const manifest = assets.map(({ name, contentType }) => ({ name, contentType }));
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return assets;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: tsx infra/web/build.ts <output dir>\n');
    process.exit(2);
  }
  const assets = await writeWebAssets(resolve(dir));
  process.stdout.write(`status page: ${assets.map((a) => a.name).join(', ')} in ${dir}\n`);
}
