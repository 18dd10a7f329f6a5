/**
 * Use-cases of the feeds reader: `refreshFeed` (one leased feed: fetch, decide, enqueue, remember,
 * reschedule) and `runDueFeeds` (every due feed that fits the invocation's time budget; the rest stay due
 * for the next tick). An item is remembered only after its jobs were created: a crash in between makes
 * the next fetch enqueue it again, and the job id (hash of user, URL, folder) turns that into a duplicate.
 */
import type { Deps } from '../app/deps.js';
import { enqueueJobs } from '../jobs/enqueue.js';
import { decideItems, type ItemsDecision } from './decide-items.js';
import { itemKey } from './dedupe.js';
import type { FeedFetchResult, FeedHttpClient } from './fetch-feed.js';
import { compileFilters } from './filters.js';
import { loadFeedFetcher } from './load-feed-fetcher.js';
import { nextFetch } from './schedule.js';
import {
  type FeedPatch,
  type FeedRecord,
  type FeedStore,
  type ItemDecision,
  SEEN_REFRESH_DAYS,
  type SeenRecord,
} from './store.js';

/** What the feeds reader uses. */
export type FeedsDeps = Pick<
  Deps,
  'config' | 'store' | 'queue' | 'pollTimer' | 'clock' | 'logger' | 'metrics'
> & {
  feeds: FeedStore;
  /** The HTTP client; guardedFetch unless a test passes another. */
  feedHttp?: FeedHttpClient;
};

/** Longest one fetch may take (FEED_FETCH's total timeout). */
export const FEED_FETCH_TIMEOUT_MS = 60_000;
/** Time kept after a fetch for enqueueing and writing its results. */
const AFTER_FETCH_MS = 10_000;
/** A lease outlives the longest fetch and its writes; a crashed fetch's feed is due again after it. */
export const FEED_LEASE_MS = FEED_FETCH_TIMEOUT_MS + 2 * AFTER_FETCH_MS;
/** Below this much time left, no new feed is taken (the next tick takes it). */
export const MIN_FEED_SLICE_MS = 5_000 + AFTER_FETCH_MS;
/** Job requests per enqueueJobs call. */
const ENQUEUE_CHUNK = 100;

/** The job `source` of a feed's jobs. */
export function feedSource(feedId: string): `feed:${string}` {
  return `feed:${feedId}`;
}

/** What one refresh did. */
export interface RefreshResult {
  feedId: string;
  status: number;
  kind: FeedFetchResult['kind'];
  enqueuedItems: number;
  jobs: number;
  skipped: number;
  /** The lease was lost before the results were written (the feed changed or went meanwhile). */
  lost: boolean;
}

/**
 * Fetches one feed held by `token`, enqueues its new items, remembers them, and writes the schedule.
 * Throws only when the relay's own storage or queue fails; the lease then runs out and the feed is
 * fetched again.
 */
