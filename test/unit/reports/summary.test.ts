import { describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../../../shared/app/metrics.js';
import type { Report } from '../../../shared/reports/store.js';
import { emitReportMetrics, REPORT_METRICS, summarizeReport } from '../../../shared/reports/summary.js';

const report = (over: Partial<Report> = {}): Report => ({
  period: { from: '2026-03-01T10:00:00.000Z', to: '2026-03-01T12:00:00.000Z' },
  counts: { queued: 3, submitting: 1, submitted: 2, done: 4, failed: 3 },
  completed: [
    { id: 'a', url: 'https://files.example.com/pub/a.mkv?sig=1', fileUrl: 'https://1fichier.com/?a' },
    { id: 'b', url: 'https://files.example.com/b.iso', fileUrl: 'https://1fichier.com/?b' },
  ],
  failures: [
    { id: 'c', url: 'https://x.example/c', error: { code: 'notFound', message: '404' } },
    { id: 'd', url: 'https://x.example/d', error: { code: 'notFound', message: '404' } },
    { id: 'e', url: 'https://x.example/e', error: { code: 'rejected', message: 'no' } },
  ],
  pacer: {
    keyId: 'k',
    lastCallAt: 0,
    pausedUntil: Date.parse('2026-03-01T12:10:00Z'),
    floodCount: 1,
    circuitOpen: true,
    circuitReason: 'Not authenticated #100',
  },
  calls: { ls: 1, info: 1 },
  requeued: 0,
  reconciled: 0,
  ...over,
});

describe('summarizeReport', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');

  it('gives throughput, files with names and links, failures by reason, queue depth and oldest wait, pacer state', () => {
    const s = summarizeReport(report(), { now, oldestQueuedAt: now - 90_000 });
    expect(s.throughputPerHour).toBe(2);
    expect(s.completed).toEqual([
      { id: 'a', name: 'a.mkv', fileUrl: 'https://1fichier.com/?a' },
      { id: 'b', name: 'b.iso', fileUrl: 'https://1fichier.com/?b' },
    ]);
    expect(s.failuresByReason).toEqual([
      { code: 'notFound', count: 2 },
      { code: 'rejected', count: 1 },
    ]);
    expect(s.queue).toEqual({ depth: 4, oldestWaitingS: 90 });
    expect(s.pacer).toEqual({
      circuitOpen: true,
      pausedUntil: '2026-03-01T12:10:00.000Z',
      why: 'Not authenticated #100',
    });
  });

  it('has no throughput for the first, open-ended period and no pause once it has ended', () => {
    const s = summarizeReport(
      report({ period: { from: null, to: '2026-03-01T12:00:00.000Z' }, pacer: null }),
      { now },
    );
    expect(s.throughputPerHour).toBe(0);
    expect(s.pacer).toEqual({ circuitOpen: false });
    expect(s.queue.oldestWaitingS).toBeUndefined();
  });

  it('takes the oldest waiting age from the note a worker left on the pacer item, while it is fresh', () => {
    const seenAt = now - 60_000;
    const noted = (at: number) =>
      report({
        period: { from: null, to: new Date(at).toISOString() },
        pacer: { ...report().pacer!, oldestWaiting: { createdAt: seenAt - 2 * 3_600_000, seenAt } },
      });
    // Its age when the worker saw it: 2 h.
    expect(summarizeReport(noted(now), { now }).queue.oldestWaitingS).toBe(7200);
    // Nobody has seen a long wait for 30 min: the age is no longer known.
    expect(summarizeReport(noted(now + 30 * 60_000), { now }).queue.oldestWaitingS).toBeUndefined();
    // An empty queue has waited 0 s, whatever the note says.
    const empty = { ...noted(now), counts: { queued: 0, submitting: 0, submitted: 0, done: 0, failed: 0 } };
    expect(summarizeReport(empty, { now }).queue).toEqual({ depth: 0, oldestWaitingS: 0 });
  });

  it('emits done, failed and queue depth as metrics', () => {
    const metrics = new MemoryMetrics();
    emitReportMetrics(summarizeReport(report(), { now }), metrics);
    expect(Object.fromEntries(metrics.counts)).toEqual({
      [REPORT_METRICS.done]: 4,
      [REPORT_METRICS.failed]: 3,
      [REPORT_METRICS.queueDepth]: 4,
    });
  });
});
