/**
 * The feed routes (docs/feeds.md, "API"): subscribe, list, read with recent item decisions, change,
 * delete, preview, OPML import. A feed is always looked up through the caller's own user id, so another
 * user's feed is a 404 like a missing one.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import * as z from 'zod/mini';
import type { ApiDeps } from '../../shared/app/api-deps.js';
import { loadFeedTools } from '../../shared/feeds/load-feed-tools.js';
import { changeFeed, createFeed, FeedRefusedError } from '../../shared/feeds/manage-feeds.js';
import { FeedNotFoundError } from '../../shared/feeds/store.js';
import { decodeUtf8Body, readBodyCapped } from '../../shared/http/body.js';
import { HttpError } from '../../shared/http/errors.js';
import {
  checkFeedUrl,
  feedSchemas,
  isJsonType,
  MAX_BACKFILL,
  MAX_FEED_BODY_BYTES,
  MAX_INTERVAL_S,
  MAX_OPML_BYTES,
  MIN_INTERVAL_S,
  parseFeedCreate,
  parseFeedPatch,
  parseFeedPreview,
  parseImportBody,
} from '../../shared/http/feed-input.js';
import { presentDecision, presentFeed } from '../../shared/http/feed-present.js';
import type { ApiDocs } from '../../shared/http/openapi.js';
import type { ApiEnv } from './guard.js';
import { methodNotAllowed } from './method-not-allowed.js';

type Env = ApiEnv;

/** The token scope each feed route needs: reads need `read`, anything that changes state `full`. */
export const FEED_ROUTE_SCOPES = {
  'POST /feeds': 'full',
  'GET /feeds': 'read',
  'GET /feeds/{id}': 'read',
  'PATCH /feeds/{id}': 'full',
  'DELETE /feeds/{id}': 'full',
  // Fetches a URL the caller names: as costly as a change, though it stores nothing.
  'POST /feeds/preview': 'full',
  'POST /feeds/import': 'full',
} as const;

/** A route key of {@link FEED_ROUTE_SCOPES}. */
export type FeedRoute = keyof typeof FEED_ROUTE_SCOPES;
/** A scope a feed route needs. */
export type FeedScope = (typeof FEED_ROUTE_SCOPES)[FeedRoute];

/** The app's authentication step for a route needing `scope`; it sets `userId` or throws a 401/403. */
export type RequireScope = (scope: FeedScope) => MiddlewareHandler<Env>;

const MAX_ID_LENGTH = 64;

async function readText(c: Context<Env>, maxBytes: number): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > maxBytes) throw new HttpError(413, 'bodyTooLarge', `body is larger than ${maxBytes} bytes`);
  return decodeUtf8Body(await readBodyCapped(c.req.raw.body, maxBytes));
}

async function readJson(c: Context<Env>): Promise<string> {
  if (!isJsonType(c.req.header('content-type'))) {
    throw new HttpError(415, 'unsupportedMediaType', 'send application/json');
  }
  return readText(c, MAX_FEED_BODY_BYTES);
}

/** An OPML document with one feed, for the import examples. */
const OPML_EXAMPLE =
  '<?xml version="1.0"?><opml version="2.0"><head><title>podcasts</title></head><body>' +
  '<outline text="Example news" type="rss" xmlUrl="https://example.com/news.rss"/></body></opml>';

/**
 * Adds the feed routes to the OpenAPI document (`createApiDocs` calls it). `PATCH /feeds/{id}` and
 * `POST /feeds/preview` carry no example: the test that sends every example to the app would need an
 * existing feed id, and a preview fetches the URL.
 */