export async function refreshFeed(
  feed: FeedRecord,
  token: string,
  deps: FeedsDeps,
  opts: { totalTimeoutMs?: number } = {},
): Promise<RefreshResult> {
  const { config, clock, feeds, logger } = deps;
  // Loaded on the first fetch: a tick with nothing due never parses the HTTP client or the feed parser.
  const { fetchFeedDocument } = await loadFeedFetcher();
  const result = await fetchFeedDocument(feed, {
    maxBytes: config.feedsMaxBytes,
    allowPrivate: config.allowPrivateUrls,
    ...(opts.totalTimeoutMs !== undefined ? { totalTimeoutMs: opts.totalTimeoutMs } : {}),
    ...(deps.feedHttp ? { http: deps.feedHttp } : {}),
  });
  const now = clock.now();
  const patch: FeedPatch = { set: { lastFetchAt: now, lastStatus: result.status }, remove: [] };
  if (result.movedTo && result.movedTo !== feed.url) {
    patch.set!.url = result.movedTo;
    logger.info('feed moved permanently', { feedId: feed.id });
  }
  const summary: RefreshResult = {
    feedId: feed.id,
    status: result.status,
    kind: result.kind,
    enqueuedItems: 0,
    jobs: 0,
    skipped: 0,
    lost: false,
  };

  if (result.kind === 'failed') {
    const decision = nextFetch({
      nowMs: now,
      outcome: result.outcome,
      previousFailures: feed.consecutiveFailures,
      ...(feed.intervalS ? { intervalMs: feed.intervalS * 1000 } : {}),
    });
    patch.set!.consecutiveFailures = decision.consecutiveFailures;
    patch.set!.lastError = result.error;
    if (decision.disabled) {
      patch.set!.disabledReason = decision.reason;
      patch.due = null;
    } else patch.due = decision.nextFetchAt;
    logger.warn('feed fetch failed', {
      feedId: feed.id,
      status: result.status,
      failures: decision.consecutiveFailures,
      error: result.error,
    });
    deps.metrics.count('FeedFetchFailures');
  } else {
    if (result.kind === 'document') {
      const unchanged =
        feed.baselined &&
        feed.contentHash !== undefined &&
        feed.contentHash === result.contentHash &&
        now - (feed.itemsCheckedAt ?? 0) < SEEN_REFRESH_DAYS * 86_400_000;
      if (!unchanged) {
        const outcome = await handleItems(feed, result, deps, now);
        summary.enqueuedItems = outcome.enqueuedItems;
        summary.jobs = outcome.jobs;
        summary.skipped = outcome.skipped;
        patch.set!.itemsCheckedAt = now;
      }
      if (result.doc.title) patch.set!.title = result.doc.title.slice(0, 200);
      patch.set!.baselined = true;
      patch.set!.contentHash = result.contentHash;
      if (result.etag) patch.set!.etag = result.etag;
      else patch.remove!.push('etag');
      if (result.lastModified) patch.set!.lastModified = result.lastModified;
      else patch.remove!.push('lastModified');
    }
    const decision = nextFetch({
      nowMs: now,
      outcome: {
        kind: 'ok',
        status: result.kind === 'document' ? 200 : 304,
        headers: result.headers,
        ...(result.kind === 'document'
          ? {
              hints: {
                ...(result.doc.ttlMinutes !== undefined ? { ttlMinutes: result.doc.ttlMinutes } : {}),
                ...(result.doc.syndication ? { syndication: result.doc.syndication } : {}),
              },
            }
          : {}),
      },
      previousFailures: feed.consecutiveFailures,
      ...(feed.intervalS ? { intervalMs: feed.intervalS * 1000 } : {}),
    });
    if (!decision.disabled) patch.due = decision.nextFetchAt;
    patch.set!.consecutiveFailures = 0;
    patch.remove!.push('lastError');
    deps.metrics.count('FeedFetches');
  }
  summary.lost = !(await feeds.completeFetch(feed, token, patch, clock.now()));
  if (summary.lost) logger.info('feed changed during its fetch; results not written', { feedId: feed.id });
  return summary;
}

/** Decides a document's items, enqueues the new ones, then remembers them and logs the decisions. */
async function handleItems(
  feed: FeedRecord,
  result: Extract<FeedFetchResult, { kind: 'document' }>,
  deps: FeedsDeps,
  now: number,
): Promise<{ enqueuedItems: number; jobs: number; skipped: number }> {
  const { feeds, config } = deps;
  const { decision, seen } = await decideFeed(feed, result.doc.items, deps, now);
  // Items still in the feed whose key would expire less than FEEDS_SEEN_DAYS from now.
  const refreshBefore = Math.floor(now / 1000) + config.feedsSeenDays * 86_400;
  const refresh = decision.alreadySeen.flatMap((key) => {
    const r = seen.get(key);
    return r && r.expiresAt < refreshBefore ? [{ key, kind: r.kind, rev: r.rev }] : [];
  });
  const decisions: ItemDecision[] = [];
  const jobIdsByUrl = new Map<string, { id: string; duplicate: boolean }>();
  const requests = decision.enqueue.flatMap((e) => e.urls.map((url) => ({ url, folder: feed.folder })));
  for (let i = 0; i < requests.length; i += ENQUEUE_CHUNK) {
    const jobs = await enqueueJobs(
      { userId: feed.userId, source: feedSource(feed.id), requests: requests.slice(i, i + ENQUEUE_CHUNK) },
      deps,
    );
    for (const j of jobs) jobIdsByUrl.set(j.url, { id: j.id, duplicate: j.duplicate });
  }
  let jobCount = 0;
  for (const e of decision.enqueue) {
    const jobs = e.urls.map((u) => jobIdsByUrl.get(u)).filter((j) => j !== undefined);
    const title = e.item.title;
    const jobIds = jobs.map((j) => j.id);
    if (jobs.every((j) => j.duplicate)) {
      decisions.push({
        decision: 'skipped',
        key: e.key,
        ...(title ? { title } : {}),
        reason: 'duplicate',
        detail: `already a job: ${jobIds.join(', ')}`,
        at: now,
      });
    } else {
      jobCount += jobs.filter((j) => !j.duplicate).length;
      decisions.push({ decision: 'enqueued', key: e.key, ...(title ? { title } : {}), jobIds, at: now });
    }
  }
  for (const s of decision.skipped) {
    const title = s.item.title;
    decisions.push({
      decision: 'skipped',
      key: s.key,
      ...(title ? { title } : {}),
      reason: s.reason,
      detail: s.detail,
      at: now,
    });
  }
  // Only now, with every job created: remember the items.
  await feeds.markSeen(
    feed.id,
    [
      ...decision.enqueue.map((e) => ({ key: e.key, kind: 'e' as const, rev: feed.filterRev })),
      ...decision.skipped.flatMap((s) =>
        s.remember ? [{ key: s.key, kind: s.remember, rev: feed.filterRev }] : [],
      ),
      ...refresh,
    ],
    now,
  );
  await feeds.recordDecisions(feed.id, decisions, now);
  if (jobCount) deps.metrics.count('FeedJobs', jobCount);
  return { enqueuedItems: decision.enqueue.length, jobs: jobCount, skipped: decision.skipped.length };
}

