/**
 * Property-based fuzzing of the small HTTP parsers in `shared/http/`: the `GET /jobs` query
 * (`parseListQuery`) and where a token comes from (`tokenFromHeaders`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tokenFromHeaders } from '../../shared/http/auth.js';
import { HttpError } from '../../shared/http/errors.js';
import { parseListQuery } from '../../shared/http/job-input.js';
import { JOB_STATUSES } from '../../shared/jobs/model.js';

const RUNS = 2000;
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

describe('parseListQuery (fuzzed)', () => {
  it('returns a limit of 1-100, a known status or none, a non-empty cursor or none; or throws a 400', () => {
    fc.assert(
      fc.property(
        maybe(fc.oneof(fc.constantFrom(...JOB_STATUSES), fc.string({ maxLength: 12 }))),
        maybe(fc.oneof(fc.integer({ min: -10, max: 300 }).map(String), fc.string({ maxLength: 8 }))),
        maybe(fc.string({ maxLength: 2100 })),
        (status, limit, cursor) => {
          let q: ReturnType<typeof parseListQuery>;
          try {
            q = parseListQuery({ status, limit, cursor });
          } catch (err) {
            expect(err).toBeInstanceOf(HttpError);
            expect((err as HttpError).status).toBe(400);
            return;
          }
          expect(Number.isInteger(q.limit) && q.limit >= 1 && q.limit <= 100).toBe(true);
          if (q.status !== undefined) expect(JOB_STATUSES).toContain(q.status);
          if (q.cursor !== undefined) expect(q.cursor.length).toBeGreaterThan(0);
          if (limit === undefined) expect(q.limit).toBe(50);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('tokenFromHeaders (fuzzed)', () => {
  const token = fc.stringMatching(/^[A-Za-z0-9._~+/=-]{1,40}$/);

  it('takes the token of a well-formed Bearer header, whatever the X-Api-Key', () => {
    fc.assert(
      fc.property(
        token,
        fc.constantFrom('Bearer ', 'bearer  ', 'BEARER\t'),
        maybe(fc.string()),
        (t, prefix, key) => {
          expect(tokenFromHeaders(`${prefix}${t}`, key)).toBe(t);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never yields a token containing whitespace, and ignores X-Api-Key when Authorization is set', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 60 }),
        maybe(fc.string({ maxLength: 40 })),
        (auth, key) => {
          const out = tokenFromHeaders(auth, key);
          // Basic credentials are base64: their token is checked by the property below.
          if (out !== undefined && !/^Basic\s/i.test(auth)) {
            expect(out).not.toMatch(/\s/);
            expect(auth).toContain(out);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('reads the token of Basic credentials, as the password or as the username alone', () => {
    fc.assert(
      fc.property(token, fc.stringMatching(/^[^:]{0,20}$/), (t, user) => {
        const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
        expect(tokenFromHeaders(`Basic ${b64(`${user}:${t}`)}`, 'other')).toBe(t);
        expect(tokenFromHeaders(`Basic ${b64(`${t}:`)}`, 'other')).toBe(t);
      }),
      { numRuns: RUNS },
    );
  });

  it('falls back to a trimmed X-Api-Key without Authorization', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (key) => {
        const out = tokenFromHeaders(undefined, key);
        expect(out).toBe(key.trim() || undefined);
      }),
      { numRuns: RUNS },
    );
  });
});
