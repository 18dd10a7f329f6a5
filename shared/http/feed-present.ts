/** Feeds as the HTTP API shows them: ISO times, a state word, no storage plumbing (lease, validators). */
import { DEFAULT_FEED_SCHEDULE } from '../feeds/schedule.js';
import type { FeedRecord, ItemDecision } from '../feeds/store.js';

/** `active`, `failing` (3 or more failures in a row; still retried), or `disabled`. */
export type FeedState = 'active' | 'failing' | 'disabled';

/** A feed in API answers. */
export interface FeedView {
  id: string;
  url: string;
  title?: string;
  include: string[];
  exclude: string[];
  pick: string;
  folder: string;
  backfill: number;
  intervalS?: number;
  state: FeedState;
  createdAt: string;
  updatedAt: string;
  lastFetchAt?: string;
  lastStatus?: number;
  lastError?: string;
  nextFetchAt?: string;
  consecutiveFailures: number;
  /** For people, when the feed is failing. */
  warning?: string;
  disabledReason?: string;
}

/** An item decision in `GET /feeds/{id}`. */
export type ItemView = Omit<ItemDecision, 'at'> & { at: string };

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The API view of a feed. */
export function presentFeed(feed: FeedRecord): FeedView {
  const failing = feed.consecutiveFailures >= DEFAULT_FEED_SCHEDULE.warnAfterFailures;
  const state: FeedState = feed.disabledReason ? 'disabled' : failing ? 'failing' : 'active';
  const view: FeedView = {
    id: feed.id,
    url: feed.url,
    ...(feed.title ? { title: feed.title } : {}),
    include: feed.include,
    exclude: feed.exclude,
    pick: feed.pick,
    folder: feed.folder,
    backfill: feed.backfill,
    ...(feed.intervalS !== undefined ? { intervalS: feed.intervalS } : {}),
    state,
    createdAt: iso(feed.createdAt)!,
    updatedAt: iso(feed.updatedAt)!,
    consecutiveFailures: feed.consecutiveFailures,
  };
  if (feed.lastFetchAt !== undefined) view.lastFetchAt = iso(feed.lastFetchAt)!;
  if (feed.lastStatus !== undefined) view.lastStatus = feed.lastStatus;
  if (feed.lastError) view.lastError = feed.lastError;
  if (feed.nextFetchAt !== undefined && !feed.disabledReason) view.nextFetchAt = iso(feed.nextFetchAt)!;
  if (state === 'failing') {
    view.warning = `the last ${feed.consecutiveFailures} fetches failed; the relay keeps retrying with a growing wait (at most 6 h)`;
  }
  if (feed.disabledReason) view.disabledReason = feed.disabledReason;
  return view;
}

/** The API view of an item decision. */
export function presentDecision(d: ItemDecision): ItemView {
  return { ...d, at: new Date(d.at).toISOString() } as ItemView;
}