/** {@link decideItems} for a stored feed, with what the store remembers. */
export async function decideFeed(
  feed: Pick<FeedRecord, 'id' | 'include' | 'exclude' | 'pick' | 'filterRev' | 'baselined' | 'backfill'>,
  items: Parameters<typeof decideItems>[0],
  deps: Pick<FeedsDeps, 'feeds' | 'config'>,
  now: number,
): Promise<{ decision: ItemsDecision; seen: Map<string, SeenRecord> }> {
  const seen = await deps.feeds.seenItems(feed.id, items.map(itemKey), now);
  const decision = decideItems(items, {
    filters: compileFilters({ include: feed.include, exclude: feed.exclude }),
    pick: feed.pick,
    filterRev: feed.filterRev,
    baselined: feed.baselined,
    backfill: feed.backfill,
    now,
    tooOldBefore: now - deps.config.feedsSeenDays * 86_400_000,
    seen,
  });
  return { decision, seen };
}

/** Options of {@link runDueFeeds}. */
export interface RunDueOptions {
  /** Epoch ms by which the run must have finished (the Lambda's deadline less a margin). */
  deadline: number;
  /** Feeds fetched at once. @default 4 */
  concurrency?: number;
}

/** What one run did. */
export interface RunDueSummary {
  fetched: number;
  failed: number;
  jobs: number;
  /** Due feeds another invocation had leased first. */
  leasedElsewhere: number;
  /** Refreshes that threw (storage or queue trouble); their feeds come back when the lease ends. */
  errors: number;
  /** The run stopped taking feeds because its time budget ran out; more may be due. */
  outOfTime: boolean;
}

/**
 * Fetches due feeds until none is left or the time budget is spent. Each feed is taken through its
 * lease, so overlapping invocations never fetch one feed twice.
 */
export async function runDueFeeds(deps: FeedsDeps, opts: RunDueOptions): Promise<RunDueSummary> {
  const { clock, feeds, logger } = deps;
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const summary: RunDueSummary = {
    fetched: 0,
    failed: 0,
    jobs: 0,
    leasedElsewhere: 0,
    errors: 0,
    outOfTime: false,
  };
  const timeLeft = () => opts.deadline - clock.now();
  const tried = new Set<string>();
  for (;;) {
    if (timeLeft() < MIN_FEED_SLICE_MS) {
      summary.outOfTime = true;
      break;
    }
    const due = (await feeds.dueFeeds(clock.now(), 25)).filter((f) => !tried.has(f.id));
    if (due.length === 0) break;
    let next = 0;
    const lane = async () => {
      while (next < due.length) {
        const left = timeLeft();
        if (left < MIN_FEED_SLICE_MS) {
          summary.outOfTime = true;
          return;
        }
        const feed = due[next++]!;
        tried.add(feed.id);
        const token = await feeds.lease(feed, clock.now(), FEED_LEASE_MS);
        if (!token) {
          summary.leasedElsewhere += 1;
          continue;
        }
        try {
          const r = await refreshFeed(feed, token, deps, {
            totalTimeoutMs: Math.max(1_000, left - AFTER_FETCH_MS),
          });
          summary.fetched += 1;
          summary.jobs += r.jobs;
          if (r.kind === 'failed') summary.failed += 1;
        } catch (err) {
          summary.errors += 1;
          logger.error('feed refresh failed; it is fetched again when its lease ends', {
            feedId: feed.id,
            error: err as Error,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, lane));
    if (summary.outOfTime) break;
  }
  return summary;
}
