/**
 * Terminal output: colours only on a TTY without `NO_COLOR`, progress lines redrawn only on a TTY,
 * JSON for scripts, and small formatting helpers (tables, durations).
 */
import type { Readable, Writable } from 'node:stream';

/** The process's streams and environment, passed in so tests and the shim share one code path. */
export interface Io {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** How to print, decided once per run. */
export interface Out {
  io: Io;
  /** `--json`: one JSON document (or one per line for streams) on stdout, nothing else there. */
  json: boolean;
  /** stdout is a terminal: progress may be redrawn. */
  tty: boolean;
  color: boolean;
  line(text?: string): void;
  err(text: string): void;
  printJson(value: unknown): void;
  paint: Paint;
}

export interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  cyan(s: string): string;
}

const sgr = (on: boolean, open: number, close: number) => (s: string) =>
  on ? `\u001b[${open}m${s}\u001b[${close}m` : s;

/** Builds the printer. Colours follow https://no-color.org: any non-empty `NO_COLOR` turns them off. */
export function createOut(io: Io, json: boolean): Out {
  const tty = io.stdout.isTTY === true;
  const color = tty && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
  return {
    io,
    json,
    tty,
    color,
    line: (text = '') => io.stdout.write(`${text}\n`),
    err: (text) => io.stderr.write(`${text}\n`),
    printJson: (value) => io.stdout.write(`${JSON.stringify(value, null, json && tty ? 2 : undefined)}\n`),
    paint: {
      green: sgr(color, 32, 39),
      red: sgr(color, 31, 39),
      yellow: sgr(color, 33, 39),
      dim: sgr(color, 2, 22),
      bold: sgr(color, 1, 22),
      cyan: sgr(color, 36, 39),
    },
  };
}

/** `1h 2m`, `4m 10s`, `12s`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Local time `HH:MM:SS` for today, else `YYYY-MM-DD HH:MM`. */
export function formatTime(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (Math.abs(now - d.getTime()) < 20 * 3600_000) return hms;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hms.slice(0, 5)}`;
}

/** Aligned columns; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, visibleLength(c));
  }
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleLength(c))))
      .join('  '),
  );
}

/** Length without ANSI colour sequences. */
export function visibleLength(s: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the SGR sequences we emit
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A status line redrawn in place on a TTY (`\r` + clear line); lines printed through `print` go above it.
 * Off a TTY it does nothing but pass `print` through, so logs and pipes get plain lines.
 */
export class LiveLine {
  private frame = 0;
  private shown = false;
  constructor(private readonly out: Out) {}

  /** Redraws the status line (TTY only). */
  update(text: string): void {
    if (!this.out.tty || this.out.json) return;
    const spin = this.out.paint.cyan(SPINNER[this.frame++ % SPINNER.length] ?? '');
    this.out.io.stdout.write(`\r\u001b[2K${spin} ${text}`);
    this.shown = true;
  }

  /** Prints a line above the status line. */
  print(text: string): void {
    this.clear();
    this.out.line(text);
  }

  /** Removes the status line. */
  clear(): void {
    if (this.shown) this.out.io.stdout.write('\r\u001b[2K');
    this.shown = false;
  }
}

/** `[██████░░░░] 6/10` */
export function progressBar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${total}`;
}
