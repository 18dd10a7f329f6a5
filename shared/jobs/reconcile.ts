/**
 * Finding out whether 1fichier already holds a job we may have submitted (a crash, a timeout or a gateway
 * error after remote/request.cgi): look in remote/ls.cgi for requests made during the job's submit
 * attempt, and in their remote/info.cgi `links` / `result[].url` for the job's URL. Nothing is ever
 * resubmitted before this, and "not there" is only believed after two readings a poll cycle apart, each
 * covering the attempt's whole window (docs/1fichier-api.md, "Open questions").
 */
import type { Deps } from '../app/deps.js';
import { FichierError } from '../fichier/errors.js';
import type { FichierApi, RemoteInfoResult, RemoteListEntry } from '../fichier/types.js';
import { fichierDateCandidates } from './fichier-dates.js';
import type { RemoteRecord, RemoteStore } from './remote-store.js';
import { type JobRecord, type JobStore, TransitionConflictError } from './store.js';

/**
 * Slack on the time window test: 1fichier's clock and ours may differ by up to 10 minutes, and its dates
 * have one-second resolution in a zone we convert (both UTC+1 and UTC+2 readings are tried besides).
 */
export const RECONCILE_SKEW_MS = 10 * 60_000;
/**
 * Most remote/info.cgi calls one reconciliation may make: each is a paced call (~1 s), and it must fit in a
 * 60 s Lambda. Jobs it could not decide within this budget are reported undetermined, never "not found".
 */
export const RECONCILE_MAX_INFO_CALLS = 30;

/** remote/ls and remote/info answers shared across one cycle, so no request is read twice. */
export interface RemoteView {
  list?: RemoteListEntry[];
  info: Map<number, RemoteInfoResult>;
  calls: { ls: number; info: number };
  /**
   * Followed requests whose item lists every job they hold ({@link RemoteRecord}`.complete`): whether
   * such a request holds a job is known without remote/info.cgi.
   */
  known: Map<number, RemoteRecord>;
  /**
   * Every request we follow (1fichier gave us its id, so it exists): one missing from a listing proves
   * that listing is cut short.
   */
  followed: Set<number>;
  /**
   * Jobs a followed request holds under their current claim (`job id → claim`): already known to be at
   * 1fichier, so never reconciled.
   */
  sent: Map<string, string>;
}

/** A fresh view; `remotes` (from `store.openRemotes()`) fill `known` with the complete ones. */
export function newRemoteView(remotes: readonly RemoteRecord[] = []): RemoteView {
  const known = new Map(remotes.filter((r) => r.complete).map((r) => [r.remoteId, r]));
  return {
    info: new Map(),
    calls: { ls: 0, info: 0 },
    known,
    followed: new Set(remotes.map((r) => r.remoteId)),
    sent: new Map(remotes.flatMap((r) => r.jobIds.map((id) => [id, r.claimToken] as const))),
  };
}

/**
 * Whether candidate `id` holds `job`, as far as `view` knows without a call: from a complete followed
 * request (by job id: its item lists exactly the jobs sent in it), else from a remote/info answer read
 * (by URL); undefined when neither is at hand.
 */
function holds(view: RemoteView, id: number, job: JobRecord): boolean | undefined {
  const known = view.known.get(id);
  if (known) return known.jobIds.includes(job.id);
  const info = view.info.get(id);
  return info ? urlsOf(info).includes(job.url) : undefined;
}

/** The URLs a remote request holds, from `links` and `result[].url`. */
export function urlsOf(info: RemoteInfoResult): string[] {
  return [...(info.links ?? []), ...(info.result ?? []).map((r) => r.url)];
}

/** remote/info.cgi through the view's cache. */
export async function infoOf(fichier: FichierApi, view: RemoteView, id: number): Promise<RemoteInfoResult> {
  let info = view.info.get(id);
  if (!info) {
    info = await fichier.remoteInfo(id);
    view.calls.info += 1;
    view.info.set(id, info);
  }
  return info;
}

