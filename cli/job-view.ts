/**
 * How a job reads in a terminal: one line with its status, then what a person needs to act on it — the
 * file link, why it waits and when it is tried next, or why it failed and whether retrying can help.
 */
import { formatDuration, formatTime, type Paint } from './output.js';

/** A job as the API shows it (the fields the CLI reads). */
export interface ApiJob {
  id: string;
  url: string;
  status: 'queued' | 'submitting' | 'submitted' | 'done' | 'failed';
  folder?: string;
  source?: string;
  createdAt?: string;
  updatedAt?: string;
  attempts?: number;
  remoteId?: number;
  fileUrl?: string;
  error?: { code: string; message: string };
  waitReason?: string;
  nextAttemptAt?: string;
  retryable?: boolean;
}

/** The status word, coloured. */
export function statusWord(status: string, paint: Paint): string {
  const padded = status.padEnd(10);
  if (status === 'done') return paint.green(padded);
  if (status === 'failed') return paint.red(padded);
  if (status === 'queued') return paint.yellow(padded);
  return paint.cyan(padded);
}

/** What to say after the status: link, wait, or failure with the retry hint. */
export function jobDetail(job: ApiJob, paint: Paint, now = Date.now()): string[] {
  const lines: string[] = [];
  if (job.status === 'done' && job.fileUrl) lines.push(`file: ${job.fileUrl}`);
  if (job.status === 'queued' && (job.waitReason || job.nextAttemptAt)) {
    const when = job.nextAttemptAt
      ? `next attempt ${formatTime(job.nextAttemptAt, now)} (in ${formatDuration(Date.parse(job.nextAttemptAt) - now)})`
      : 'next attempt when the relay resumes';
    lines.push(paint.yellow(`waiting: ${job.waitReason ?? 'paced'}; ${when}`));
  }
  if (job.status === 'failed') {
    const err = job.error ? `${job.error.code}: ${job.error.message}` : 'no reason recorded';
    lines.push(paint.red(`failed: ${err}`));
    if (job.retryable === false)
      lines.push('retrying will not help: fix the cause (see the reason) and post the URL again');
    else lines.push(`retrying may help: relay retry ${job.id}`);
  }
  return lines;
}

/** `<id>  <status>  <url>` and indented details. */
export function jobLines(job: ApiJob, paint: Paint, now = Date.now()): string[] {
  return [
    `${job.id}  ${statusWord(job.status, paint)} ${job.url}`,
    ...jobDetail(job, paint, now).map((l) => `    ${l}`),
  ];
}

/** The full view of `relay status`. */
export function jobStatusView(job: ApiJob, paint: Paint, now = Date.now()): string[] {
  const rows: [string, string | undefined][] = [
    ['id', job.id],
    ['status', statusWord(job.status, paint).trimEnd()],
    ['url', job.url],
    ['folder', job.folder || '(root)'],
    ['source', job.source],
    ['created', job.createdAt],
    ['updated', job.updatedAt],
    ['attempts', job.attempts === undefined ? undefined : String(job.attempts)],
    ['remote id', job.remoteId === undefined ? undefined : String(job.remoteId)],
  ];
  const out = rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${k.padEnd(10)} ${v}`);
  return [...out, ...jobDetail(job, paint, now)];
}

export const TERMINAL = new Set(['done', 'failed']);
