/**
 * Request bodies of the feed routes: strict JSON schemas (an unknown field is a 400, so a typo such as
 * `exlude` is never silently ignored), then the feed rules — the URL through the SSRF guard's static
 * check, filters compiled and checked for catastrophic backtracking, the folder normalised. Everything is
 * validated before anything is written.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { builtOnFirstUse } from './built-on-first-use.js';

z.config(en());

import { loadFeedTools } from '../feeds/load-feed-tools.js';
import type { PickMode } from '../feeds/pick.js';
import type { FeedSettings } from '../feeds/store.js';
import { InvalidInputError, normaliseFolder, normaliseUrl } from '../jobs/normalise.js';
import { checkOutboundUrl } from '../net/url-guard.js';
import { HttpError } from './errors.js';
import { parseJsonBody } from './json-body.js';

/** Largest JSON body of a feed route. */
export const MAX_FEED_BODY_BYTES = 64 * 1024;
/** Largest OPML import (raw or inside `{opml}`). */
export const MAX_OPML_BYTES = 512 * 1024;
/** Most items of a first fetch that `backfill` may enqueue. */
export const MAX_BACKFILL = 100;
/** Shortest `intervalS`: the schedule's 5-minute floor, stated rather than silently applied. */
export const MIN_INTERVAL_S = 300;
/** Longest `intervalS` (one week). */
export const MAX_INTERVAL_S = 7 * 86_400;

/**
 * The bodies of `POST /feeds`, `PATCH /feeds/{id}`, `POST /feeds/preview` and `POST /feeds/import` (also in
 * the OpenAPI document), built by the first request that parses one.
 */
export const feedSchemas = builtOnFirstUse(() => {
  const patterns = z.array(z.string());
  const pick = z.enum(['enclosure', 'link']);
  const backfill = z.int().check(z.gte(0), z.lte(MAX_BACKFILL));
  const intervalS = z.int().check(z.gte(MIN_INTERVAL_S), z.lte(MAX_INTERVAL_S));

  /** The body of `POST /feeds` (also in the OpenAPI document). */
  const create = z.strictObject({
    url: z.string(),
    include: z.optional(patterns),
    exclude: z.optional(patterns),
    pick: z.optional(pick),
    folder: z.optional(z.nullable(z.string())),
    backfill: z.optional(backfill),
    intervalS: z.optional(z.nullable(intervalS)),
  });

  /** The body of `PATCH /feeds/{id}` (also in the OpenAPI document). */
  const patch = z.strictObject({
    url: z.optional(z.string()),
    include: z.optional(patterns),
    exclude: z.optional(patterns),
    pick: z.optional(pick),
    folder: z.optional(z.nullable(z.string())),
    intervalS: z.optional(z.nullable(intervalS)),
    enabled: z.optional(z.boolean()),
  });

  /** The body of `POST /feeds/preview` (also in the OpenAPI document). */
  const preview = z.strictObject({
    url: z.string(),
    include: z.optional(patterns),
    exclude: z.optional(patterns),
    pick: z.optional(pick),
    backfill: z.optional(backfill),
  });

  /** The JSON body of `POST /feeds/import` (also in the OpenAPI document). */
  const opmlImport = z.strictObject({
    opml: z.string(),
    folder: z.optional(z.nullable(z.string())),
  });
  return { create, patch, preview, import: opmlImport };
});

/** A validated `POST /feeds`: the feed's settings. */
export type FeedCreateInput = FeedSettings;

/** A validated `PATCH /feeds/{id}`: only the fields sent; `intervalS: null` goes back to the default. */
export interface FeedPatchInput {
  url?: string;
  include?: string[];
  exclude?: string[];
  pick?: PickMode;
  folder?: string;
  intervalS?: number | null;
  enabled?: boolean;
}

/** A validated `POST /feeds/preview`. */
export interface FeedPreviewInput {
  url: string;
  include: string[];
  exclude: string[];
  pick: PickMode;
  backfill?: number;
}

/** Options of the parsers. */
export interface FeedInputOptions {
  /** `RELAY_ALLOW_PRIVATE_URLS=1`. */
  allowPrivateUrls: boolean;
}

const parseJson = <T>(schema: z.ZodMiniType<T>, text: string, what: string): T =>
  parseJsonBody(schema, text, what);

/** A feed URL: a valid http(s) URL the SSRF guard accepts now (it checks again at every fetch). */
export function checkFeedUrl(raw: string, opts: FeedInputOptions, what = 'url'): string {
  let url: string;
  try {
    url = normaliseUrl(raw, what);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new HttpError(400, 'invalidUrl', err.message);
    throw err;
  }
  const verdict = checkOutboundUrl(url, { allowPrivate: opts.allowPrivateUrls });
  if (!verdict.ok) throw new HttpError(400, 'invalidUrl', `${what}: ${verdict.message}`);
  return url;
}

