import { describe, expect, it } from 'vitest';
import { presentJob } from '../../../shared/http/present.js';
import { RETRYABLE_RULES } from '../../../shared/jobs/retryable.js';
import type { JobRecord } from '../../../shared/jobs/store.js';

const record = (over: Partial<JobRecord>): JobRecord => ({
  id: 'j1',
  userId: 'u1',
  url: 'https://example.com/a.iso',
  status: 'queued',
  folder: '',
  source: 'api',
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
  attempts: 1,
  ...over,
});

describe('presentJob', () => {
  it('a waiting queued job shows why it waits and its next attempt as ISO 8601', () => {
    const job = presentJob(
      record({ waitReason: 'flood pause', nextAttemptAt: Date.parse('2026-12-01T10:05:00Z') }),
    );
    expect(job).toMatchObject({ waitReason: 'flood pause', nextAttemptAt: '2026-12-01T10:05:00.000Z' });
    expect(job).not.toHaveProperty('retryable');
  });

  it('a failed job says whether retrying can help, by its error code', () => {
    const rejected = presentJob(
      record({ status: 'failed', error: { code: 'rejected', message: 'Resource not allowed' } }),
    );
    const remote = presentJob(
      record({ status: 'failed', error: { code: 'remoteFailed', message: 'HTTP 404' } }),
    );
    expect(rejected.retryable).toBe(false);
    expect(remote.retryable).toBe(true);
    expect(
      presentJob(record({ status: 'failed', error: { code: 'somethingNew', message: '?' } })).retryable,
    ).toBe(true);
  });

  it('leaves the hints out where they do not apply, and internal fields always', () => {
    const job = presentJob(
      record({ status: 'done', fileUrl: 'https://1fichier.com/?x', waitReason: 'old', claimToken: 'c' }),
    );
    expect(job).not.toHaveProperty('waitReason');
    expect(job).not.toHaveProperty('retryable');
    expect(job).not.toHaveProperty('claimToken');
    expect(job).not.toHaveProperty('userId');
  });

  it('every code the pipeline writes has a row with a note', () => {
    for (const code of [
      'remoteFailed',
      'stuck',
      'unconfirmed',
      'gaveUp',
      'unknownAnswer',
      'notPremium',
      'rejected',
      'notFound',
      'folderRejected',
      'invalid',
    ])
      expect(RETRYABLE_RULES[code]?.note).toBeTruthy();
  });
});
