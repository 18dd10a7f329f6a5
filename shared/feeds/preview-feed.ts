/**
 * Use-case: what a fetch of a feed would enqueue now, storing nothing (like FlexGet's `--test`). Loaded
 * on demand by the API (it brings the SSRF-guarded HTTP client and the feed parser).
 */
import { decideItems } from './decide-items.js';
import { type FeedFetchResult, fetchFeedDocument } from './fetch-feed.js';
import { compileFilters } from './filters.js';
import type { ManageFeedsDeps } from './manage-feeds.js';
import type { PickMode } from './pick.js';
import type { FeedItem } from './types.js';

/** One item of a preview. */
export type PreviewItem = {
  title?: string;
  link?: string;
  published?: string;
  key: string;
} & ({ decision: 'enqueue'; urls: string[] } | { decision: 'skip'; reason: string; detail: string });

/** Result of {@link previewFeed}. */
export type PreviewResult =
  | {
      ok: true;
      status: number;
      finalUrl?: string;
      title?: string;
      format: string;
      items: PreviewItem[];
      wouldEnqueue: number;
    }
  | { ok: false; status: number; error: string };

/**
 * What a fetch of `input.url` would enqueue now with these filters, and why each other item would be
 * skipped. Nothing is stored and nothing is enqueued. With `backfill`, decides as a new subscription's
 * first fetch (only the newest `backfill` items); without, as a feed that has seen none of the items.
 */
export async function previewFeed(
  input: { url: string; include: string[]; exclude: string[]; pick: PickMode; backfill?: number },
  deps: ManageFeedsDeps,
): Promise<PreviewResult> {
  const fetched: FeedFetchResult = await fetchFeedDocument(
    { url: input.url },
    {
      maxBytes: deps.config.feedsMaxBytes,
      allowPrivate: deps.config.allowPrivateUrls,
      // The API answers within API Gateway's 30 s.
      totalTimeoutMs: 20_000,
      ...(deps.feedHttp ? { http: deps.feedHttp } : {}),
    },
  );
  if (fetched.kind === 'failed') return { ok: false, status: fetched.status, error: fetched.error };
  if (fetched.kind === 'notModified') {
    return { ok: false, status: 304, error: 'the feed answered 304 Not Modified to a plain GET' };
  }
  const now = deps.clock.now();
  const decision = decideItems(fetched.doc.items, {
    filters: compileFilters({ include: input.include, exclude: input.exclude }),
    pick: input.pick,
    filterRev: 0,
    baselined: input.backfill === undefined,
    backfill: input.backfill ?? 0,
    now,
    tooOldBefore: now - deps.config.feedsSeenDays * 86_400_000,
    seen: new Map(),
  });
  const describe = (item: FeedItem, key: string) => ({
    key,
    ...(item.title ? { title: item.title } : {}),
    ...(item.link ? { link: item.link } : {}),
    ...(item.published !== undefined ? { published: new Date(item.published).toISOString() } : {}),
  });
  const order = new Map(fetched.doc.items.map((item, i) => [item, i]));
  const items: (PreviewItem & { at: number })[] = [
    ...decision.enqueue.map((e) => ({
      ...describe(e.item, e.key),
      decision: 'enqueue' as const,
      urls: e.urls,
      at: order.get(e.item) ?? 0,
    })),
    ...decision.skipped.map((s) => ({
      ...describe(s.item, s.key),
      decision: 'skip' as const,
      reason: s.reason,
      detail: s.detail,
      at: order.get(s.item) ?? 0,
    })),
  ].sort((a, b) => a.at - b.at);
  return {
    ok: true,
    status: fetched.status,
    ...(fetched.movedTo ? { finalUrl: fetched.movedTo } : {}),
    ...(fetched.doc.title ? { title: fetched.doc.title } : {}),
    format: fetched.doc.format,
    items: items.map(({ at: _at, ...rest }) => rest as PreviewItem),
    wouldEnqueue: decision.enqueue.length,
  };
}
