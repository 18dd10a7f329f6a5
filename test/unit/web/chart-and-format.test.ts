/** The status page's pure helpers: the chart's geometry and the text it shows. */
import { describe, expect, it } from 'vitest';
import { layoutChart, niceMax } from '../../../web/src/chart.js';
import { describeTime, listItems, pick, relativeTime, safeHttpUrl } from '../../../web/src/format.js';

const hour = (h: number, submitted: number, done: number, failed: number) => ({
  hour: `2026-12-01T${String(h).padStart(2, '0')}:00:00.000Z`,
  submitted,
  done,
  failed,
});

describe('layoutChart', () => {
  it('scales every bar to a nice maximum and keeps them inside the plot', () => {
    const layout = layoutChart([hour(10, 3, 2, 1), hour(11, 7, 4, 0)], 600, 200);
    expect(layout.max).toBe(8);
    expect(layout.yTicks.map((t) => t.label)).toEqual(['0', '4', '8']);
    expect(layout.bars).toHaveLength(5); // a zero count draws no bar
    for (const b of layout.bars) {
      expect(b.x).toBeGreaterThanOrEqual(layout.plot.left);
      expect(b.x + b.width).toBeLessThanOrEqual(layout.plot.right);
      expect(b.y + b.height).toBeCloseTo(layout.plot.bottom);
      expect(b.y).toBeGreaterThanOrEqual(layout.plot.top);
    }
    const seven = layout.bars.find((b) => b.label === '11:00 UTC: 7 submitted');
    const three = layout.bars.find((b) => b.label === '10:00 UTC: 3 submitted');
    expect(seven!.height / three!.height).toBeCloseTo(7 / 3);
  });

  it('says what it shows in one sentence for screen readers', () => {
    expect(layoutChart([hour(1, 3, 2, 1), hour(2, 1, 1, 0)]).summary).toBe(
      'Over the last 2 hours: 4 submitted, 3 done, 1 failed.',
    );
  });

  it('draws an empty chart with a unit axis when there are no jobs', () => {
    const layout = layoutChart(Array.from({ length: 24 }, (_, i) => hour(i, 0, 0, 0)));
    expect(layout.bars).toEqual([]);
    expect(layout.max).toBe(1);
    expect(layout.yTicks.map((t) => t.label)).toEqual(['0', '1']);
    expect(layout.xTicks.map((t) => t.label)).toEqual(['00', '06', '12', '18', '23']);
  });

  it('niceMax rounds up to 1, 2, 4, 6 or 8 times a power of ten', () => {
    expect([0, 1, 3, 7, 10, 11, 49, 120].map(niceMax)).toEqual([1, 1, 4, 8, 10, 20, 60, 200]);
  });
});

describe('format', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  it('relative times in seconds, minutes, hours and days, past and future', () => {
    expect(relativeTime(now, now)).toBe('now');
    expect(relativeTime(now - 12_000, now)).toBe('12 s ago');
    expect(relativeTime(now + 3 * 60_000, now)).toBe('in 3 min');
    expect(relativeTime(now - 5 * 3_600_000, now)).toBe('5 h ago');
    expect(relativeTime(now + 3 * 86_400_000, now)).toBe('in 3 d');
  });

  it('describes an ISO time in UTC with its distance, and a dash for nothing', () => {
    expect(describeTime('2026-12-01T12:05:00Z', now)).toBe('2026-12-01 12:05:00 UTC (in 5 min)');
    expect(describeTime(undefined, now)).toBe('—');
    expect(describeTime('not a date', now)).toBe('—');
  });

  it('links only http and https URLs', () => {
    expect(safeHttpUrl('https://1fichier.com/?abc')).toBe('https://1fichier.com/?abc');
    expect(safeHttpUrl('javascript:alert(1)')).toBeUndefined();
    expect(safeHttpUrl('data:text/html,x')).toBeUndefined();
    expect(safeHttpUrl(42)).toBeUndefined();
  });

  it('reads list answers as a bare array or under a named field, ignoring non-objects', () => {
    expect(listItems([{ id: 'a' }, 3, null])).toEqual([{ id: 'a' }]);
    expect(listItems({ feeds: [{ id: 'f' }] }, 'feeds')).toEqual([{ id: 'f' }]);
    expect(listItems({ items: [{ id: 'i' }] }, 'feeds')).toEqual([{ id: 'i' }]);
    expect(listItems('nope')).toEqual([]);
    expect(pick({ a: '', b: null, c: 0 }, 'a', 'b', 'c')).toBe(0);
  });
});
