/**
 * What the feeds use-cases need from storage, independent of DynamoDB: the feed aggregate (one record per
 * subscription, owned by one user), its lease, the item keys already handled, and the recent decisions
 * shown by `GET /feeds/{id}`. The DynamoDB adapter is `shared/aws/dynamo-feed-store.ts` (docs/feeds.md,
 * "Store").
 */
import type { PickMode } from './pick.js';

/** What a subscriber sets on a feed (`POST /feeds`, `PATCH /feeds/{id}`). */
export interface FeedSettings {
  /** The feed's URL (updated by a permanent redirect). */
  url: string;
  include: string[];
  exclude: string[];
  pick: PickMode;
  /** Destination folder of its jobs ('' for the root). */
  folder: string;
  /** Items of the first fetch to enqueue (newest first); the rest only form the baseline. */
  backfill: number;
  /** The owner's interval between fetches, seconds; the schedule policy's default when unset. */
  intervalS?: number;
}

/** A stored feed. Times are epoch ms. */
export interface FeedRecord extends FeedSettings {
  id: string;
  userId: string;
  createdAt: number;
  updatedAt: number;
  /** The feed's own title, from its latest readable fetch. */
  title?: string;
  /** Bumped when `include`, `exclude` or `pick` change: items skipped by older filters are decided again. */
  filterRev: number;
  /** The first successful fetch happened (its items formed the baseline). */
  baselined: boolean;
  /** When the feed is due; while a fetch holds the lease, the lease's end. Absent when disabled. */
  nextFetchAt?: number;
  lastFetchAt?: number;
  /** HTTP status of the latest fetch; 0 when there was no HTTP answer (DNS, refused, timeout, blocked). */
  lastStatus?: number;
  /** Why the latest fetch failed, for people; absent after a success. */
  lastError?: string;
  consecutiveFailures: number;
  /** Set when the feed is not fetched any more (410 Gone, or its owner disabled it). */
  disabledReason?: string;
  /** Validators of the latest 200, sent back as `If-None-Match` / `If-Modified-Since`. */
  etag?: string;
  lastModified?: string;
  /** sha256 of the latest body fully handled: an unchanged body is not looked at again… */
  contentHash?: string;
  /** …until {@link SEEN_REFRESH_DAYS} after this (epoch ms), when item keys are refreshed. */
  itemsCheckedAt?: number;
  /** The fetch holding the feed right now. */
  leaseToken?: string;
}

/** Why an item was not enqueued. */
export type SkipReason = 'filter' | 'duplicate' | 'noUrl' | 'invalidUrl' | 'tooOld' | 'baseline';

/** What happened to one item. */
export type ItemDecision =
  | { decision: 'enqueued'; key: string; title?: string; jobIds: string[]; at: number }
  | { decision: 'skipped'; key: string; title?: string; reason: SkipReason; detail?: string; at: number };

/** How an item's key was recorded: `e` enqueued, `b` baseline or too old, `s` skipped by filters/URL. */
export type SeenKind = 'e' | 'b' | 's';

/** One handled item key. */
export interface SeenRecord {
  key: string;
  kind: SeenKind;
  /** `filterRev` of the feed when a `s` decision was made. */
  rev: number;
  /** Epoch seconds after which the key is forgotten. */
  expiresAt: number;
}

/**
 * Changes to a feed. `set` fields are written, `remove` ones removed; `due` puts the feed in the due
 * index at that time (`null` takes it out: disabled).
 */
export interface FeedPatch {
  set?: Partial<Omit<FeedRecord, 'id' | 'userId' | 'createdAt' | 'leaseToken'>>;
  remove?: (keyof FeedRecord)[];
  due?: number | null;
}

/**
 * Item keys are written to live `FEEDS_SEEN_DAYS` plus this many days, and rewritten when a fetch still
 * sees the item with less than `FEEDS_SEEN_DAYS` left: so a key outlives the item's last sighting by at
 * least `FEEDS_SEEN_DAYS`, for one write per item every this many days rather than one per fetch.
 */
export const SEEN_REFRESH_DAYS = 7;

/** Base of the feed store's errors. */
export class FeedStoreError extends Error {
  override readonly name: string = 'FeedStoreError';
}

/** The feed is gone, or not this user's. */
export class FeedNotFoundError extends FeedStoreError {
  override readonly name = 'FeedNotFoundError';
}

/** The feed store. Feeds are always addressed through their owner: another user's feed does not exist. */
export interface FeedStore {
  /** Stores a new feed (due at `nextFetchAt`). */
  createFeed(feed: FeedRecord): Promise<void>;
  getFeed(userId: string, id: string): Promise<FeedRecord | undefined>;
  /** The user's feeds, oldest first (at most `limit`). */
  listFeeds(userId: string, limit?: number): Promise<FeedRecord[]>;
  /** Applies `patch` to an existing feed; throws {@link FeedNotFoundError} when there is none. */
  updateFeed(userId: string, id: string, patch: FeedPatch, now: number): Promise<FeedRecord>;
  /** Deletes the feed; false when there was none. Its item keys and decisions expire on their own. */
  deleteFeed(userId: string, id: string): Promise<boolean>;
  /** Feeds due at `now` (not disabled), earliest first, at most `limit`. */
  dueFeeds(now: number, limit: number): Promise<FeedRecord[]>;
  /**
   * Takes the feed for one fetch, if it is still as `dueFeeds` saw it (same `nextFetchAt`): moves it
   * out of the due window until `now + leaseMs` (a crashed fetch makes it due again then) and returns the
   * lease token; undefined when another invocation took it first, or it changed or went.
   */
  lease(feed: FeedRecord, now: number, leaseMs: number): Promise<string | undefined>;
  /** Applies a fetch's result if `token` still holds the feed, and releases it; false otherwise. */
  completeFetch(feed: FeedRecord, token: string, patch: FeedPatch, now: number): Promise<boolean>;
  /** The still-remembered records of these item keys. */
  seenItems(feedId: string, keys: readonly string[], now: number): Promise<Map<string, SeenRecord>>;
  /** Remembers item keys for the configured number of days, plus {@link SEEN_REFRESH_DAYS}, from `now`. */
  markSeen(feedId: string, records: readonly Omit<SeenRecord, 'expiresAt'>[], now: number): Promise<void>;
  /** The most recent item decisions, newest first. */
  recentDecisions(feedId: string): Promise<ItemDecision[]>;
  /** Adds decisions (newest first) in front of the recent ones, keeping the newest few. */
  recordDecisions(feedId: string, decisions: readonly ItemDecision[], now: number): Promise<void>;
}