/** remote/ls.cgi through the view's cache. */
export async function listOf(fichier: FichierApi, view: RemoteView): Promise<RemoteListEntry[]> {
  if (!view.list) {
    view.list = await fichier.remoteList();
    view.calls.ls += 1;
  }
  return view.list;
}

/** Outcome of {@link reconcileRemote}. */
export interface Reconciliation {
  /**
   * Jobs held by a remote request made during their submit attempt (its URL in remote/info.cgi, or the
   * job in a complete followed request): that request's id.
   */
  found: Map<string, number>;
  /** Jobs not decided (the info budget ran out first): keep them `submitting` and try again later. */
  undetermined: Set<string>;
  /**
   * Undetermined jobs whose progress moved past their `reconcileCheckedThrough`: the new value, to store
   * with {@link saveReconcileProgress} so the next try starts after it.
   */
  progress: Map<string, number>;
  /**
   * Jobs whose request is not in this reading although the reading covers their whole window: absent
   * on this reading (one reading is not proof: see {@link reconcileJobs}).
   */
  absent: Set<string>;
}

/** The window of remote request dates of a job's latest submit attempt, with the skew slack. */
function windowOf(job: JobRecord): { from: number; to: number } {
  const from = (job.submitAttemptAt ?? 0) - RECONCILE_SKEW_MS;
  const to = Math.max(job.leaseUntil ?? 0, job.submitAttemptAt ?? 0) + RECONCILE_SKEW_MS;
  return { from, to };
}

interface Candidate {
  entry: RemoteListEntry;
  /** Every instant the request date may stand for (see {@link fichierDateCandidates}); empty if unreadable. */
  at: number[];
}

/** remote/ls entries with their dates, ascending id. */
function datedList(list: readonly RemoteListEntry[]): Candidate[] {
  return list
    .map((entry) => ({ entry, at: fichierDateCandidates(entry.request_date) }))
    .sort((a, b) => a.entry.id - b.entry.id);
}

/**
 * Whether `c` may hold `job`: dated within the job's window by any reading of its date (an unreadable
 * date counts: look rather than risk a second submission) and above the progress already recorded.
 */
function isCandidate(job: JobRecord, c: Candidate): boolean {
  if (job.reconcileCheckedThrough !== undefined && c.entry.id <= job.reconcileCheckedThrough) return false;
  if (c.at.length === 0) return true;
  const w = windowOf(job);
  return c.at.some((t) => t >= w.from && t <= w.to);
}

/**
 * Whether a reading can prove requests absent. The listing's paging and retention are unknown: it may be
 * cut to the newest requests. A request we follow (1fichier gave us its id) that is missing from the
 * listing proves it is cut, and then nothing is proven absent (nor progress recorded past hidden ids).
 */
function listingComplete(dated: readonly Candidate[], view: RemoteView): boolean {
  const listed = new Set(dated.map((c) => c.entry.id));
  for (const id of view.followed) if (!listed.has(id)) return false;
  return true;
}

/**
 * For each job, the highest remote id up to which every candidate (ascending id) was read in `view` and
 * does not hold the job's URL, when that is above the job's `reconcileCheckedThrough`. It stops before the
 * first candidate not read and before one that holds the URL, so it is safe whatever was decided, and
 * also after a cycle that an error cut short. Relies on 1fichier giving remote requests increasing ids:
 * a request not yet listed now can only get an id above every id listed; and only a listing shown whole
 * counts, since one cut to the newest requests hides lower ids.
 */
export function reconcileProgress(jobs: readonly JobRecord[], view: RemoteView): Map<string, number> {
  const out = new Map<string, number>();
  if (!view.list) return out;
  const dated = datedList(view.list);
  // A listing cut to the newest requests may hide older ids of the window: progress would skip them.
  if (!listingComplete(dated, view)) return out;
  for (const job of jobs) {
    let through: number | undefined;
    for (const c of dated) {
      if (!isCandidate(job, c)) continue;
      if (holds(view, c.entry.id, job) !== false) break; // not read yet, or the job's request
      through = c.entry.id;
    }
    if (through !== undefined) out.set(job.id, through);
  }
  return out;
}

