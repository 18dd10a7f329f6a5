/**
 * Use-cases behind the feed routes: subscribe and change (the OPML import is `import-feeds.ts`, the
 * preview `preview-feed.ts`: the API loads those, and the feed parser and HTTP client they need, only
 * when they are called). Input arrives validated (`shared/http/feed-input.ts`).
 */
import { randomBytes } from 'node:crypto';
import type { Deps } from '../app/deps.js';
import { FeedError } from './errors.js';
import type { FeedHttpClient } from './fetch-feed.js';
import type { PickMode } from './pick.js';
import type { FeedPatch, FeedRecord, FeedSettings, FeedStore } from './store.js';

/** Most feeds one user may have: each costs a fetch every few minutes. */
export const MAX_FEEDS_PER_USER = 200;

/** What the management use-cases use. */
export type ManageFeedsDeps = Pick<Deps, 'config' | 'clock' | 'logger'> & {
  feeds: FeedStore;
  feedHttp?: FeedHttpClient;
};

/** A new subscription as validated input: the feed's settings. */
export type NewFeedInput = FeedSettings;

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
