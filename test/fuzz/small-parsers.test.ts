/**
 * Property-based fuzzing of the small parsers: 1fichier dates (`shared/jobs/fichier-dates.ts`, checked
 * against the sandbox's formatter, DST switches included), SQS job messages (`shared/aws/queue.ts`) and
 * the `Retry-After` header (`shared/fichier/backoff.ts`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fichierDate } from '../../infra/sandbox/wire.js';
import { parseJobMessage } from '../../shared/aws/queue.js';
import { parseRetryAfter } from '../../shared/fichier/backoff.js';
import { parseFichierDate } from '../../shared/jobs/fichier-dates.js';

const RUNS = 2000;

/** Instants (whole seconds) from 1971 to 2100, with extra weight around the Paris DST switches. */
const instant = fc.oneof(
  fc.integer({ min: Date.UTC(1971, 0, 1) / 1000, max: Date.UTC(2100, 0, 1) / 1000 }).map((s) => s * 1000),
  fc
    .tuple(fc.integer({ min: 2000, max: 2090 }), fc.constantFrom(2, 9), fc.integer({ min: -7200, max: 7200 }))
    .map(([year, month, offsetS]) => {
      // The last Sunday of March / October, 01:00 UTC, give or take two hours.
      const lastDay = new Date(Date.UTC(year, month + 1, 0));
      const lastSunday = lastDay.getUTCDate() - lastDay.getUTCDay();
      return Date.UTC(year, month, lastSunday, 1, 0, 0) + offsetS * 1000;
    }),
);

describe('parseFichierDate (fuzzed)', () => {
  it('reads back what the sandbox writes: the same instant, or one with the same Paris wall time', () => {
    fc.assert(
      fc.property(instant, (t) => {
        const text = fichierDate(new Date(t));
        const parsed = parseFichierDate(text);
        expect(parsed).toBeDefined();
        // In the autumn hour that happens twice, the wall time names two instants; either is right.
        if (parsed !== t) expect(fichierDate(new Date(parsed as number))).toBe(text);
      }),
      { numRuns: RUNS },
    );
  });

  it('never throws, and answers undefined or a finite number for any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.constantFrom('', '1970-01-01 00:00:00', '0000-00-00 00:00:00'),
        ),
        (text) => {
          const parsed = parseFichierDate(text);
          if (parsed !== undefined) expect(Number.isFinite(parsed)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('parseJobMessage (fuzzed)', () => {
  it('returns exactly the job id of {"jobId": string}, and throws on anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string().map((jobId) => JSON.stringify({ jobId })),
          fc.record({ jobId: fc.jsonValue() }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
          fc.json(),
          fc.string({ maxLength: 40 }),
        ),
        (body) => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(body);
          } catch {
            parsed = undefined;
          }
          const valid =
            typeof parsed === 'object' &&
            parsed !== null &&
            typeof (parsed as { jobId?: unknown }).jobId === 'string';
          if (valid) expect(parseJobMessage(body)).toEqual({ jobId: (parsed as { jobId: string }).jobId });
          else expect(() => parseJobMessage(body)).toThrow();
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('parseRetryAfter (fuzzed)', () => {
  const now = Date.UTC(2026, 10, 27, 12, 0, 0);

  it('answers undefined or a non-negative number of ms, never throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.nat().map(String),
          fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
          fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
        ),
        (value) => {
          const ms = parseRetryAfter(value, now);
          if (ms !== undefined) expect(ms).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('reads delta-seconds and HTTP-dates exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 6 }), (s) => {
        expect(parseRetryAfter(String(s), now)).toBe(s * 1000);
        expect(parseRetryAfter(new Date(now + s * 1000).toUTCString(), now)).toBe(s * 1000);
      }),
      { numRuns: RUNS },
    );
  });
});
