/**
 * Per-feed include/exclude filters: regular expressions written by users, compiled once when the feed is
 * saved and then run against every item. A user-written regex runs on our functions, so each one is
 * bounded twice: refused up front when redos-detector finds it can backtrack catastrophically, and only
 * ever run against at most {@link FilterLimits.maxInputLength} characters, so a pattern the check misses
 * still has a bounded cost.
 */
import { isSafePattern, type RedosDetectorResult } from 'redos-detector';
import { FeedFilterError, type FilterList } from './errors.js';
import type { FeedItem } from './types.js';

/** Bounds on filter patterns and on what they are run against. */
export interface FilterLimits {
  /**
   * Longest pattern accepted, in characters.
   * @default 200
   */
  maxPatternLength: number;
  /**
   * Most patterns in one list (`include` or `exclude`); each costs a check when saved and a test per item.
   * @default 20
   */
  maxPatterns: number;
  /**
   * Characters of each field (title, each URL) a pattern is run against; the rest is not looked at.
   * @default 2048
   */
  maxInputLength: number;
  /**
   * redos-detector `maxScore`: most ways one input prefix may match before the pattern counts as unsafe.
   * @default 200 (redos-detector's own default)
   */
  maxScore: number;
  /**
   * redos-detector `maxSteps` per check; hitting it refuses the pattern.
   * @default 20000 (redos-detector's own default)
   */
  maxSteps: number;
  /**
   * redos-detector `timeout` per check, in ms; hitting it refuses the pattern. Safe patterns of the kind users
   * write (`1080p`, `S\d+E\d+`, `season.*episode`) check in well under 50 ms.
   * @default 500
   */
  checkTimeoutMs: number;
}

/** The defaults documented on {@link FilterLimits}. */
export const DEFAULT_FILTER_LIMITS: Readonly<FilterLimits> = Object.freeze({
  maxPatternLength: 200,
  maxPatterns: 20,
  maxInputLength: 2048,
  maxScore: 200,
  maxSteps: 20_000,
  checkTimeoutMs: 500,
});

/** A feed's filters as the API receives them. */
export interface FilterInput {
  include?: readonly string[];
  exclude?: readonly string[];
}

/** One accepted pattern. */
export interface CompiledPattern {
  /** As the user wrote it (reasons quote it). */
  pattern: string;
  regex: RegExp;
}

/** Filters ready for {@link decide}. */
export interface CompiledFilters {
  include: readonly CompiledPattern[];
  exclude: readonly CompiledPattern[];
  maxInputLength: number;
}

/** Whether an item passes a feed's filters, and why not when it does not. */
export type FilterDecision = { accept: true } | { accept: false; reason: string };

/**
 * Validates and compiles a feed's filters: each pattern at most `maxPatternLength` characters, a valid
 * JavaScript regular expression (compiled case-insensitive and Unicode, as FlexGet's `regexp` filter does),
 * and free of catastrophic backtracking as far as redos-detector can tell.
 * Throws {@link FeedFilterError} naming the first refused pattern and the reason.
 * @example
 * const filters = compileFilters({ include: ['1080p'], exclude: ['\\bcam\\b'] });
 */
export function compileFilters(
  input: FilterInput,
  limits: Readonly<FilterLimits> = DEFAULT_FILTER_LIMITS,
): CompiledFilters {
  return {
    include: compileList('include', input.include ?? [], limits),
    exclude: compileList('exclude', input.exclude ?? [], limits),
    maxInputLength: limits.maxInputLength,
  };
}

/**
 * Decides one item: rejected when any `exclude` pattern matches (`exclude: <pattern>`, the first that does),
 * else rejected when there are `include` patterns and none matches (`include: no pattern matched`), else
 * accepted. Patterns are tested against the title and every URL of the item (link and enclosures), the URLs
 * percent-decoded so `%20`-separated names match like spaced ones.
 */
export function decide(item: FeedItem, filters: CompiledFilters): FilterDecision {
  const fields = matchFields(item, filters.maxInputLength);
  const matches = (p: CompiledPattern) => fields.some((f) => p.regex.test(f));
  const excluded = filters.exclude.find(matches);
  if (excluded) return { accept: false, reason: `exclude: ${excluded.pattern}` };
  if (filters.include.length > 0 && !filters.include.some(matches)) {
    return { accept: false, reason: 'include: no pattern matched' };
  }
  return { accept: true };
}

