/**
 * One polite HTTP fetch of a feed: conditional GET (ETag, Last-Modified), the relay's User-Agent, the
 * SSRF-guarded client of `shared/net/` with its connect and total timeouts, a size cap, at most 5
 * redirects. The answer is classified once here into a {@link FeedFetchResult}: a document, "not
 * modified", or a failure with the {@link FetchOutcome} the schedule policy needs and a reason a person
 * can read. Nothing here throws for anything the remote side does.
 */
import { createHash } from 'node:crypto';
import { OutboundError, ResponseTooLargeError } from '../net/errors.js';
import {
  FEED_FETCH,
  type GuardedFetchOptions,
  type GuardedResponse,
  guardedFetch,
} from '../net/guarded-fetch.js';
import { decodeFeedBytes } from './decode.js';
import { FeedParseError } from './errors.js';
import { parseFeedDocument } from './parse.js';
import type { FetchOutcome, ScheduleHeaders } from './schedule.js';
import type { FeedDocument } from './types.js';

/** The HTTP client (guardedFetch's signature), injectable for unit tests. */
export type FeedHttpClient = (url: string, opts: GuardedFetchOptions) => Promise<GuardedResponse>;

/** Redirect statuses after which the stored URL is replaced (RFC 9110 §15.4.2 and §15.4.9). */
export const PERMANENT_REDIRECTS: ReadonlySet<number> = new Set([301, 308]);

/** Input of {@link fetchFeedDocument}. */
export interface FeedFetchRequest {
  url: string;
  etag?: string;
  lastModified?: string;
}

/** Options of {@link fetchFeedDocument}. */
export interface FeedFetchOptions {
  /** `FEEDS_MAX_BYTES`. */
  maxBytes: number;
  /** `RELAY_ALLOW_PRIVATE_URLS=1`. */
  allowPrivate: boolean;
  /** The whole call, redirects and body included. @default FEED_FETCH.totalTimeoutMs (60 s) */
  totalTimeoutMs?: number;
  /** @default guardedFetch */
  http?: FeedHttpClient;
}

/** Fields every result carries. */
interface ResultBase {
  /** HTTP status of the final answer; 0 when there was none. */
  status: number;
  /** Where the leading run of 301/308 hops ended, when the feed moved for good. */
  movedTo?: string;
  headers: ScheduleHeaders;
}

/** What one fetch gave. */
export type FeedFetchResult =
  | (ResultBase & {
      kind: 'document';
      doc: FeedDocument;
      /** sha256 (hex) of the body as received. */
      contentHash: string;
      etag?: string;
      lastModified?: string;
    })
  | (ResultBase & { kind: 'notModified' })
  | (ResultBase & { kind: 'failed'; outcome: FetchOutcome; error: string });

/**
 * Fetches and parses a feed.
 * @example
 * const result = await fetchFeedDocument(feed, { maxBytes: config.feedsMaxBytes, allowPrivate: false });
 */
export async function fetchFeedDocument(
  req: FeedFetchRequest,
  opts: FeedFetchOptions,
): Promise<FeedFetchResult> {
  const headers: Record<string, string> = {
    accept:
      'application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1',
  };
  if (req.etag) headers['if-none-match'] = req.etag;
  if (req.lastModified) headers['if-modified-since'] = req.lastModified;
  let res: GuardedResponse;
  try {
    res = await (opts.http ?? guardedFetch)(req.url, {
      ...FEED_FETCH,
      operation: 'feed fetch',
      headers,
      maxBodyBytes: opts.maxBytes,
      totalTimeoutMs: Math.min(FEED_FETCH.totalTimeoutMs, opts.totalTimeoutMs ?? FEED_FETCH.totalTimeoutMs),
      allowPrivate: opts.allowPrivate,
    });
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
    const status = err instanceof ResponseTooLargeError ? err.status : 0;
    // The message names the redacted URL only (shared/net/errors.ts).
    return { kind: 'failed', status, headers: {}, outcome: { kind: 'network' }, error: err.message };
  }
  const scheduleHeaders: ScheduleHeaders = {
    cacheControl: header(res, 'cache-control'),
    retryAfter: header(res, 'retry-after'),
  };
  const base: ResultBase = { status: res.status, headers: scheduleHeaders };
  const moved = movedTo(res);
  if (moved) base.movedTo = moved;

  if (res.status === 304) return { ...base, kind: 'notModified' };
  if (res.status < 200 || res.status > 299) {
    return {
      ...base,
      kind: 'failed',
      outcome: { kind: 'http', status: res.status, headers: scheduleHeaders },
      error: `the feed answered HTTP ${res.status}`,
    };
  }
  let doc: FeedDocument;
  try {
    const text = decodeFeedBytes(res.body, header(res, 'content-type')).text;
    doc = parseFeedDocument(text, { documentUrl: res.url });
  } catch (err) {
    if (!(err instanceof FeedParseError)) throw err;
    return { ...base, kind: 'failed', outcome: { kind: 'unreadable' }, error: err.message };
  }
  const result: FeedFetchResult = {
    ...base,
    kind: 'document',
    doc,
    contentHash: createHash('sha256').update(res.body).digest('hex'),
  };
  const etag = header(res, 'etag');
  const lastModified = header(res, 'last-modified');
  if (etag) result.etag = etag;
  if (lastModified) result.lastModified = lastModified;
  return result;
}

/** The URL after the leading 301/308 hops; a 302/307 (temporary) ends the run. */
function movedTo(res: GuardedResponse): string | undefined {
  let url: string | undefined;
  for (const hop of res.redirects) {
    if (!PERMANENT_REDIRECTS.has(hop.status)) break;
    url = hop.location;
  }
  return url;
}

function header(res: GuardedResponse, name: string): string | undefined {
  const v = res.headers[name];
  const s = Array.isArray(v) ? v.join(', ') : v;
  return s?.trim() ? s.trim() : undefined;
}
