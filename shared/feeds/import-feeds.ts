/**
 * Use-case: subscribe to every feed of an OPML subscription list. Loaded on demand by the API (it brings
 * the feed parser).
 */
import { createFeed, FeedRefusedError, MAX_FEEDS_PER_USER, type ManageFeedsDeps } from './manage-feeds.js';
import { DEFAULT_OPML_LIMITS, type OpmlOutlineRef, parseOpmlFeeds } from './opml.js';
import type { FeedRecord } from './store.js';

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