/**
 * Stores reconciliation progress (a {@link Reconciliation}'s `progress`, or {@link reconcileProgress} of a
 * view an error cut short), conditional on each job's claim token, without a status change. Returns how
 * many jobs recorded progress.
 */
export async function saveReconcileProgress(
  store: Pick<JobStore, 'recordReconcileProgress'>,
  jobs: readonly JobRecord[],
  progress: ReadonlyMap<string, number>,
): Promise<number> {
  let saved = 0;
  for (const job of jobs) {
    const through = progress.get(job.id);
    if (through === undefined) continue;
    if (await store.recordReconcileProgress(job.id, job.claimToken ?? '', { checkedThrough: through })) {
      saved += 1;
    }
  }
  return saved;
}

/**
 * For each job, the remote request made during its latest submit attempt (between `submitAttemptAt` and
 * `leaseUntil`, with {@link RECONCILE_SKEW_MS} of slack) that holds its URL. Candidates are read in
 * ascending id (oldest first: the accepted request is the first one made after the attempt, however many
 * followed it), starting after the job's `reconcileCheckedThrough`, so successive tries (with the
 * progress they stored) get further instead of reading the same oldest candidates again. A candidate
 * in `view.known` costs no call. A job that is neither found nor undetermined was not accepted by
 * 1fichier and may be submitted again.
 */
export async function reconcileRemote(
  jobs: readonly JobRecord[],
  fichier: FichierApi,
  view: RemoteView,
): Promise<Reconciliation> {
  const found = new Map<string, number>();
  const undetermined = new Set<string>();
  if (jobs.length === 0) return { found, undetermined, progress: new Map(), absent: new Set() };
  const candidates = datedList(await listOf(fichier, view));
  let budget = RECONCILE_MAX_INFO_CALLS;
  for (const c of candidates) {
    const open = jobs.filter((j) => !found.has(j.id) && isCandidate(j, c));
    if (open.length === 0) continue;
    if (!view.known.has(c.entry.id) && !view.info.has(c.entry.id)) {
      if (budget <= 0) {
        for (const j of open) undetermined.add(j.id);
        continue;
      }
      budget -= 1;
      await infoOf(fichier, view, c.entry.id);
    }
    for (const job of open) if (holds(view, c.entry.id, job)) found.set(job.id, c.entry.id);
  }
  for (const id of found.keys()) undetermined.delete(id);
  const absent = new Set<string>();
  const complete = listingComplete(candidates, view);
  for (const job of jobs) {
    if (found.has(job.id) || undetermined.has(job.id)) continue;
    if (complete) absent.add(job.id);
    else undetermined.add(job.id);
  }
  const progress = reconcileProgress(
    jobs.filter((j) => undetermined.has(j.id) || absent.has(j.id)),
    view,
  );
  return { found, undetermined, progress, absent };
}

/** The `found` part of {@link reconcileRemote}. */
export async function findRemoteRequests(
  jobs: readonly JobRecord[],
  fichier: FichierApi,
  view: RemoteView,
): Promise<Map<string, number>> {
  return (await reconcileRemote(jobs, fichier, view)).found;
}

/**
 * Records what reconciliation found: 1fichier already holds `job` in remote request `remoteId`, so that
 * request is followed under the job's claim, and the job is shown `submitted` from now on (it stays
 * `submitting` in the store, like every sent job: see `shared/jobs/shown-status.ts`).
 */
export async function markFoundSubmitted(
  remotes: Pick<RemoteStore, 'trackRemote'>,
  job: JobRecord,
  remoteId: number,
  now: number,
): Promise<void> {
  await remotes.trackRemote({
    remoteId,
    jobIds: [job.id],
    submittedAt: now,
    claimToken: job.claimToken ?? '',
  });
}

