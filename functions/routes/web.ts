/**
 * The status page: `GET /` (no auth: the page signs in in the browser, with a token kept in
 * `sessionStorage`), its content-hashed assets under `/assets/`, and `GET /status`, the one read the page
 * makes every few seconds (the caller's jobs and the pacer; shared/status/status.ts).
 *
 * Where the page's files come from:
 * - in AWS, from `web-assets/` beside the bundle: the API function's CDK bundling writes them there with
 *   `infra/web/build.ts` (infra/cdk/web-assets.ts);
 * - elsewhere (`npm start`, tests), built in memory with esbuild on the first request for the page, by
 *   importing `infra/web/build.ts` at run time. That import is by a computed URL, so esbuild leaves it out
 *   of the Lambda bundle (test/infra/bundles.test.ts checks).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import * as z from 'zod/mini';
import type { ApiDeps } from '../../shared/app/api-deps.js';
import { errorBody, HttpError } from '../../shared/http/errors.js';
import type { ApiDocs } from '../../shared/http/openapi.js';
import { loadStatus } from '../../shared/status/status.js';

/** One file of the page (the shape `infra/web/build.ts` produces). */
export interface PageAsset {
  name: string;
  contentType: string;
  body: Uint8Array;
}

/** Loads the page's files once; keyed by name (`index.html`, `assets/app-<hash>.js`). */
export type PageAssetSource = () => Promise<Map<string, PageAsset>>;

/**
 * The Content-Security-Policy of the page and its assets: everything from the relay's own origin, no
 * inline script or style, no plugins, no framing, no `<base>`, forms only back to the relay.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every answer of the page's routes. */
export const PAGE_HEADERS: Record<string, string> = {
  'Content-Security-Policy': PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  'Strict-Transport-Security': 'max-age=31536000',
};

/** Files written next to the Lambda bundle (`<bundle dir>/web-assets/manifest.json` lists them). */
export function fileAssetSource(dir: URL): PageAssetSource {
  return async () => {
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as {
      name: string;
      contentType: string;
    }[];
    return new Map(
      manifest.map((m) => [m.name, { ...m, body: new Uint8Array(readFileSync(new URL(m.name, dir))) }]),
    );
  };
}

/** The page built in memory from `web/` (needs esbuild: the sources, not a Lambda). */
export const builtAssetSource: PageAssetSource = async () => {
  // A computed specifier: esbuild does not follow it, so neither the builder nor esbuild enter a bundle.
  const builder = new URL(['..', '..', 'infra', 'web', 'build.ts'].join('/'), import.meta.url).href;
  const { buildWebAssets } = (await import(builder)) as { buildWebAssets: () => Promise<PageAsset[]> };
  return new Map((await buildWebAssets()).map((a) => [a.name, a]));
};

/** Files beside the bundle when they are there (AWS), else a build from the sources. */
export function defaultAssetSource(): PageAssetSource {
  const bundled = new URL('./web-assets/', import.meta.url);
  if (existsSync(new URL('manifest.json', bundled))) return fileAssetSource(bundled);
  if (process.env.LAMBDA_TASK_ROOT) {
    return async () => {
      throw new HttpError(503, 'pageMissing', 'the status page was not bundled with this function');
    };
  }
  return builtAssetSource;
}

/**
 * The routes {@link registerWebRoutes} adds, for the API's route list and its documentation (the OpenAPI
 * document, API Gateway's routes in infra/cdk/api.ts).
 */
export const WEB_ROUTES = [
  { method: 'GET', path: '/', auth: 'none', summary: 'the status page (HTML)' },
  {
    method: 'GET',
    path: '/assets/{name}',
    auth: 'none',
    summary: "the page's hashed script, stylesheet and icon",
  },
  {
    method: 'GET',
    path: '/status',
    auth: 'token (read)',
    summary: "the caller's jobs of the last 24 h (counts, per hour, the newest with hints) and the pacer",
  },
] as const;

