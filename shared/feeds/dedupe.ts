/**
 * Item identity across fetches. Feeds re-send the same items on every fetch (and servers that honour
 * conditional GET still resend everything after a change), so the poller remembers each item's key per feed.
 *
 * Key order: the item's own id (RSS `guid`, RSS 1.0 `rdf:about`, Atom `id`, JSON Feed `id`) — the specs
 * make it the stable identifier; else its first enclosure URL, else its link (an upload is about the URL);
 * else a hash of title and publication date, the weakest choice (a republished date makes a new key).
 * A feed that keeps the guid but changes the enclosure URL is therefore not uploaded again.
 */
import { createHash } from 'node:crypto';
import type { FeedItem } from './types.js';

/** Longest key kept as is, in UTF-8 bytes; longer ones (signed URLs run to ~1,500 characters) are hashed. */
export const MAX_ITEM_KEY_LENGTH = 200;

/** What an item key was derived from; it prefixes the key so different kinds never collide. */
export type ItemKeyKind = 'guid' | 'url' | 'title';

/**
 * The dedupe key of `item` within its feed: `guid:<id>`, `url:<first enclosure or link>`, or
 * `title#<sha256 of title and date>`. A value longer than {@link MAX_ITEM_KEY_LENGTH} becomes
 * `<kind>#<sha256>`; `:` marks a raw value and `#` a hash, so the two forms cannot collide either.
 */
export function itemKey(item: FeedItem): string {
  if (item.guid) return bounded('guid', item.guid);
  const url = item.enclosures[0]?.url ?? item.link;
  if (url) return bounded('url', url);
  return `title#${sha256(`${item.title ?? ''}\n${item.published ?? ''}`)}`;
}

/** The items of one fetch without repeats (first occurrence of each {@link itemKey} kept, feed order kept). */
export function uniqueItems<T extends FeedItem>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = itemKey(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function bounded(kind: ItemKeyKind, value: string): string {
  const raw = `${kind}:${value}`;
  return Buffer.byteLength(raw, 'utf8') <= MAX_ITEM_KEY_LENGTH ? raw : `${kind}#${sha256(value)}`;
}

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
