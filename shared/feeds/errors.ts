/**
 * Feed errors: one base class and one subclass per thing a caller handles differently
 * (an unusable document, a refused filter, an unusable OPML file).
 */

/** Base of every error raised by the feeds core. */
export class FeedError extends Error {
  override name = 'FeedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Why a document could not be read as a feed. */
export type FeedParseFailure = 'empty' | 'html' | 'unrecognised' | 'malformed';

/**
 * The document is not a feed we can read (empty, an HTML page, garbage, broken XML).
 * `cause` is feedsmith's error when it raised one.
 */
export class FeedParseError extends FeedError {
  override name = 'FeedParseError';
  readonly reason: FeedParseFailure;

  constructor(reason: FeedParseFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** Which list a filter pattern came from. */
export type FilterList = 'include' | 'exclude';

/**
 * A filter was refused (a pattern too long, not a regular expression, or prone to catastrophic
 * backtracking; or too many patterns). The message names the list, the pattern and the reason and is safe
 * to show to the caller.
 */
export class FeedFilterError extends FeedError {
  override name = 'FeedFilterError';
  readonly list: FilterList;
  /** The refused pattern; undefined when the list as a whole was refused. */
  readonly pattern: string | undefined;
  readonly reason: string;

  constructor(list: FilterList, reason: string, pattern?: string, options?: { cause?: unknown }) {
    super(
      pattern === undefined
        ? `${list} refused: ${reason}`
        : `${list} pattern ${quotePattern(pattern)} refused: ${reason}`,
      options,
    );
    this.list = list;
    this.pattern = pattern;
    this.reason = reason;
  }
}

/** The OPML file cannot be imported as a whole (unparseable, or more outlines than the cap). */
export class OpmlError extends FeedError {
  override name = 'OpmlError';
}

const QUOTED_MAX = 60;

function quotePattern(pattern: string): string {
  const shown = pattern.length > QUOTED_MAX ? `${pattern.slice(0, QUOTED_MAX)}…` : pattern;
  return JSON.stringify(shown);
}