export function documentFeedRoutes(docs: ApiDocs): void {
  // Built here, not at import: only the first GET /openapi.json needs them.
  /** A feed as the routes show it (shared/http/feed-present.ts). */
  const feedViewSchema = z.looseObject({
    id: z.string(),
    url: z.string(),
    title: z.optional(z.string()),
    include: z.array(z.string()),
    exclude: z.array(z.string()),
    pick: z.string(),
    folder: z.string(),
    backfill: z.number(),
    intervalS: z.optional(z.number()),
    state: z.enum(['active', 'failing', 'disabled']),
    createdAt: z.string(),
    updatedAt: z.string(),
    lastFetchAt: z.optional(z.string()),
    lastStatus: z.optional(z.number()),
    lastError: z.optional(z.string()),
    nextFetchAt: z.optional(z.string()),
    consecutiveFailures: z.number(),
    warning: z.optional(z.string()),
    disabledReason: z.optional(z.string()),
  });
  const feedIdParam = {
    id: { schema: z.string().check(z.maxLength(MAX_ID_LENGTH)), description: 'the feed id' },
  };

  docs.add(
    {
      method: 'post',
      path: '/feeds',
      summary: 'Follow a feed (RSS, Atom, JSON Feed)',
      description:
        'Each new item enqueues its enclosure (or link, `pick: "link"`) as a job, if it passes the `include` ' +
        'and `exclude` regular expressions. The first fetch only records what is there, unless `backfill` ' +
        `asks for its newest items (at most ${MAX_BACKFILL}). \`intervalS\`: ${MIN_INTERVAL_S} to ${MAX_INTERVAL_S}.`,
      tags: ['feeds'],
      auth: 'token',
      body: {
        'application/json': {
          schema: feedSchemas().create,
          examples: {
            podcast: {
              url: 'https://example.com/podcast.xml',
              include: ['\\.mp3$'],
              folder: 'Podcasts',
              backfill: 2,
            },
          },
        },
      },
      responses: {
        201: { description: 'the feed', schema: feedViewSchema, headers: { Location: '`/feeds/<id>`' } },
      },
    },
    {
      method: 'get',
      path: '/feeds',
      summary: 'Your feeds',
      tags: ['feeds'],
      auth: 'token',
      responses: { 200: { description: 'your feeds', schema: z.object({ feeds: z.array(feedViewSchema) }) } },
    },
    {
      method: 'get',
      path: '/feeds/{id}',
      summary: 'One of your feeds, with its recent item decisions',
      tags: ['feeds'],
      auth: 'token',
      params: feedIdParam,
      responses: {
        200: {
          description: 'the feed and `items`: what was enqueued or skipped, and why',
          schema: z.looseObject({
            ...feedViewSchema.shape,
            items: z.array(z.looseObject({ at: z.string() })),
          }),
        },
      },
    },
    {
      method: 'patch',
      path: '/feeds/{id}',
      summary: 'Change a feed',
      description:
        'Only the fields sent change. A new `url` starts over with a baseline; new filters re-decide the ' +
        'items the old ones skipped; `enabled: true` re-enables a disabled feed; `intervalS: null` goes back ' +
        'to the default interval.',
      tags: ['feeds'],
      auth: 'token',
      params: feedIdParam,
      body: { 'application/json': { schema: feedSchemas().patch } },
      responses: { 200: { description: 'the feed', schema: feedViewSchema } },
    },
    {
      method: 'delete',
      path: '/feeds/{id}',
      summary: 'Stop following a feed',
      description: 'Jobs it already created are kept.',
      tags: ['feeds'],
      auth: 'token',
      params: feedIdParam,
      responses: { 204: { description: 'deleted' } },
    },
    {
      method: 'post',
      path: '/feeds/preview',
      summary: 'What a fetch of a feed would enqueue now, storing nothing',
      tags: ['feeds'],
      auth: 'token',
      body: { 'application/json': { schema: feedSchemas().preview } },
      responses: {
        200: {
          description: 'every item with its decision (`enqueue` with its URLs, or `skip` with the reason)',
          schema: z.looseObject({
            ok: z.literal(true),
            status: z.number(),
            format: z.string(),
            wouldEnqueue: z.number(),
            items: z.array(z.looseObject({ key: z.string(), decision: z.enum(['enqueue', 'skip']) })),
          }),
        },
      },
    },
    {
      method: 'post',
      path: '/feeds/import',
      summary: 'Follow every feed of an OPML document',
      description:
        `The OPML as the body (\`text/xml\`, \`application/xml\`, \`text/x-opml\`; at most ${MAX_OPML_BYTES} ` +
        'bytes), or JSON `{opml, folder?}`. Outlines that cannot be followed are listed in `refused`.',
      tags: ['feeds'],
      auth: 'token',
      body: {
        'application/json': {
          schema: feedSchemas().import,
          examples: { withFolder: { opml: OPML_EXAMPLE, folder: 'News' } },
        },
        'text/xml': { schema: z.string(), examples: { opml: OPML_EXAMPLE } },
      },
      responses: {
        201: {
          description: 'some feeds were created (200 when none was)',
          schema: z.object({
            feeds: z.array(feedViewSchema),
            refused: z.array(z.looseObject({ reason: z.string() })),
          }),
        },
      },
    },
  );
}

/**
 * Registers the feed routes on `app`. `requireScope` is the app's authentication middleware factory; each
 * route asks it for the scope in {@link FEED_ROUTE_SCOPES}.
 * @example
 * registerFeedRoutes(app, deps, (scope) => requireScope(scope));
 */
