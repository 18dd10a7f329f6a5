import { describe, expect, it } from 'vitest';
import type { Row } from '../../../bench/lib/report.js';
import { isTimingRow, withMeteredNotes } from '../../../bench/pipeline.js';

const row = (metric: string, value: number, note?: string): Row => ({
  section: 'pipeline',
  metric,
  unit: 'x',
  value,
  better: 'higher',
  ...(note ? { note } : {}),
});

describe('pipeline rows from a metered and an unmetered run', () => {
  it('tells timing rows (allowance, time to done, RSS, floods) from counted ones', () => {
    expect(isTimingRow(row('1fichier allowance used (calls ÷ slots at 53 ms, R = 20)', 0.8))).toBe(true);
    expect(isTimingRow(row('time from 1fichier finishing to done, p50', 5))).toBe(true);
    expect(isTimingRow(row('runtime peak RSS during the pipeline (VmHWM)', 180))).toBe(true);
    expect(isTimingRow(row('flood locks (must be 0)', 0))).toBe(true);
    expect(isTimingRow(row('1fichier calls per URL (all endpoints)', 0.2))).toBe(false);
    expect(isTimingRow(row('worker invocation duration, mean', 240))).toBe(false);
  });

  it('takes timing rows from the unmetered run, noting the metered value, and keeps the counts metered', () => {
    const metered = [
      row('1fichier allowance used (R = 20)', 0.78, 'goal >= 0.95'),
      row('1fichier calls per URL (all endpoints)', 0.202),
    ];
    const timed = [
      row('1fichier allowance used (R = 20)', 0.83, 'goal >= 0.95'),
      row('1fichier calls per URL (all endpoints)', 0.3),
    ];
    const out = withMeteredNotes(metered, timed);
    expect(out.map((r) => r.value)).toEqual([0.83, 0.202]);
    expect(out[0]?.note).toBe(
      "goal >= 0.95; with the bench's meters on (the run the counts come from): 0.780",
    );
    expect(out[1]?.note).toBeUndefined();
  });
});
