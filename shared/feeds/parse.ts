/**
 * Feed text to {@link FeedDocument}. feedsmith's `parseFeed` detects the format (RSS 0.9x/2.0, RSS 1.0/RDF,
 * Atom 0.3/1.0, JSON Feed 1.0/1.1) and parses leniently (a raw `&` in a title is kept as `&`); it returns
 * each format in its own shape, which this module maps to ours.
 *
 * Relative URLs are resolved against, first found: the item's `xml:base`, the feed's `xml:base`, the feed's
 * own link, the document URL. feedsmith keeps `xml:base` on the RSS `<rss>` element, Atom `<feed>`/`<entry>`,
 * RDF `<rdf:RDF>` and RSS/RDF `<item>`, but drops it on RSS `<channel>`: {@link rssChannelXmlBase} reads that
 * one from the raw text (the parser it would take, fast-xml-parser, is only feedsmith's dependency, not ours).
 */
import {
  type AnyFeed,
  type AtomFeed,
  DetectError,
  type JsonFeed,
  type MediaNs,
  parseFeed,
  type RdfFeed,
  type RssFeed,
} from 'feedsmith';
import { FeedParseError } from './errors.js';
import type { FeedDocument, FeedEnclosure, FeedItem, Syndication, SyndicationPeriod } from './types.js';
import { isHttpUrl, resolveAgainst, resolveUrl } from './urls.js';

/** Options of {@link parseFeedDocument}. */
export interface ParseFeedOptions {
  /** The URL the document was fetched from: the last base for relative URLs. */
  documentUrl?: string;
}

/**
 * Parses a decoded feed document (see `decode.ts`) into a {@link FeedDocument}.
 * Throws {@link FeedParseError} (with feedsmith's error as `cause`) for an empty document, an HTML page,
 * anything else that is not a feed, and XML too broken to read; never anything else.
 * @example
 * const doc = parseFeedDocument(decodeFeedBytes(body, contentType).text, { documentUrl: feed.url });
 */
export function parseFeedDocument(text: string, options: ParseFeedOptions = {}): FeedDocument {
  // feedsmith's JSON detection fails on a leading BOM; decode.ts strips it, callers passing text may not.
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (input.trim() === '') throw new FeedParseError('empty', 'not a feed: the document is empty');
  let parsed: AnyFeed<string>;
  try {
    parsed = parseFeed<string>(input);
  } catch (err) {
    throw parseFailure(input, err);
  }
  try {
    const docBase = resolveUrl(options.documentUrl);
    switch (parsed.format) {
      case 'rss':
        return fromRss(parsed.feed, rssChannelXmlBase(input), docBase);
      case 'rdf':
        return fromRdf(parsed.feed, docBase);
      case 'atom':
        return fromAtom(parsed.feed, docBase);
      case 'json':
        return fromJson(parsed.feed, docBase);
    }
  } catch (err) {
    // feedsmith's output is typed, but a hostile document can still surprise a mapper: never crash the caller.
    throw new FeedParseError('malformed', `feed could not be read: ${messageOf(err)}`, { cause: err });
  }
}

function parseFailure(input: string, err: unknown): FeedParseError {
  if (err instanceof DetectError) {
    if (looksLikeHtml(input)) {
      return new FeedParseError(
        'html',
        'not a feed: the document is an HTML page (a site address rather than its feed, or a login or error page)',
        { cause: err },
      );
    }
    return new FeedParseError('unrecognised', 'not a feed: no RSS, RDF, Atom or JSON Feed document found', {
      cause: err,
    });
  }
  return new FeedParseError('malformed', `feed is not well-formed enough to read: ${messageOf(err)}`, {
    cause: err,
  });
}

function looksLikeHtml(input: string): boolean {
  return /<!doctype\s+html|<html[\s>]/i.test(input.slice(0, 4096));
}

function messageOf(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return err instanceof Error ? `${err.message}${cause}` : String(err);
}

/** The bases an item's URLs resolve against, most specific first (each absolute or undefined). */
type Bases = readonly (string | undefined)[];

function absolute(raw: string | undefined, bases: Bases): string | undefined {
  const resolved = resolveAgainst(raw, bases);
  return resolved !== undefined && resolveUrl(resolved) !== undefined ? resolved : undefined;
}