export function registerFeedRoutes(app: Hono<Env>, deps: ApiDeps, requireScope: RequireScope): void {
  const auth = (route: FeedRoute) => requireScope(FEED_ROUTE_SCOPES[route]);
  const inputOptions = { allowPrivateUrls: deps.config.allowPrivateUrls };

  const ownFeed = async (c: Context<Env>) => {
    const id = c.req.param('id') ?? '';
    const feed =
      id.length <= MAX_ID_LENGTH && /^[\w-]+$/.test(id)
        ? await deps.feeds.getFeed(c.get('userId'), id)
        : undefined;
    if (!feed) throw new HttpError(404, 'notFound', 'no such feed');
    return feed;
  };

  const refused = (err: unknown): never => {
    if (err instanceof FeedRefusedError) throw new HttpError(409, err.code, err.message);
    throw err;
  };

  app.post('/feeds/preview', auth('POST /feeds/preview'), async (c) => {
    const input = await parseFeedPreview(await readJson(c), inputOptions);
    // Loaded on first use: the HTTP client and the feed parser would otherwise be in every cold start.
    const { previewFeed } = await loadFeedTools();
    const preview = await previewFeed(input, deps);
    if (!preview.ok) {
      throw new HttpError(
        422,
        'feedUnreadable',
        `${preview.error}${preview.status ? ` (HTTP ${preview.status})` : ''}`,
      );
    }
    return c.json(preview, 200);
  });

  app.post('/feeds/import', auth('POST /feeds/import'), async (c) => {
    const text = await readText(c, MAX_OPML_BYTES);
    const { opml, folder } = parseImportBody(c.req.header('content-type'), text);
    const { importFeeds, OpmlError } = await loadFeedTools();
    let result: Awaited<ReturnType<typeof importFeeds>>;
    try {
      result = await importFeeds(
        c.get('userId'),
        opml,
        folder,
        (url) => checkFeedUrl(url, inputOptions, 'xmlUrl'),
        deps,
      );
    } catch (err) {
      if (err instanceof OpmlError) throw new HttpError(400, 'invalidOpml', err.message);
      throw err;
    }
    return c.json(
      { feeds: result.created.map(presentFeed), refused: result.refused },
      result.created.length ? 201 : 200,
    );
  });

  // Before `/feeds/:id`, so `GET /feeds/preview` is a 405 rather than "no such feed".
  app.all('/feeds/preview', methodNotAllowed('POST'));
  app.all('/feeds/import', methodNotAllowed('POST'));

  app.post('/feeds', auth('POST /feeds'), async (c) => {
    const input = await parseFeedCreate(await readJson(c), inputOptions);
    const feed = await createFeed(c.get('userId'), input, deps).catch(refused);
    c.header('Location', `/feeds/${feed.id}`);
    return c.json(presentFeed(feed), 201);
  });

  app.get('/feeds', auth('GET /feeds'), async (c) => {
    const feeds = await deps.feeds.listFeeds(c.get('userId'));
    return c.json({ feeds: feeds.map(presentFeed) });
  });

  app.get('/feeds/:id', auth('GET /feeds/{id}'), async (c) => {
    const feed = await ownFeed(c);
    const items = await deps.feeds.recentDecisions(feed.id);
    return c.json({ ...presentFeed(feed), items: items.map(presentDecision) });
  });

  app.patch('/feeds/:id', auth('PATCH /feeds/{id}'), async (c) => {
    const feed = await ownFeed(c);
    const changes = await parseFeedPatch(await readJson(c), inputOptions);
    if (changes.url !== undefined && changes.url !== feed.url) {
      const mine = await deps.feeds.listFeeds(feed.userId);
      if (mine.some((f) => f.url === changes.url)) {
        throw new HttpError(409, 'duplicateFeed', 'you already follow this feed URL');
      }
    }
    try {
      return c.json(presentFeed(await changeFeed(feed, changes, deps)));
    } catch (err) {
      if (err instanceof FeedNotFoundError) throw new HttpError(404, 'notFound', 'no such feed');
      throw err;
    }
  });

  app.delete('/feeds/:id', auth('DELETE /feeds/{id}'), async (c) => {
    const id = c.req.param('id');
    const deleted =
      id.length <= MAX_ID_LENGTH && /^[\w-]+$/.test(id) && (await deps.feeds.deleteFeed(c.get('userId'), id));
    if (!deleted) throw new HttpError(404, 'notFound', 'no such feed');
    deps.logger.info('feed deleted', { feedId: id });
    return c.body(null, 204);
  });
}
