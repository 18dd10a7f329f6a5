/**
 * Property-based fuzzing of URL and folder normalisation (`shared/jobs/normalise.ts`): for any input the
 * result is either an `InvalidInputError` or an http(s) URL that normalises to itself and keeps the
 * query string byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, normaliseFolder, normaliseUrl } from '../../shared/jobs/normalise.js';

const RUNS = 2000;

/** The raw query of an input, as the caller sent it (before any fragment). */
function rawQuery(input: string): string {
  const noFragment = input.trim().split('#', 1)[0] ?? '';
  const q = noFragment.indexOf('?');
  return q === -1 ? '' : noFragment.slice(q);
}

function attempt(input: string): { ok: true; url: string } | { ok: false; error: unknown } {
  try {
    return { ok: true, url: normaliseUrl(input) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** URL-ish strings: real URLs with odd parts, mixed-case schemes, IDN hosts, ports, queries, fragments. */
const urlish = fc
  .tuple(
    fc.constantFrom('http', 'https', 'HTTP', 'HtTpS', 'ftp', 'javascript', 'file', 'data', ''),
    fc.constantFrom('://', ':', ':///', '//', '://user:pw@', '://u@'),
    fc.oneof(
      fc.domain(),
      fc.constantFrom(
        'bücher.example',
        'EXAMPLE.com',
        '127.0.0.1',
        '[::1]',
        'xn--bcher-kva.example',
        'a..b',
        '',
      ),
    ),
    fc.constantFrom('', ':80', ':443', ':8080', ':0', ':99999'),
    fc.webPath(),
    fc.option(fc.string({ unit: 'grapheme-ascii', maxLength: 40 }), { nil: undefined }),
    fc.option(fc.webFragments(), { nil: undefined }),
  )
  .map(
    ([scheme, sep, host, port, path, query, fragment]) =>
      `${scheme}${sep}${host}${port}${path}${query === undefined ? '' : `?${query}`}${fragment === undefined ? '' : `#${fragment}`}`,
  );

const anyInput = fc.oneof(
  urlish,
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

describe('normaliseUrl (fuzzed)', () => {
  it('returns an http(s) URL or throws InvalidInputError, never anything else', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const r = attempt(input);
        if (r.ok) expect(r.url).toMatch(/^https?:\/\/[^/?#]+/);
        else expect(r.error).toBeInstanceOf(InvalidInputError);
      }),
      { numRuns: RUNS },
    );
  });

  it('is idempotent: a normalised URL normalises to itself', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const r = attempt(input);
        if (!r.ok) return;
        expect(normaliseUrl(r.url)).toBe(r.url);
      }),
      { numRuns: RUNS },
    );
  });

  it('never drops or rewrites the query string', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const r = attempt(input);
        if (!r.ok) return;
        const q = rawQuery(input);
        if (q !== '') expect(r.url.endsWith(q)).toBe(true);
        expect(rawQuery(r.url)).toBe(q);
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts every generated web URL without credentials', () => {
    fc.assert(
      fc.property(
        fc.webUrl({
          withQueryParameters: true,
          withFragments: true,
          authoritySettings: { withUserInfo: false },
        }),
        (u) => {
          const r = attempt(u);
          if (!r.ok && u.length <= 2048) throw r.error;
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('normaliseFolder (fuzzed)', () => {
  it('returns a clean path that normalises to itself, or throws InvalidInputError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 60 }),
          fc
            .array(fc.constantFrom('a', 'B c', '..', '.', '', ' x ', 'é'), { maxLength: 6 })
            .map((p) => p.join('/')),
        ),
        (input) => {
          let out: string;
          try {
            out = normaliseFolder(input);
          } catch (err) {
            expect(err).toBeInstanceOf(InvalidInputError);
            return;
          }
          expect(out.startsWith('/')).toBe(false);
          expect(out.endsWith('/')).toBe(false);
          expect(out.split('/')).not.toContain('..');
          expect(normaliseFolder(out)).toBe(out);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
