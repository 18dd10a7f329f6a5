/**
 * The pure heart of a feed fetch: which items of a document are new, which become jobs, which are
 * skipped and why. No I/O: the caller passes what the store remembers, and acts on the answer
 * (enqueue, then remember). Used by the scheduled fetch and, with nothing remembered, by preview.
 */
import { InvalidInputError, normaliseUrl } from '../jobs/normalise.js';
import { itemKey } from './dedupe.js';
import { type CompiledFilters, decide } from './filters.js';
import { type PickMode, urlsToEnqueue } from './pick.js';
import type { SeenKind, SeenRecord, SkipReason } from './store.js';
import type { FeedItem } from './types.js';

/** What the decision depends on, besides the items. */
export interface DecideContext {
  filters: CompiledFilters;
  pick: PickMode;
  /** The feed's `filterRev`: an item skipped under an older one is decided again. */
  filterRev: number;
  /** False on the first successful fetch: only the newest `backfill` items may be enqueued. */
  baselined: boolean;
  backfill: number;
  /** Epoch ms. */
  now: number;
  /** Items published before this (epoch ms) are too old: their key may already be forgotten. */
  tooOldBefore?: number;
  /** What the store remembers of these items' keys. */
  seen: ReadonlyMap<string, SeenRecord>;
}

/** An item that becomes jobs. */
export interface ItemToEnqueue {
  key: string;
  item: FeedItem;
  /** Normalised job URLs, each once. */
  urls: string[];
}

/** An item that does not. */
export interface ItemSkipped {
  key: string;
  item: FeedItem;
  reason: SkipReason;
  /** Readable detail: the filter that refused it, the bad URL's problem… */
  detail: string;
  /** How to remember it; undefined for a repeat within the document (its first copy is remembered). */
  remember?: SeenKind;
}

/** The decision for one document. */
export interface ItemsDecision {
  enqueue: ItemToEnqueue[];
  skipped: ItemSkipped[];
  /** Keys of items handled by an earlier fetch (not decided again). */
  alreadySeen: string[];
}

/** Whether a remembered key settles the item under the current filters. */
export function settles(record: SeenRecord | undefined, filterRev: number): boolean {
  if (!record) return false;
  return record.kind !== 's' || record.rev === filterRev;
}

/**
 * Decides every item of a document (feed order). Repeats of a key within the document are skipped as
 * duplicates; remembered keys are not decided again; on the first fetch all but the newest `backfill`
 * items form the baseline; then age, filters and the URLs to pick decide.
 */
export function decideItems(items: readonly FeedItem[], ctx: DecideContext): ItemsDecision {
  const out: ItemsDecision = { enqueue: [], skipped: [], alreadySeen: [] };
  const firstOf = new Map<string, number>();
  const keyed = items.map((item, index) => ({ item, index, key: itemKey(item) }));
  const fresh: typeof keyed = [];
  for (const k of keyed) {
    if (firstOf.has(k.key)) {
      if (!settles(ctx.seen.get(k.key), ctx.filterRev)) {
        out.skipped.push({
          key: k.key,
          item: k.item,
          reason: 'duplicate',
          detail: 'the same item appears earlier in this document',
        });
      }
      continue;
    }
    firstOf.set(k.key, k.index);
    if (settles(ctx.seen.get(k.key), ctx.filterRev)) out.alreadySeen.push(k.key);
    else fresh.push(k);
  }

  let allowed: Set<string> | undefined;
  if (!ctx.baselined) {
    // Newest first by date; undated items keep feed order (feeds list newest first).
    const newest = [...keyed.filter((k) => firstOf.get(k.key) === k.index)]
      .sort((a, b) => (b.item.published ?? -Infinity) - (a.item.published ?? -Infinity) || a.index - b.index)
      .slice(0, Math.max(0, ctx.backfill));
    allowed = new Set(newest.map((k) => k.key));
  }

  for (const { item, key } of fresh) {
    if (allowed && !allowed.has(key)) {
      out.skipped.push({
        key,
        item,
        reason: 'baseline',
        detail: 'already in the feed when it was subscribed (see backfill)',
        remember: 'b',
      });
      continue;
    }
    // Backfill is the owner's explicit request for the newest items, however old they are.
    if (
      !allowed &&
      ctx.tooOldBefore !== undefined &&
      item.published !== undefined &&
      item.published < ctx.tooOldBefore
    ) {
      out.skipped.push({
        key,
        item,
        reason: 'tooOld',
        detail: `published ${new Date(item.published).toISOString()}, before the dedupe window`,
        remember: 'b',
      });
      continue;
    }
    const verdict = decide(item, ctx.filters);
    if (!verdict.accept) {
      out.skipped.push({ key, item, reason: 'filter', detail: verdict.reason, remember: 's' });
      continue;
    }
    const picked = urlsToEnqueue(item, ctx.pick);
    if (picked.length === 0) {
      out.skipped.push({
        key,
        item,
        reason: 'noUrl',
        detail:
          ctx.pick === 'link' ? 'the item has no http(s) link' : 'the item has no http(s) enclosure or link',
        remember: 's',
      });
      continue;
    }
    const urls: string[] = [];
    const problems: string[] = [];
    for (const url of picked) {
      try {
        urls.push(normaliseUrl(url));
      } catch (err) {
        if (!(err instanceof InvalidInputError)) throw err;
        problems.push(err.message);
      }
    }
    if (urls.length === 0) {
      out.skipped.push({ key, item, reason: 'invalidUrl', detail: problems.join('; '), remember: 's' });
      continue;
    }
    out.enqueue.push({ key, item, urls: [...new Set(urls)] });
  }
  return out;
}
