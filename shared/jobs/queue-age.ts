/**
 * The queue's age, which the SQS API does not give (only CloudWatch's `ApproximateAgeOfOldestMessage`
 * has it): a worker reads every job of its batch anyway, so when one of them has waited long it notes
 * the oldest on the pacer item, which the worker and the poller read anyway. Writes happen only while
 * jobs wait long, at most once per {@link QUEUE_AGE_NOTE_MS} per key (plus a write for an older job);
 * a note nobody refreshed for {@link QUEUE_AGE_FRESH_MS} no longer stands. The poller reads it for the
 * report's oldest waiting age and the outage watch's "queue age over 1 h".
 */
import type { PacerState, WaitingNote } from '../fichier/pacer.js';
import type { JobRecord } from './store.js';

/** A job waiting at least this long is noted; a note is refreshed at most this often. */
export const QUEUE_AGE_NOTE_MS = 5 * 60_000;
/**
 * How long a note stands without a refresh: a waiting job comes back to a worker at least every 15 min
 * (SQS's longest message delay) while it waits, so a note older than this means nothing waits long now.
 */
export const QUEUE_AGE_FRESH_MS = 15 * 60_000 + QUEUE_AGE_NOTE_MS;

/** Whether `note` replaces `current` (a refresh, or an older job than the one noted). */
export function replacesNote(current: WaitingNote | undefined, note: WaitingNote): boolean {
  if (!current) return true;
  return note.seenAt - current.seenAt >= QUEUE_AGE_NOTE_MS || note.createdAt < current.createdAt;
}

/**
 * The note a worker writes after reading its batch's jobs: the oldest still `queued` (deferred ones
 * included), when it has waited {@link QUEUE_AGE_NOTE_MS} and the stored note does not already say so.
 */
export function waitingNoteFor(
  jobs: Iterable<Pick<JobRecord, 'status' | 'createdAt'>>,
  state: Pick<PacerState, 'oldestWaiting'>,
  now: number,
): WaitingNote | undefined {
  let oldest = Number.POSITIVE_INFINITY;
  for (const job of jobs) {
    if (job.status !== 'queued') continue;
    const at = Date.parse(job.createdAt);
    if (at < oldest) oldest = at;
  }
  if (!Number.isFinite(oldest) || now - oldest < QUEUE_AGE_NOTE_MS) return undefined;
  const note = { createdAt: oldest, seenAt: now };
  return replacesNote(state.oldestWaiting, note) ? note : undefined;
}

/**
 * The creation time the oldest waiting job stands for at `now`, from the pacer's note: its age when a
 * worker last saw it (the note does not grow between refreshes). Undefined when no fresh note exists,
 * i.e. no job has waited {@link QUEUE_AGE_NOTE_MS} lately.
 */
export function oldestWaitingAt(
  state: Pick<PacerState, 'oldestWaiting'> | null | undefined,
  now: number,
): number | undefined {
  const note = state?.oldestWaiting;
  if (!note || now - note.seenAt > QUEUE_AGE_FRESH_MS) return undefined;
  return now - Math.max(0, note.seenAt - note.createdAt);
}