/** Adds {@link WEB_ROUTES} to the OpenAPI document (`createApiDocs` calls it). */
export function documentWebRoutes(docs: ApiDocs): void {
  // Built here, not at import: only the first GET /openapi.json needs them.
  /** The body of `GET /status` (shared/status/status.ts `StatusView`). */
  const statusSchema = z.looseObject({
    now: z.string(),
    window: z.object({ since: z.string(), jobs: z.number(), partial: z.boolean() }),
    counts: z.record(z.string(), z.number()),
    hours: z.array(
      z.object({ hour: z.string(), submitted: z.number(), done: z.number(), failed: z.number() }),
    ),
    recent: z.array(z.looseObject({ id: z.string(), status: z.string() })),
    pacer: z.nullable(
      z.looseObject({
        pausedUntil: z.nullable(z.string()),
        floodCount: z.number(),
        circuit: z.looseObject({ open: z.boolean() }),
      }),
    ),
  });

  const [page, assets, status] = WEB_ROUTES;
  docs.add(
    {
      method: 'get',
      path: page.path,
      summary: page.summary,
      description: 'Public: the page holds no data; it signs in in the browser and reads `GET /status`.',
      tags: ['status page'],
      auth: 'none',
      responses: { 200: { description: '`text/html`, with a strict Content-Security-Policy' } },
    },
    {
      method: 'get',
      path: assets.path,
      summary: assets.summary,
      tags: ['status page'],
      auth: 'none',
      params: { name: { schema: z.string(), description: 'a content-hashed file name from the page' } },
      responses: { 200: { description: 'the file, cached for a year (its name changes with its content)' } },
    },
    {
      method: 'get',
      path: status.path,
      summary: status.summary,
      tags: ['status page'],
      auth: 'token',
      responses: {
        200: { description: '`pacer` is null when the relay has no 1fichier key', schema: statusSchema },
      },
    },
  );
}

type WebEnv = { Variables: { userId: string } };

/** Options of {@link registerWebRoutes}. */
export interface WebRouteOptions {
  /** @default {@link defaultAssetSource} */
  assets?: PageAssetSource;
}

/**
 * Registers `GET /`, `GET /assets/:name` and `GET /status` on the API app. `auth` is the app's token
 * middleware (sets `userId`); `/` and `/assets/*` need none.
 */
export function registerWebRoutes<E extends WebEnv>(
  app: Hono<E>,
  deps: Pick<ApiDeps, 'store' | 'remotes' | 'pacer' | 'keyProvider' | 'clock'>,
  auth: MiddlewareHandler<E>,
  opts: WebRouteOptions = {},
): void {
  const source = opts.assets ?? defaultAssetSource();
  let loading: Promise<Map<string, PageAsset>> | undefined;
  const assets = () => {
    loading ??= source().catch((err: unknown) => {
      loading = undefined; // try again on the next request
      throw err;
    });
    return loading;
  };

  const serve = (c: Context<E>, asset: PageAsset, cache: string) => {
    for (const [name, value] of Object.entries(PAGE_HEADERS)) c.header(name, value);
    c.header('Content-Type', asset.contentType);
    c.header('Cache-Control', cache);
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200);
  };

  app.get('/', async (c) => {
    const page = (await assets()).get('index.html');
    if (!page) throw new HttpError(503, 'pageMissing', 'the status page has no index.html');
    // Always revalidated: it names the current assets.
    return serve(c, page, 'no-store');
  });

  app.get('/assets/:name', async (c) => {
    const asset = (await assets()).get(`assets/${c.req.param('name')}`);
    if (!asset) {
      for (const [name, value] of Object.entries(PAGE_HEADERS)) c.header(name, value);
      return c.json(errorBody('notFound', 'no such asset'), 404);
    }
    // Content-hashed names: a new build has new names.
    return serve(c, asset, 'public, max-age=31536000, immutable');
  });

  app.use('/status', auth);
  app.get('/status', async (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json(await loadStatus(c.get('userId'), deps));
  });
}
