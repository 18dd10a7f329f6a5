/**
 * `GET /status`: what the status page shows about the caller's own jobs and the relay's pacer, in one read.
 * Jobs come from the user's job index (newest first, like `GET /jobs`), at most {@link STATUS_LIMITS}
 * `maxJobs` of the last `hours`; the pacer is the key's pacer item, read only.
 */

import type { Clock } from '../fichier/clock.js';
import { keyIdOf } from '../fichier/key-id.js';
import type { PacerState } from '../fichier/pacer.js';
import type { KeyProvider } from '../fichier/types.js';
import { presentJob } from '../http/present.js';
import type { Job } from '../jobs/model.js';
import type { RemoteStore } from '../jobs/remote-store.js';
import { withShownStatus } from '../jobs/shown-status.js';
import type { JobRecord, JobStore } from '../jobs/store.js';
import { type JobHints, jobHints } from './hints.js';
import { type JobSummary, summariseJobs } from './view.js';

/** How much `GET /status` reads. */
export const STATUS_LIMITS = {
  /** Jobs listed as recent. */
  recent: 25,
  /** Hours of the chart (and of the counts' window). */
  hours: 24,
  /** Jobs read at most: the counts and the chart say `partial` when the window holds more. */
  maxJobs: 500,
  /** Jobs per page of the user index. */
  pageSize: 100,
} as const;

/** The pacer as the page shows it. */
export interface PacerView {
  /** ISO end of a flood pause, null when no pause is running. */
  pausedUntil: string | null;
  floodCount: number;
  circuit: { open: boolean; reason?: string; openedAt?: string; manual?: boolean; probedAt?: string };
}

/** The body of `GET /status`. */
export interface StatusView extends JobSummary {
  now: string;
  /** The counts and hours cover jobs created since `since`; `partial` when more jobs were left unread. */
  window: { since: string; jobs: number; partial: boolean };
  recent: (Job & JobHints)[];
  /** null when the relay has no 1fichier key to read it for. */
  pacer: PacerView | null;
}

/** What {@link loadStatus} reads. */
export interface StatusDeps {
  store: Pick<JobStore, 'listForUser'>;
  /** Shows a sent job `submitted` from its claim's request item, as `GET /jobs` does. */
  remotes: Pick<RemoteStore, 'remotesOfClaim'>;
  pacer: { state(keyId: string): Promise<PacerState> };
  keyProvider: Pick<KeyProvider, 'get'>;
  clock: Pick<Clock, 'now'>;
}

/** The pacer state as the page shows it. */
export function pacerView(s: PacerState, now: number): PacerView {
  const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);
  const circuit: PacerView['circuit'] = { open: s.circuitOpen };
  if (s.circuitOpen) {
    if (s.circuitReason) circuit.reason = s.circuitReason;
    const openedAt = iso(s.circuitOpenedAt);
    if (openedAt) circuit.openedAt = openedAt;
    if (s.circuitManual) circuit.manual = true;
    const probedAt = iso(s.circuitProbedAt);
    if (probedAt) circuit.probedAt = probedAt;
  }
  return {
    pausedUntil: s.pausedUntil > now ? new Date(s.pausedUntil).toISOString() : null,
    floodCount: s.floodCount,
    circuit,
  };
}

/** Reads the status of `userId`'s jobs and of the pacer. */
export async function loadStatus(userId: string, deps: StatusDeps): Promise<StatusView> {
  const now = deps.clock.now();
  const since = now - STATUS_LIMITS.hours * 3_600_000;
  const jobs: JobRecord[] = [];
  let cursor: string | undefined;
  let partial = false;
  for (;;) {
    const page = await deps.store.listForUser(userId, {
      limit: STATUS_LIMITS.pageSize,
      ...(cursor ? { cursor } : {}),
    });
    let older = false;
    for (const job of page.items) {
      if (Date.parse(job.createdAt) < since) {
        older = true;
        break;
      }
      jobs.push(job);
    }
    if (older || !page.next) break;
    if (jobs.length >= STATUS_LIMITS.maxJobs) {
      partial = true;
      break;
    }
    cursor = page.next;
  }
  const shown = await withShownStatus(jobs, deps.remotes);
  const summary = summariseJobs(shown, now, STATUS_LIMITS.hours);
  return {
    now: new Date(now).toISOString(),
    window: { since: new Date(since).toISOString(), jobs: shown.length, partial },
    ...summary,
    recent: shown.slice(0, STATUS_LIMITS.recent).map((j) => ({ ...presentJob(j), ...jobHints(j, now) })),
    pacer: await readPacer(deps, now),
  };
}

async function readPacer(deps: StatusDeps, now: number): Promise<PacerView | null> {
  let key: string;
  try {
    key = await deps.keyProvider.get();
  } catch {
    return null;
  }
  if (!key) return null;
  return pacerView(await deps.pacer.state(keyIdOf(key)), now);
}
