/**
 * Use-cases behind the feed routes: subscribe, change, import an OPML list, preview. Input arrives
 * validated (`shared/http/feed-input.ts`); these decide what is stored.
 */
import { randomBytes } from 'node:crypto';
import type { Deps } from '../app/deps.js';
import { decideItems } from './decide-items.js';
import { FeedError } from './errors.js';
import { type FeedFetchResult, type FeedHttpClient, fetchFeedDocument } from './fetch-feed.js';
import { compileFilters } from './filters.js';
import { DEFAULT_OPML_LIMITS, type OpmlOutlineRef, parseOpmlFeeds } from './opml.js';
import type { PickMode } from './pick.js';
import type { FeedPatch, FeedRecord, FeedStore } from './store.js';
import type { FeedItem } from './types.js';

/** Most feeds one user may have: each costs a fetch every few minutes. */
export const MAX_FEEDS_PER_USER = 200;

/** What the management use-cases use. */
export type ManageFeedsDeps = Pick<Deps, 'config' | 'clock' | 'logger'> & {
  feeds: FeedStore;
  feedHttp?: FeedHttpClient;
};

/** A new subscription as validated input. */
export interface NewFeedInput {
  url: string;
  include: string[];
  exclude: string[];
  pick: PickMode;
  folder: string;
  backfill: number;
  intervalS?: number;
}

/** Why a subscription was refused (the route maps it to a 409). */
export class FeedRefusedError extends FeedError {
  override name = 'FeedRefusedError';
  constructor(
    readonly code: 'duplicateFeed' | 'tooManyFeeds',
    message: string,
  ) {
    super(message);
  }
}

/** A new feed id: random, URL-safe. */
export function newFeedId(): string {
  return `fd_${randomBytes(9).toString('base64url')}`;
}

/**
 * Subscribes `userId` to a feed, due at once (the first fetch forms the baseline). Refuses a URL the user
 * already follows and more than {@link MAX_FEEDS_PER_USER} feeds.
 */
export async function createFeed(
  userId: string,
  input: NewFeedInput,
  deps: ManageFeedsDeps,
  existing?: FeedRecord[],
): Promise<FeedRecord> {
  const mine = existing ?? (await deps.feeds.listFeeds(userId, MAX_FEEDS_PER_USER + 1));
  if (mine.some((f) => f.url === input.url)) {
    throw new FeedRefusedError('duplicateFeed', 'you already follow this feed URL');
  }
  if (mine.length >= MAX_FEEDS_PER_USER) {
    throw new FeedRefusedError('tooManyFeeds', `at most ${MAX_FEEDS_PER_USER} feeds per user`);
  }
  const now = deps.clock.now();
  const feed: FeedRecord = {
    id: newFeedId(),
    userId,
    url: input.url,
    include: input.include,
    exclude: input.exclude,
    pick: input.pick,
    folder: input.folder,
    backfill: input.backfill,
    ...(input.intervalS !== undefined ? { intervalS: input.intervalS } : {}),
    createdAt: now,
    updatedAt: now,
    filterRev: 0,
    baselined: false,
    nextFetchAt: now,
    consecutiveFailures: 0,
  };
  await deps.feeds.createFeed(feed);
  mine.push(feed);
  deps.logger.info('feed created', { feedId: feed.id });
  return feed;
}

/** Changes to a feed as validated input. */
export interface FeedChanges {
  url?: string;
  include?: string[];
  exclude?: string[];
  pick?: PickMode;
  folder?: string;
  intervalS?: number | null;
  enabled?: boolean;
}

/**
 * Applies a `PATCH`: a new URL starts over with a baseline (it may be another feed); new filters or
 * `pick` re-decide items the old ones skipped; `enabled: true` clears a disabled state and makes the
 * feed due now, `enabled: false` takes it out of the schedule.
 */
export async function changeFeed(
  feed: FeedRecord,
  changes: FeedChanges,
  deps: ManageFeedsDeps,
): Promise<FeedRecord> {
  const now = deps.clock.now();
  const set: NonNullable<FeedPatch['set']> = {};
  const remove: NonNullable<FeedPatch['remove']> = [];
  let due: number | null | undefined;
  if (changes.url !== undefined && changes.url !== feed.url) {
    set.url = changes.url;
    set.baselined = false;
    remove.push('etag', 'lastModified', 'contentHash');
    if (!feed.disabledReason) due = now;
  }
  const filtersChanged =
    (changes.include !== undefined && !sameList(changes.include, feed.include)) ||
    (changes.exclude !== undefined && !sameList(changes.exclude, feed.exclude)) ||
    (changes.pick !== undefined && changes.pick !== feed.pick);
  if (changes.include !== undefined) set.include = changes.include;
  if (changes.exclude !== undefined) set.exclude = changes.exclude;
  if (changes.pick !== undefined) set.pick = changes.pick;
  if (filtersChanged) {
    set.filterRev = feed.filterRev + 1;
    // The next fetch must look at the items again even if the document has not changed.
    if (!remove.includes('contentHash')) remove.push('contentHash');
  }
  if (changes.folder !== undefined) set.folder = changes.folder;
  if (changes.intervalS === null) remove.push('intervalS');
  else if (changes.intervalS !== undefined) set.intervalS = changes.intervalS;
  if (changes.enabled === true && feed.disabledReason !== undefined) {
    remove.push('disabledReason');
    set.consecutiveFailures = 0;
    due = now;
  } else if (changes.enabled === false && feed.disabledReason === undefined) {
    set.disabledReason = 'disabled by its owner; PATCH {"enabled": true} to resume';
    due = null;
  }
  const updated = await deps.feeds.updateFeed(
    feed.userId,
    feed.id,
    { set, remove, ...(due !== undefined ? { due } : {}) },
    now,
  );
  deps.logger.info('feed changed', { feedId: feed.id });
  return updated;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** One outline the import did not subscribe to. */
export interface ImportRefusal {
  outline: OpmlOutlineRef;
  reason: string;
}

/** Result of {@link importFeeds}. */
export interface ImportResult {
  created: FeedRecord[];
  refused: ImportRefusal[];
}

/**
 * One feed per OPML outline, with default settings and `folder`. Outlines that cannot be followed (no
 * URL, not http(s), refused by the SSRF guard, already followed, over the per-user cap) are reported with
 * the reason; the others are created. `checkUrl` is the same URL check `POST /feeds` applies.
 * Throws {@link FeedError} (`OpmlError`) when the document is not OPML or has too many outlines.
 */
export async function importFeeds(
  userId: string,
  opml: string,
  folder: string,
  checkUrl: (url: string) => string,
  deps: ManageFeedsDeps,
): Promise<ImportResult> {
  const parsed = parseOpmlFeeds(opml, DEFAULT_OPML_LIMITS);
  const result: ImportResult = { created: [], refused: [...parsed.refused] };
  const mine = await deps.feeds.listFeeds(userId, MAX_FEEDS_PER_USER + 1);
  for (const f of parsed.feeds) {
    const outline: OpmlOutlineRef = { xmlUrl: f.url, ...(f.title ? { title: f.title } : {}) };
    let url: string;
    try {
      url = checkUrl(f.url);
    } catch (err) {
      result.refused.push({ outline, reason: (err as Error).message });
      continue;
    }
    try {
      result.created.push(
        await createFeed(
          userId,
          { url, include: [], exclude: [], pick: 'enclosure', folder, backfill: 0 },
          deps,
          mine,
        ),
      );
    } catch (err) {
      if (!(err instanceof FeedRefusedError)) throw err;
      result.refused.push({ outline, reason: err.message });
    }
  }
  return result;
}

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
