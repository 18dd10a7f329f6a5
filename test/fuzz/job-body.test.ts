/**
 * Property-based fuzzing of the job-body parser (`shared/http/job-input.ts`): whatever the content type
 * and body, `parseJobBody` returns validated job requests (http(s) URLs, clean folders) or throws an
 * `HttpError` with a 4xx status — never another error, never a 5xx.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../shared/http/errors.js';
import { parseIdempotencyKey, parseJobBody } from '../../shared/http/job-input.js';

const RUNS = 1500;

const contentType = fc.oneof(
  fc.constantFrom(
    undefined,
    '',
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/vnd.api+json',
    'application/x-www-form-urlencoded',
    'text/plain',
    'text/plain; charset=latin1',
    'text/html',
    'multipart/form-data; boundary=x',
    ';;;',
  ),
  fc.string({ maxLength: 30 }),
);

const urlValue = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constantFrom('javascript:alert(1)', 'file:///etc/passwd', 'https://u:p@e.co/', 'http://', ''),
  fc.string({ maxLength: 40 }),
);
const item = fc.record(
  {
    url: fc.oneof(urlValue, fc.integer(), fc.constant(null)),
    urls: fc.array(fc.oneof(urlValue, fc.integer()), { maxLength: 4 }),
    folder: fc.oneof(fc.string({ maxLength: 30 }), fc.constant(null), fc.integer()),
    callbackUrl: fc.oneof(urlValue, fc.constant(null)),
  },
  { requiredKeys: [] },
);
const jsonBody = fc.oneof(
  item.map((i) => JSON.stringify(i)),
  fc.array(fc.oneof(item, urlValue), { maxLength: 5 }).map((a) => JSON.stringify(a)),
  fc.json(),
);
const formBody = fc
  .array(
    fc.tuple(fc.constantFrom('url', 'urls', 'folder', 'callbackUrl', 'x'), fc.oneof(urlValue, fc.string())),
    { maxLength: 5 },
  )
  .map((pairs) => new URLSearchParams(pairs).toString());
const body = fc.oneof(jsonBody, formBody, urlValue, fc.string({ unit: 'binary', maxLength: 200 }));

describe('parseJobBody (fuzzed)', () => {
  it('returns valid job requests or throws a 4xx HttpError', () => {
    fc.assert(
      fc.property(contentType, body, (type, text) => {
        let out: ReturnType<typeof parseJobBody>;
        try {
          out = parseJobBody(type, text, Buffer.byteLength(text));
        } catch (err) {
          expect(err).toBeInstanceOf(HttpError);
          const status = (err as HttpError).status;
          expect(status >= 400 && status < 500).toBe(true);
          return;
        }
        expect(out.length).toBeGreaterThan(0);
        for (const r of out) {
          expect(r.url).toMatch(/^https?:\/\//);
          expect(typeof r.folder).toBe('string');
          if (r.callbackUrl !== undefined) expect(r.callbackUrl).toMatch(/^https?:\/\//);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses any body over the byte limit with 413 before parsing it', () => {
    fc.assert(
      fc.property(contentType, fc.integer({ min: 256 * 1024 + 1, max: 10 * 2 ** 20 }), (type, bytes) => {
        try {
          parseJobBody(type, '{"url":"https://e.co/a"}', bytes);
          expect.unreachable('an oversized body was accepted');
        } catch (err) {
          expect(err).toBeInstanceOf(HttpError);
          expect((err as HttpError).status).toBe(413);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseIdempotencyKey (fuzzed)', () => {
  it('returns printable ASCII of 1-255 characters unchanged, or throws a 400 HttpError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (key) => {
        try {
          expect(parseIdempotencyKey(key)).toBe(key);
          expect(key).toMatch(/^[\x21-\x7e]{1,255}$/);
        } catch (err) {
          expect(err).toBeInstanceOf(HttpError);
          expect((err as HttpError).status).toBe(400);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