/** What {@link reconcileJobs} decided for a set of jobs past their lease. */
export interface ReconcileOutcome {
  /** Held by 1fichier: now followed through their request (shown `submitted`). */
  found: number;
  /**
   * Proven absent by two covering readings a poll cycle apart: still `submitting` under their claim; the
   * caller may send them again (the worker) or queue them again (the poller).
   */
  absent: JobRecord[];
  /** Not decided yet (info budget, a first absent reading, or a listing that does not reach back). */
  waiting: JobRecord[];
  /** Failed: their fate could not be confirmed for longer than a job may stay unfinished. */
  failed: number;
}

type ReconcileDeps = Pick<Deps, 'config' | 'store' | 'remotes' | 'fichier' | 'clock' | 'logger' | 'metrics'>;

/**
 * The one reconciliation loop, shared by the worker and the poller: reads 1fichier through `view`, marks
 * the jobs it finds `submitted`, records progress and first absent readings, and fails the jobs whose
 * fate stays unconfirmable past `stuckAfterS` (never sending them twice). A {@link FichierError} while
 * reading keeps what was read (progress saved) and propagates.
 */
export async function reconcileJobs(
  leaseEnded: readonly JobRecord[],
  deps: ReconcileDeps,
  view: RemoteView,
): Promise<ReconcileOutcome> {
  const { store, clock, logger, metrics, config } = deps;
  const outcome: ReconcileOutcome = { found: 0, absent: [], waiting: [], failed: 0 };
  // A job a followed request holds under its claim was sent: its request is followed, not looked for.
  const jobs = leaseEnded.filter((j) => view.sent.get(j.id) !== j.claimToken);
  if (jobs.length === 0) return outcome;
  let rec: Reconciliation;
  try {
    rec = await reconcileRemote(jobs, deps.fichier, view);
  } catch (err) {
    if (err instanceof FichierError) await saveReconcileProgress(store, jobs, reconcileProgress(jobs, view));
    throw err;
  }
  await saveReconcileProgress(store, jobs, rec.progress);
  const now = clock.now();
  const gapMs = config.pollIntervalS * 1000;
  for (const job of jobs) {
    const remoteId = rec.found.get(job.id);
    try {
      if (remoteId !== undefined) {
        await markFoundSubmitted(deps.remotes, job, remoteId, now);
        outcome.found += 1;
        logger.info('job reconciled: already accepted by 1fichier', { jobId: job.id, remoteId });
        metrics.count('JobsReconciledSubmitted');
      } else if (rec.absent.has(job.id)) {
        if (job.absentSince !== undefined && now - job.absentSince >= gapMs) {
          outcome.absent.push(job);
          logger.info('job reconciled: not at 1fichier on two readings', {
            jobId: job.id,
            firstAbsentAt: job.absentSince,
          });
          metrics.count('JobsReconciledAbsent');
        } else {
          if (job.absentSince === undefined) {
            await store.recordReconcileProgress(job.id, job.claimToken ?? '', { absentSince: now });
          }
          outcome.waiting.push(job);
        }
      } else if (now - (job.submitAttemptAt ?? now) > config.stuckAfterS * 1000) {
        await store.transition(
          job.id,
          { status: 'submitting', claimToken: job.claimToken ?? '' },
          {
            status: 'failed',
            error: {
              code: 'unconfirmed',
              message:
                "1fichier's list of remote uploads never showed whether it received this URL (the list may be cut short); " +
                'look for it in your 1fichier remote uploads, and retry the job if it is not there',
            },
          },
          now,
        );
        outcome.failed += 1;
        logger.warn('job failed: submission never confirmed', { jobId: job.id });
        metrics.count('JobsFailed');
      } else {
        outcome.waiting.push(job);
      }
    } catch (err) {
      if (!(err instanceof TransitionConflictError)) throw err;
      // Another worker or the poller decided it first.
    }
  }
  return outcome;
}