function compileList(
  list: FilterList,
  patterns: readonly unknown[],
  limits: Readonly<FilterLimits>,
): CompiledPattern[] {
  if (patterns.length > limits.maxPatterns) {
    throw new FeedFilterError(list, `${patterns.length} patterns; the limit is ${limits.maxPatterns}`);
  }
  return patterns.map((p) => compileOne(list, p, limits));
}

function compileOne(list: FilterList, pattern: unknown, limits: Readonly<FilterLimits>): CompiledPattern {
  if (typeof pattern !== 'string') throw new FeedFilterError(list, 'a pattern must be a string');
  if (pattern.trim() === '') throw new FeedFilterError(list, 'the pattern is empty', pattern);
  if (pattern.length > limits.maxPatternLength) {
    throw new FeedFilterError(
      list,
      `${pattern.length} characters; the limit is ${limits.maxPatternLength}`,
      pattern,
    );
  }
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'iu');
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new FeedFilterError(list, `not a valid regular expression (${detail})`, pattern, { cause: err });
  }
  const risk = backtrackingRisk(pattern, limits);
  if (risk) throw new FeedFilterError(list, risk, pattern);
  return { pattern, regex };
}

/**
 * Why redos-detector refuses `pattern`, or undefined when it accepts it.
 *
 * The pattern is checked anchored, as `^(?:pattern)`. Without a start anchor redos-detector prepends `[^]*`
 * to model a search from every offset (its `downgradePattern` docs), which makes every unanchored pattern
 * with an inner `.*` (`season.*episode`) look unbounded. That extra factor is the number of start offsets,
 * which {@link FilterLimits.maxInputLength} already bounds; what must be refused is backtracking from one
 * offset that grows with the input, and that is what the anchored check measures.
 *
 * redos-detector refuses `caseInsensitive` together with `unicode`, so the pattern is checked in Unicode
 * mode (our syntax) and then case-insensitively (case folding can make alternatives overlap, `(a|A)+`).
 */
function backtrackingRisk(pattern: string, limits: Readonly<FilterLimits>): string | undefined {
  const anchored = `^(?:${pattern})`;
  const options = { maxScore: limits.maxScore, maxSteps: limits.maxSteps, timeout: limits.checkTimeoutMs };
  let result: RedosDetectorResult;
  try {
    result = isSafePattern(anchored, { ...options, unicode: true });
  } catch {
    return 'it uses syntax the backtracking check cannot analyse';
  }
  if (!result.safe) return describeRisk(result, limits);
  try {
    result = isSafePattern(anchored, { ...options, caseInsensitive: true });
  } catch {
    // Non-Unicode parsing failed on Unicode-only syntax; the Unicode check above has passed.
    return undefined;
  }
  return result.safe ? undefined : describeRisk(result, limits);
}

function describeRisk(result: RedosDetectorResult, limits: Readonly<FilterLimits>): string {
  if (result.error === 'timedOut' || result.error === 'hitMaxSteps') {
    return `too complex to check for catastrophic backtracking within ${limits.checkTimeoutMs} ms; simplify it`;
  }
  return (
    'it can backtrack catastrophically (one text can match it in too many ways); ' +
    'avoid nested or overlapping repetition such as (a+)+, (a|aa)* or a.*b.*c (a[^b]*b[^c]*c is safe)'
  );
}

/** Title and URLs of `item`, URLs percent-decoded, each cut to `max` characters. */
function matchFields(item: FeedItem, max: number): string[] {
  const urls = [item.link, ...item.enclosures.map((e) => e.url)].filter((u): u is string => !!u);
  const fields = [...(item.title ? [item.title] : []), ...new Set(urls.map(percentDecode))];
  return fields.map((f) => (f.length > max ? f.slice(0, max) : f));
}

/** Decodes each run of `%XX` escapes that is valid UTF-8; leaves other runs as written. */
function percentDecode(url: string): string {
  return url.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}
