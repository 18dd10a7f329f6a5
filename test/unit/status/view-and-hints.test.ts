/** `GET /status`'s pure parts: counts and hours, wait and retry hints, the pacer as the page shows it. */
import { describe, expect, it } from 'vitest';
import { isRetryable, RETRYABLE_RULES } from '../../../shared/jobs/retryable.js';
import type { JobRecord } from '../../../shared/jobs/store.js';
import { jobHints, retryHintFor } from '../../../shared/status/hints.js';
import { pacerView } from '../../../shared/status/status.js';
import { summariseJobs } from '../../../shared/status/view.js';

const now = Date.parse('2026-12-01T12:30:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const H = 3_600_000;

const job = (over: Partial<JobRecord>): JobRecord => ({
  id: 'j1',
  userId: 'alice',
  url: 'https://example.com/a.bin',
  status: 'queued',
  folder: '',
  source: 'api',
  createdAt: iso(now),
  updatedAt: iso(now),
  attempts: 0,
  ...over,
});

describe('summariseJobs', () => {
  it('counts submitted by creation hour and done/failed by the hour they ended, oldest hour first', () => {
    const s = summariseJobs(
      [
        job({ status: 'done', createdAt: iso(now - 2 * H), updatedAt: iso(now - H) }),
        job({ status: 'failed', createdAt: iso(now - H), updatedAt: iso(now - H) }),
        job({ status: 'queued', createdAt: iso(now) }),
        job({ status: 'submitted', createdAt: iso(now - 30 * H) }), // counted, outside the chart
      ],
      now,
      24,
    );
    expect(s.counts).toEqual({ queued: 1, submitting: 0, submitted: 1, done: 1, failed: 1 });
    expect(s.hours).toHaveLength(24);
    expect(s.hours[23]).toEqual({ hour: '2026-12-01T12:00:00.000Z', submitted: 1, done: 0, failed: 0 });
    expect(s.hours[22]).toEqual({ hour: '2026-12-01T11:00:00.000Z', submitted: 1, done: 1, failed: 1 });
    expect(s.hours[21]).toEqual({ hour: '2026-12-01T10:00:00.000Z', submitted: 1, done: 0, failed: 0 });
    expect(s.hours[0]!.hour).toBe('2026-11-30T13:00:00.000Z');
  });
});

describe('jobHints', () => {
  it('a waiting job says why and when it is tried next', () => {
    const h = jobHints(
      job({ waitReason: '1fichier flood answer: Flood detected', nextAttemptAt: now + 90_000 }),
      now,
    );
    expect(h).toEqual({
      waitReason: '1fichier flood answer: Flood detected',
      nextAttemptAt: iso(now + 90_000),
    });
  });

  it('a next attempt time already passed is not shown', () => {
    expect(jobHints(job({ nextAttemptAt: now - 1 }), now)).toEqual({});
  });

  it('a failed job says whether a retry can help, from its error code', () => {
    const refused = jobHints(
      job({ status: 'failed', error: { code: 'notFound', message: 'File not found #17' } }),
      now,
    );
    expect(refused).toMatchObject({ retryable: false, retry: { helps: 'no' } });
    const lost = jobHints(job({ status: 'failed', error: { code: 'stuck', message: 'x' } }), now);
    expect(lost).toMatchObject({ retryable: true, retry: { helps: 'yes' } });
    expect(retryHintFor('remoteFailed').helps).toBe('maybe');
    expect(retryHintFor('somethingNew')).toMatchObject({ helps: 'maybe' });
    // The page, the API's `retryable` and the CLI read one table: they never disagree.
    for (const code of [...Object.keys(RETRYABLE_RULES), 'somethingNew', undefined]) {
      expect(retryHintFor(code).helps !== 'no', String(code)).toBe(isRetryable(code));
    }
  });

  it('a done job has no hint', () => {
    expect(jobHints(job({ status: 'done', fileUrl: 'https://1fichier.com/?x' }), now)).toEqual({});
  });
});

describe('pacerView', () => {
  it('shows a running pause and an open circuit with its reason; a past pause as none', () => {
    const v = pacerView(
      {
        keyId: 'k',
        lastCallAt: now - 1000,
        pausedUntil: now + 60_000,
        floodCount: 2,
        circuitOpen: true,
        circuitReason: 'Not authenticated #247',
        circuitOpenedAt: now - 5000,
        circuitManual: true,
      },
      now,
    );
    expect(v).toEqual({
      pausedUntil: iso(now + 60_000),
      floodCount: 2,
      circuit: { open: true, reason: 'Not authenticated #247', openedAt: iso(now - 5000), manual: true },
    });
    expect(
      pacerView({ keyId: 'k', lastCallAt: 0, pausedUntil: now - 1, floodCount: 0, circuitOpen: false }, now),
    ).toEqual({ pausedUntil: null, floodCount: 0, circuit: { open: false } });
  });
});
