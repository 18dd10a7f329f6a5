/**
 * Which URLs of an item become upload jobs. The file is usually the enclosure, not the article page, so
 * `enclosure` is the default; `link` is for feeds whose item link is itself the file.
 */
import type { FeedItem } from './types.js';
import { isHttpUrl } from './urls.js';

/** What a feed uploads from each item. */
export type PickMode = 'enclosure' | 'link';

/** The default {@link PickMode}. */
export const DEFAULT_PICK: PickMode = 'enclosure';

/**
 * The URLs to enqueue for `item`: with `enclosure`, every enclosure URL, or the link when the item has no
 * usable enclosure; with `link`, the link. Only absolute http(s) URLs, each once, in feed order.
 */
export function urlsToEnqueue(item: FeedItem, pick: PickMode = DEFAULT_PICK): string[] {
  const link = isHttpUrl(item.link) ? [item.link] : [];
  if (pick === 'link') return link;
  const enclosures = item.enclosures.map((e) => e.url).filter(isHttpUrl);
  return [...new Set(enclosures.length > 0 ? enclosures : link)];
}