async function checkFilters(include: string[] | undefined, exclude: string[] | undefined): Promise<void> {
  if (!include?.length && !exclude?.length) return;
  // Loaded on first use: the backtracking checker need not be in every cold start of the API.
  const { compileFilters, FeedFilterError } = await loadFeedTools();
  try {
    compileFilters({ include: include ?? [], exclude: exclude ?? [] });
  } catch (err) {
    if (err instanceof FeedFilterError) throw new HttpError(400, 'invalidFilter', err.message);
    throw err;
  }
}

function folderOf(raw: string | null | undefined): string {
  try {
    return normaliseFolder(raw);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new HttpError(400, 'invalidFolder', err.message);
    throw err;
  }
}

const EXPECTED_CREATE =
  'expected {"url", "include"?, "exclude"?, "pick"?, "folder"?, "backfill"?, "intervalS"?}';

/** Parses and validates `POST /feeds`. Throws a 400 {@link HttpError} naming the first problem. */
export async function parseFeedCreate(text: string, opts: FeedInputOptions): Promise<FeedCreateInput> {
  const body = parseJson(feedSchemas().create, text, EXPECTED_CREATE);
  const url = checkFeedUrl(body.url, opts);
  await checkFilters(body.include, body.exclude);
  const input: FeedCreateInput = {
    url,
    include: body.include ?? [],
    exclude: body.exclude ?? [],
    pick: body.pick ?? 'enclosure',
    folder: folderOf(body.folder),
    backfill: body.backfill ?? 0,
  };
  if (typeof body.intervalS === 'number') input.intervalS = body.intervalS;
  return input;
}

/** Parses and validates `PATCH /feeds/{id}`. */
export async function parseFeedPatch(text: string, opts: FeedInputOptions): Promise<FeedPatchInput> {
  const body = parseJson(
    feedSchemas().patch,
    text,
    'expected some of {"url", "include", "exclude", "pick", "folder", "intervalS", "enabled"}',
  );
  if (Object.keys(body).length === 0) throw new HttpError(400, 'invalidBody', 'nothing to change');
  const out: FeedPatchInput = {};
  if (body.url !== undefined) out.url = checkFeedUrl(body.url, opts);
  await checkFilters(body.include, body.exclude);
  if (body.include !== undefined) out.include = body.include;
  if (body.exclude !== undefined) out.exclude = body.exclude;
  if (body.pick !== undefined) out.pick = body.pick;
  if (body.folder !== undefined) out.folder = folderOf(body.folder);
  if (body.intervalS !== undefined) out.intervalS = body.intervalS;
  if (body.enabled !== undefined) out.enabled = body.enabled;
  return out;
}

/** Parses and validates `POST /feeds/preview`. */
export async function parseFeedPreview(text: string, opts: FeedInputOptions): Promise<FeedPreviewInput> {
  const body = parseJson(
    feedSchemas().preview,
    text,
    'expected {"url", "include"?, "exclude"?, "pick"?, "backfill"?}',
  );
  const url = checkFeedUrl(body.url, opts);
  await checkFilters(body.include, body.exclude);
  return {
    url,
    include: body.include ?? [],
    exclude: body.exclude ?? [],
    pick: body.pick ?? 'enclosure',
    ...(body.backfill !== undefined ? { backfill: body.backfill } : {}),
  };
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

/** True for a JSON media type (`application/json`, `…+json`). */
export function isJsonType(contentType: string | undefined): boolean {
  const t = mediaType(contentType);
  return t === 'application/json' || t.endsWith('+json');
}

/**
 * `POST /feeds/import`: an OPML document as the body (`text/xml`, `application/xml`, `text/x-opml`…),
 * or JSON `{opml, folder?}`. Returns the OPML text and the folder for every imported feed.
 */
export function parseImportBody(
  contentType: string | undefined,
  text: string,
): { opml: string; folder: string } {
  const type = mediaType(contentType);
  if (isJsonType(contentType)) {
    const body = parseJson(feedSchemas().import, text, 'expected {"opml", "folder"?}');
    if (Buffer.byteLength(body.opml, 'utf8') > MAX_OPML_BYTES) {
      throw new HttpError(413, 'bodyTooLarge', `opml is larger than ${MAX_OPML_BYTES} bytes`);
    }
    return { opml: body.opml, folder: folderOf(body.folder) };
  }
  if (
    type === '' ||
    type.endsWith('/xml') ||
    type.endsWith('+xml') ||
    type === 'text/x-opml' ||
    type === 'text/plain'
  ) {
    return { opml: text, folder: '' };
  }
  throw new HttpError(
    415,
    'unsupportedMediaType',
    'send the OPML document as text/xml, or JSON {"opml": "..."}',
  );
}