/** Feed-level bases: the feed's resolved `xml:base`, then its link, then the document URL. */
function feedBases(
  feedXmlBase: string | undefined,
  rawLink: string | undefined,
  docBase: string | undefined,
) {
  const link = resolveAgainst(rawLink, [feedXmlBase, docBase]);
  return { link, bases: [feedXmlBase, absolute(link, []), docBase] as Bases };
}

function itemBases(itemXmlBase: string | undefined, feed: Bases): Bases {
  return [absolute(itemXmlBase, feed), ...feed];
}

/**
 * The `xml:base` attribute of the RSS `<channel>` start tag, which feedsmith does not return. A regex over
 * the start of the raw text is enough: the tag comes before any item, and an `xml:base` value (a URL) holds
 * no `>`. Neither pattern can match one text in several ways from a given offset (redos-detector, anchored).
 */
export function rssChannelXmlBase(text: string): string | undefined {
  const tag = /<channel(\s[^>]*)?>/i.exec(text.slice(0, 65_536));
  const attr = /\sxml:base\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(tag?.[1] ?? '');
  const value = attr?.[1] ?? attr?.[2];
  return value === undefined ? undefined : decodeXmlAttribute(value);
}

function decodeXmlAttribute(value: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return value.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/gi, (whole, ref: string) => {
    const lower = ref.toLowerCase();
    if (lower in named) return named[lower]!;
    const code = lower.startsWith('#x')
      ? Number.parseInt(lower.slice(2), 16)
      : Number.parseInt(lower.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

function fromRss(
  feed: RssFeed.Feed<string>,
  channelXmlBase: string | undefined,
  docBase: string | undefined,
): FeedDocument {
  // <channel xml:base> is itself relative to <rss xml:base>, which is relative to the document.
  const rssBase = absolute(feed.xml?.base, [docBase]);
  const channelBase = absolute(channelXmlBase, [rssBase, docBase]);
  const { link, bases } = feedBases(channelBase ?? rssBase, feed.link, docBase);
  const items = (feed.items ?? []).map((item): FeedItem => {
    const b = itemBases(item.xml?.base, bases);
    const guid = text(item.guid?.value);
    // RSS 2.0: isPermaLink defaults to true, i.e. the guid is the item's URL.
    const guidLink = item.guid?.isPermaLink !== false && isHttpUrl(guid) ? guid : undefined;
    return {
      guid,
      link: resolveAgainst(item.link, b) ?? guidLink,
      title: title(item.title),
      published: date(item.pubDate) ?? date(item.dc?.dates?.[0]),
      enclosures: uniqueEnclosures([
        ...(item.enclosures ?? []).map((e) => enclosure(e.url, e.type, e.length, b)),
        ...atomEnclosures(item.atom?.links, b),
        ...mediaEnclosures(item.media, b),
      ]),
    };
  });
  return {
    format: 'rss',
    title: title(feed.title),
    link,
    ttlMinutes: positive(feed.ttl),
    syndication: syndication(feed.sy),
    items,
  };
}

function fromRdf(feed: RdfFeed.Feed<string>, docBase: string | undefined): FeedDocument {
  const { link, bases } = feedBases(absolute(feed.xml?.base, [docBase]), feed.link, docBase);
  const items = (feed.items ?? []).map((item): FeedItem => {
    const b = itemBases(item.xml?.base, bases);
    return {
      guid: text(item.rdf?.about),
      link: resolveAgainst(item.link ?? item.rdf?.about, b),
      title: title(item.title),
      published: date(item.dc?.dates?.[0]),
      enclosures: uniqueEnclosures([
        ...atomEnclosures(item.atom?.links, b),
        ...mediaEnclosures(item.media, b),
      ]),
    };
  });
  return { format: 'rdf', title: title(feed.title), link, syndication: syndication(feed.sy), items };
}

function fromAtom(feed: AtomFeed.Feed<string>, docBase: string | undefined): FeedDocument {
  const { link, bases } = feedBases(absolute(feed.xml?.base, [docBase]), alternateLink(feed.links), docBase);
  const items = (feed.entries ?? []).map((entry): FeedItem => {
    const b = itemBases(entry.xml?.base, bases);
    return {
      guid: text(entry.id),
      link: resolveAgainst(alternateLink(entry.links), b),
      title: title(entry.title?.value),
      // Atom 0.3 <issued>/<modified> arrive here as published/updated (feedsmith maps legacy elements).
      published: date(entry.published) ?? date(entry.updated) ?? date(entry.dc?.dates?.[0]),
      enclosures: uniqueEnclosures([...atomEnclosures(entry.links, b), ...mediaEnclosures(entry.media, b)]),
    };
  });
  return {
    format: 'atom',
    title: title(feed.title?.value),
    link,
    syndication: syndication(feed.sy),
    items,
  };
}

function fromJson(feed: JsonFeed.Feed<string>, docBase: string | undefined): FeedDocument {
  const { link, bases } = feedBases(undefined, feed.home_page_url, docBase);
  const items = (feed.items ?? []).map(
    (item): FeedItem => ({
      guid: text(item.id),
      link: resolveAgainst(item.url ?? item.external_url, bases),
      title: title(item.title),
      published: date(item.date_published) ?? date(item.date_modified),
      enclosures: uniqueEnclosures(
        (item.attachments ?? []).map((a) => enclosure(a.url, a.mime_type, a.size_in_bytes, bases)),
      ),
    }),
  );
  return { format: 'json', title: title(feed.title), link, items };
}

/** Atom `rel` is case-insensitive in practice; a link without `rel` is `alternate` (RFC 4287 §4.2.7.2). */
function relOf(l: { rel?: string }): string {
  return (l.rel ?? 'alternate').trim().toLowerCase();
}

function alternateLink(links: readonly AtomFeed.Link<string>[] | undefined): string | undefined {
  return links?.find((l) => relOf(l) === 'alternate' && text(l.href))?.href;
}

function atomEnclosures(
  links: readonly AtomFeed.Link<string>[] | undefined,
  bases: Bases,
): (FeedEnclosure | undefined)[] {
  return (links ?? [])
    .filter((l) => relOf(l) === 'enclosure')
    .map((l) => enclosure(l.href, l.type, l.length, bases));
}

/**
 * Media RSS: every top-level `media:content`, and one per `media:group` — the spec defines a group as
 * representations of the same content, so uploading each would fetch one file several times. The group's
 * `isDefault="true"` member is taken, else its first member with a URL.
 */
function mediaEnclosures(media: MediaNs.ItemOrFeed | undefined, bases: Bases): (FeedEnclosure | undefined)[] {
  const out = (media?.contents ?? []).map((c) => enclosure(c.url, c.type, c.fileSize, bases));
  for (const group of media?.groups ?? []) {
    const withUrl = (group.contents ?? []).filter((c) => text(c.url));
    const chosen = withUrl.find((c) => c.isDefault === true) ?? withUrl[0];
    if (chosen) out.push(enclosure(chosen.url, chosen.type, chosen.fileSize, bases));
  }
  return out;
}

function enclosure(url: unknown, type: unknown, length: unknown, bases: Bases): FeedEnclosure | undefined {
  const resolved = resolveAgainst(text(url), bases);
  if (!resolved) return undefined;
  const e: FeedEnclosure = { url: resolved };
  const t = text(type);
  if (t) e.type = t;
  if (typeof length === 'number' && Number.isFinite(length) && length >= 0) e.length = length;
  return e;
}

/** Drops missing entries and repeats of a URL already listed (Media RSS often repeats the `<enclosure>`). */
function uniqueEnclosures(list: (FeedEnclosure | undefined)[]): FeedEnclosure[] {
  const seen = new Set<string>();
  const out: FeedEnclosure[] = [];
  for (const e of list) {
    if (!e || seen.has(e.url)) continue;
    seen.add(e.url);
    out.push(e);
  }
  return out;
}

const PERIODS: readonly SyndicationPeriod[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];

/** RSS 1.0 Syndication module: a missing period means `daily`, a missing frequency means 1. */
function syndication(
  sy: { updatePeriod?: string; updateFrequency?: number } | undefined,
): Syndication | undefined {
  const raw = text(sy?.updatePeriod)?.toLowerCase();
  const period = PERIODS.find((p) => p === raw);
  const frequency = positive(sy?.updateFrequency);
  if (!period && frequency === undefined) return undefined;
  return { period: period ?? 'daily', frequency: frequency ?? 1 };
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const t = value.trim();
  return t === '' ? undefined : t;
}

function title(value: unknown): string | undefined {
  return text(value)?.replace(/\s+/g, ' ');
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

function date(value: unknown): number | undefined {
  const t = text(value);
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}
