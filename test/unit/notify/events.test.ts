import { describe, expect, it } from 'vitest';
import {
  buildReportDigest,
  countReasons,
  fileNameOf,
  jobEvent,
  messageIdFor,
  outageEvent,
  reportEvent,
  summarizeFailures,
  toEnvelope,
} from '../../../shared/notify/events.js';
import { failedJob, job } from './fixtures.js';

describe('jobEvent', () => {
  it('makes job.done for a done job and job.failed for a failed one, at updatedAt', () => {
    const done = jobEvent(job());
    const failed = jobEvent(failedJob(1));

    expect(done).toMatchObject({ type: 'job.done', occurredAt: '2026-03-01T10:00:00.000Z' });
    expect(failed?.type).toBe('job.failed');
  });

  it.each(['queued', 'submitting', 'submitted'] as const)('makes no event for a %s job', (status) => {
    expect(jobEvent(job({ status }))).toBeUndefined();
  });
});

describe('toEnvelope', () => {
  it('is {type, timestamp, data} with the job JSON as data', () => {
    const j = job();

    const envelope = toEnvelope(jobEvent(j)!);

    expect(envelope).toEqual({ type: 'job.done', timestamp: j.updatedAt, data: j });
  });

  it('dates an outage recovery at its end', () => {
    const event = outageEvent({
      state: 'recovered',
      causes: ['circuitOpen'],
      since: '2026-03-01T10:00:00.000Z',
      until: '2026-03-01T11:00:00.000Z',
    });

    expect(toEnvelope(event).timestamp).toBe('2026-03-01T11:00:00.000Z');
  });
});

describe('messageIdFor', () => {
  const event = jobEvent(job())!;

  it('is msg_ and 32 hex digits, with no "."', () => {
    expect(messageIdFor('tgt_1', event)).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it('is the same for the same target and event, so retries keep their webhook-id', () => {
    expect(messageIdFor('tgt_1', event)).toBe(messageIdFor('tgt_1', jobEvent(job())!));
  });

  it('differs between targets', () => {
    expect(messageIdFor('tgt_1', event)).not.toBe(messageIdFor('tgt_2', event));
  });

  it('differs when a retried job fails again later', () => {
    const first = jobEvent(failedJob(1, 'notFound', Date.parse('2026-03-01T10:00:00Z')))!;
    const second = jobEvent(failedJob(1, 'notFound', Date.parse('2026-03-01T12:00:00Z')))!;

    expect(messageIdFor('tgt_1', first)).not.toBe(messageIdFor('tgt_1', second));
  });

  it('gives a failure summary the same id whatever the order of its jobs', () => {
    const jobs = [failedJob(1), failedJob(2), failedJob(3)];

    const a = messageIdFor('tgt_1', summarizeFailures(jobs));
    const b = messageIdFor('tgt_1', summarizeFailures([...jobs].reverse()));

    expect(a).toBe(b);
  });
});

describe('countReasons and summarizeFailures', () => {
  it('counts by error code, largest first', () => {
    const jobs = [
      failedJob(1, 'rejected'),
      failedJob(2),
      failedJob(3),
      failedJob(4, 'rejected'),
      failedJob(5),
    ];

    expect(countReasons(jobs)).toEqual([
      { code: 'notFound', count: 3 },
      { code: 'rejected', count: 2 },
    ]);
  });

  it('counts a failure without an error as unknown', () => {
    expect(countReasons([job({ status: 'failed', error: undefined })])).toEqual([
      { code: 'unknown', count: 1 },
    ]);
  });

  it('dates a summary at its latest failure', () => {
    const jobs = [failedJob(1, 'notFound', Date.parse('2026-03-01T10:00:30Z')), failedJob(2)];

    expect(summarizeFailures(jobs).occurredAt).toBe('2026-03-01T10:00:30.000Z');
  });
});

describe('buildReportDigest', () => {
  it('counts only the jobs that ended inside the period', () => {
    const period = { from: '2026-03-01T09:00:00.000Z', to: '2026-03-01T10:00:00.000Z' };
    const jobs = [
      job({ id: 'a', updatedAt: '2026-03-01T09:10:00.000Z' }),
      job({ id: 'b', updatedAt: '2026-03-01T09:59:59.999Z' }),
      job({ id: 'late', updatedAt: '2026-03-01T10:00:00.000Z' }),
      failedJob(1, 'notFound', Date.parse('2026-03-01T09:30:00Z')),
      job({ id: 'queued', status: 'queued', updatedAt: '2026-03-01T09:30:00.000Z' }),
    ];

    const digest = buildReportDigest({ digest: 'hourly', period, jobs });

    expect(digest).toMatchObject({ done: 2, failed: 1, failedByReason: [{ code: 'notFound', count: 1 }] });
    expect(digest.completed.map((c) => c.id)).toEqual(['a', 'b']);
    expect(reportEvent(digest)).toMatchObject({ type: 'report', occurredAt: period.to });
  });

  it('lists at most maxEntries of each kind but counts them all', () => {
    const jobs = Array.from({ length: 30 }, (_, i) =>
      job({ id: `j${i}`, updatedAt: '2026-03-01T09:30:00.000Z' }),
    );

    const digest = buildReportDigest({
      digest: 'daily',
      period: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' },
      jobs,
      maxEntries: 5,
    });

    expect(digest.done).toBe(30);
    expect(digest.completed).toHaveLength(5);
  });
});

describe('fileNameOf', () => {
  it('is the decoded last path segment of the source URL', () => {
    expect(fileNameOf({ url: 'https://x.example/a/holiday%20video.mkv?sig=abc' })).toBe('holiday video.mkv');
  });

  it('is the host when the path is empty', () => {
    expect(fileNameOf({ url: 'https://x.example/' })).toBe('x.example');
  });

  it('keeps a segment that is not valid percent-encoding', () => {
    expect(fileNameOf({ url: 'https://x.example/100%25%zz' })).toBe('100%25%zz');
  });
});
