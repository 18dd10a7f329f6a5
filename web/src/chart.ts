/**
 * Geometry of the jobs-per-hour chart (pure: no DOM). For each hour, three bars side by side
 * (submitted, done, failed) on a shared scale; `main.ts` draws them as SVG rectangles.
 */

/** One hour as `GET /status` gives it. */
export interface HourCounts {
  hour: string;
  submitted: number;
  done: number;
  failed: number;
}

export const SERIES = ['submitted', 'done', 'failed'] as const;
export type Series = (typeof SERIES)[number];

/** A bar: where to draw it, and what it means (for its tooltip). */
export interface Bar {
  series: Series;
  x: number;
  y: number;
  width: number;
  height: number;
  label: string;
}

/** A labelled position on an axis. */
export interface Tick {
  at: number;
  label: string;
}

/** Everything to draw, in viewBox units. */
export interface ChartLayout {
  width: number;
  height: number;
  /** Plot area. */
  plot: { left: number; top: number; right: number; bottom: number };
  bars: Bar[];
  yTicks: Tick[];
  xTicks: Tick[];
  max: number;
  /** One sentence for screen readers. */
  summary: string;
}

/** A "nice" axis maximum at or above `n` (1, 2, 4, 6 or 8 × 10^k), so that its half is whole from 2 up. */
export function niceMax(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 4, 6, 8, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/** Lays out the chart of `hours` (oldest first) in a `width` × `height` viewBox. */
export function layoutChart(hours: readonly HourCounts[], width = 600, height = 200): ChartLayout {
  const plot = { left: 32, top: 8, right: width - 6, bottom: height - 22 };
  const max = niceMax(Math.max(0, ...hours.flatMap((h) => SERIES.map((s) => h[s]))));
  const slot = hours.length ? (plot.right - plot.left) / hours.length : 0;
  const barWidth = Math.max(1, (slot * 0.8) / SERIES.length);
  const scale = (v: number) => ((plot.bottom - plot.top) * v) / max;
  const bars: Bar[] = [];
  hours.forEach((h, i) => {
    SERIES.forEach((s, j) => {
      const v = h[s];
      if (v <= 0) return;
      const barHeight = Math.max(1, scale(v));
      bars.push({
        series: s,
        x: plot.left + i * slot + slot * 0.1 + j * barWidth,
        y: plot.bottom - barHeight,
        width: barWidth,
        height: barHeight,
        label: `${h.hour.slice(11, 16)} UTC: ${v} ${s}`,
      });
    });
  });
  // Counts are whole: no half-way line when the maximum is 1.
  const yTicks = [0, max / 2, max]
    .filter((v) => Number.isInteger(v))
    .map((v) => ({ at: plot.bottom - scale(v), label: String(v) }));
  const xTicks: Tick[] = [];
  hours.forEach((h, i) => {
    if (i % 6 === 0 || i === hours.length - 1) {
      xTicks.push({ at: plot.left + i * slot + slot / 2, label: h.hour.slice(11, 13) });
    }
  });
  const total = (s: Series) => hours.reduce((n, h) => n + h[s], 0);
  const summary = `Over the last ${hours.length} hours: ${total('submitted')} submitted, ${total('done')} done, ${total('failed')} failed.`;
  return { width, height, plot, bars, yTicks, xTicks, max, summary };
}
