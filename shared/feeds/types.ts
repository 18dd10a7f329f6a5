/**
 * The feeds core's own view of a feed: the few fields the relay acts on, the same for every format.
 * feedsmith keeps each format's native shape (docs/philosophy.md); `parse.ts` maps it to these.
 */

/** Format family as detected by feedsmith: `rss` is RSS 0.9x/2.0, `rdf` is RSS 1.0, `atom` is 0.3/1.0. */
export type FeedFormat = 'rss' | 'rdf' | 'atom' | 'json';

/** A file attached to an item (RSS `<enclosure>`, Atom `rel="enclosure"`, JSON Feed attachment, Media RSS). */
export interface FeedEnclosure {
  /** Absolute when it could be resolved; query string exactly as published. */
  url: string;
  /** MIME type as the feed states it. */
  type?: string;
  /** Size in bytes as the feed states it (often 0 or wrong in real feeds). */
  length?: number;
}

/** One item (RSS `<item>`, Atom `<entry>`, JSON Feed item). */
export interface FeedItem {
  /** RSS `<guid>`, RSS 1.0 `rdf:about`, Atom `<id>`, JSON Feed `id`. */
  guid?: string;
  /** The item's page: absolute when it could be resolved. */
  link?: string;
  title?: string;
  /** Publication time, epoch ms. */
  published?: number;
  enclosures: FeedEnclosure[];
}

/** `sy:updatePeriod` values (RSS 1.0 Syndication module). */
export type SyndicationPeriod = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

/** The publisher's update rhythm: `frequency` updates per `period` (module defaults: daily, 1). */
export interface Syndication {
  period: SyndicationPeriod;
  frequency: number;
}

/** A parsed feed. */
export interface FeedDocument {
  format: FeedFormat;
  title?: string;
  /** The site the feed belongs to (RSS channel `<link>`, Atom alternate link, JSON `home_page_url`). */
  link?: string;
  /** RSS 2.0 `<ttl>`: minutes the channel may be cached before refreshing. */
  ttlMinutes?: number;
  /** `sy:updatePeriod` / `sy:updateFrequency`, when the feed has either. */
  syndication?: Syndication;
  items: FeedItem[];
}
