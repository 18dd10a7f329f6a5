import { describe, expect, it } from 'vitest';
import { FeedError, FeedFilterError } from '../../../shared/feeds/errors.js';
import { compileFilters, DEFAULT_FILTER_LIMITS, decide } from '../../../shared/feeds/filters.js';
import { item, parseFixture } from './fixtures.js';

function refusal(input: Parameters<typeof compileFilters>[0]): FeedFilterError {
  try {
    compileFilters(input);
  } catch (err) {
    expect(err).toBeInstanceOf(FeedFilterError);
    expect(err).toBeInstanceOf(FeedError);
    return err as FeedFilterError;
  }
  throw new Error('expected a FeedFilterError');
}

const show = item({
  title: 'The Show S01E02 1080p WEB x265',
  link: 'https://tracker.example/details/42',
  enclosures: [{ url: 'https://dl.example/The%20Show%20S01E02%20%5BGerman%5D.mkv?sig=abc' }],
});

describe('decide', () => {
  it('accepts everything without filters', () => {
    expect(decide(show, compileFilters({}))).toEqual({ accept: true });
  });

  it('accepts an item an include pattern matches in its title', () => {
    expect(decide(show, compileFilters({ include: ['720p', '1080P'] }))).toEqual({ accept: true });
  });

  it('rejects an item no include pattern matches, with the reason', () => {
    expect(decide(show, compileFilters({ include: ['2160p', 'S02E\\d+'] }))).toEqual({
      accept: false,
      reason: 'include: no pattern matched',
    });
  });

  it('rejects an item an exclude pattern matches, naming the pattern, even when an include matches', () => {
    const filters = compileFilters({ include: ['1080p'], exclude: ['\\bcam\\b', 'x26[45]'] });

    expect(decide(show, filters)).toEqual({ accept: false, reason: 'exclude: x26[45]' });
  });

  it('matches against the item URLs percent-decoded', () => {
    expect(decide(show, compileFilters({ exclude: ['\\[german\\]'] }))).toEqual({
      accept: false,
      reason: 'exclude: \\[german\\]',
    });
    expect(decide(show, compileFilters({ include: ['details/42$'] }))).toEqual({ accept: true });
  });

  it('still matches a URL whose escapes are not UTF-8', () => {
    const legacy = parseFixture('windows-1252.xml').items[0]!;

    expect(decide(legacy, compileFilters({ include: ['pr%E9sentation\\.pdf$'] }))).toEqual({ accept: true });
  });

  it('matches Unicode case-insensitively', () => {
    expect(decide(item({ title: 'ÉTÉ 2024' }), compileFilters({ include: ['été'] }))).toEqual({
      accept: true,
    });
  });

  it('only looks at the first maxInputLength characters of a field', () => {
    const long = item({ title: `${'x'.repeat(DEFAULT_FILTER_LIMITS.maxInputLength)}needle` });

    expect(decide(long, compileFilters({ include: ['needle'] }))).toEqual({
      accept: false,
      reason: 'include: no pattern matched',
    });
  });
});

describe('compileFilters', () => {
  it('accepts the patterns users write, including .* between words', () => {
    const filters = compileFilters({
      include: ['season.*episode', 'S\\d+E\\d+', '\\b(1080p|720p)\\b', '^The Show', '\\p{L}+ 2024'],
      exclude: ['\\.(nfo|txt)$', '.*sample.*'],
    });

    expect(filters.include).toHaveLength(5);
    expect(filters.exclude).toHaveLength(2);
  });

  it('refuses an invalid regular expression, naming it and the reason', () => {
    const err = refusal({ include: ['ok', '(unclosed'] });

    expect(err.list).toBe('include');
    expect(err.pattern).toBe('(unclosed');
    expect(err.message).toMatch(/^include pattern "\(unclosed" refused: not a valid regular expression/);
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  it('refuses the catastrophic-backtracking pattern (a+)+$', () => {
    const err = refusal({ exclude: ['(a+)+$'] });

    expect(err.list).toBe('exclude');
    expect(err.message).toMatch(/^exclude pattern "\(a\+\)\+\$" refused: it can backtrack catastrophically/);
  });

  it('refuses other nested or overlapping repetitions', () => {
    expect(refusal({ include: ['(\\d+)+x'] }).reason).toMatch(/backtrack catastrophically/);
    expect(refusal({ include: ['a.*b.*c'] }).reason).toMatch(/backtrack catastrophically/);
  });

  it('refuses a pattern longer than the limit, saying both lengths', () => {
    const err = refusal({ include: ['a'.repeat(201)] });

    expect(err.reason).toBe('201 characters; the limit is 200');
  });

  it('refuses an empty pattern', () => {
    expect(refusal({ exclude: ['  '] }).reason).toBe('the pattern is empty');
  });

  it('refuses more patterns than the limit', () => {
    const err = refusal({ include: Array.from({ length: 21 }, (_, i) => `p${i}`) });

    expect(err.pattern).toBeUndefined();
    expect(err.message).toBe('include refused: 21 patterns; the limit is 20');
  });
});
