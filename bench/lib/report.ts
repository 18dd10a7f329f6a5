/**
 * The benchmark report: every figure is a row with the value we measured and the baseline measured in
 * the same run, written to `bench/out/` (or `BENCH_OUT`, and `bench/results.json` when saved) and printed
 * as a table.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Whether a larger value is better (throughput) or worse (latency, cost, calls). */
export type Better = 'higher' | 'lower' | 'none';

/** One measured figure and its baseline. */
export interface Row {
  /** Section, e.g. `pipeline`, `ingest`, `cold-start`, `cost`, `memory`. */
  section: string;
  metric: string;
  unit: string;
  value: number;
  /** The same figure for the baseline, measured in the same run (absent when there is none). */
  baseline?: number;
  /** What the baseline is, e.g. `naive: 1 URL per call at 400 ms`. */
  baselineLabel?: string;
  better: Better;
  /** How the figure was obtained when that is not obvious (subset extrapolated, estimate...). */
  note?: string;
}

/**
 * A row maker for one section whose figures share a baseline and are all better lower (cost and
 * observability sections).
 */
export function lowerIsBetterRows(
  section: string,
  baselineLabel: string,
): (metric: string, unit: string, value: number, baseline: number, note?: string) => Row {
  return (metric, unit, value, baseline, note) => ({
    section,
    metric,
    unit,
    value,
    baseline,
    baselineLabel,
    better: 'lower',
    ...(note ? { note } : {}),
  });
}

/** The whole results file. */
export interface Results {
  startedAt: string;
  finishedAt: string;
  mode: 'quick' | 'full';
  machine: { node: string; cpus: number; platform: string; totalMemGiB: number };
  /** The parameters of this run (N, rate, durations...). */
  params: Record<string, unknown>;
  rows: Row[];
  /** Raw figures of each section, for whoever wants more than the table. */
  details: Record<string, unknown>;
}

/** `value / baseline` expressed as "how many times better", or undefined without a baseline. */
export function gain(row: Row): number | undefined {
  if (row.baseline === undefined || row.better === 'none') return undefined;
  if (row.better === 'higher') return row.baseline === 0 ? undefined : row.value / row.baseline;
  return row.value === 0 ? undefined : row.baseline / row.value;
}

/** Formats a number for the table: integers with separators, small values with 3 significant digits. */
export function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '-';
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000 || Number.isInteger(n)) return Math.round(n).toLocaleString('en-US');
  if (abs >= 10) return n.toFixed(1);
  if (abs === 0) return '0';
  return n.toPrecision(3);
}

/** The rows as a plain-text table (also used for docs/performance.md as Markdown when `markdown`). */
export function formatTable(rows: readonly Row[], markdown = false): string {
  const head = ['section', 'metric', 'value', 'unit', 'baseline', 'gain', 'baseline is'];
  const body = rows.map((r) => {
    const g = gain(r);
    return [
      r.section,
      r.metric,
      fmt(r.value),
      r.unit,
      fmt(r.baseline),
      g === undefined ? '-' : `${g >= 10 ? g.toFixed(0) : g.toFixed(2)}x`,
      r.baselineLabel ?? '-',
    ];
  });
  if (markdown) {
    const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
    return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const pad = (cells: string[]) =>
    cells
      .map((c, i) => (i === 2 || i === 4 || i === 5 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ');
  return [pad(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(pad)].join('\n');
}

/** Writes the results atomically (a `.tmp` file renamed over the target), creating its folder. */
export function writeResults(path: string, results: Results): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(tmp, path);
}

/** Median of a list (0 for an empty one). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (0 for an empty list). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? 0;
}
