/**
 * Finding out whether 1fichier already holds a job we may have submitted (a crash or a timeout after
 * remote/request.cgi): look in remote/ls.cgi for requests made since the job's submit attempt, and in
 * their remote/info.cgi `links` / `result[].url` for the job's URL. Nothing is ever resubmitted before this.
 */
import type { FichierApi, RemoteInfoResult, RemoteListEntry } from '../fichier/types.js';
import { parseFichierDate } from './fichier-dates.js';
import type { JobRecord } from './store.js';

/**
 * Slack on the time window test: 1fichier's clock and ours differ, and its dates have one-second
 * resolution in a zone we convert.
 */
export const RECONCILE_SKEW_MS = 2 * 60_000;
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
}

/** A fresh, empty view. */
export function newRemoteView(): RemoteView {
  return { info: new Map(), calls: { ls: 0, info: 0 } };
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
  /** Jobs whose URL is in a remote request made during their submit attempt: that request's id. */
  found: Map<string, number>;
  /** Jobs not decided (the info budget ran out first): keep them `submitting` and try again later. */
  undetermined: Set<string>;
}

/**
 * For each job, the remote request made during its latest submit attempt (between `submitAttemptAt` and
 * `leaseUntil`, with {@link RECONCILE_SKEW_MS} of slack) that holds its URL. Candidates are read oldest
 * first: the accepted request is the first one made after the attempt, however many followed it. A job
 * that is neither found nor undetermined was not accepted by 1fichier and may be submitted again.
 */
export async function reconcileRemote(
  jobs: readonly JobRecord[],
  fichier: FichierApi,
  view: RemoteView,
): Promise<Reconciliation> {
  const found = new Map<string, number>();
  const undetermined = new Set<string>();
  if (jobs.length === 0) return { found, undetermined };
  const list = await listOf(fichier, view);
  const windowOf = (job: JobRecord) => {
    const from = (job.submitAttemptAt ?? 0) - RECONCILE_SKEW_MS;
    const to = Math.max(job.leaseUntil ?? 0, job.submitAttemptAt ?? 0) + RECONCILE_SKEW_MS;
    return { from, to };
  };
  const inWindow = (job: JobRecord, at: number | undefined) => {
    if (at === undefined) return true; // an unreadable date: look rather than risk a second submission
    const w = windowOf(job);
    return at >= w.from && at <= w.to;
  };
  const dated = list.map((e) => ({ entry: e, at: parseFichierDate(e.request_date) }));
  const candidates = dated
    .filter(({ at }) => jobs.some((j) => inWindow(j, at)))
    .sort((a, b) => a.entry.id - b.entry.id);
  let budget = RECONCILE_MAX_INFO_CALLS;
  for (const { entry, at } of candidates) {
    const open = jobs.filter((j) => !found.has(j.id) && inWindow(j, at));
    if (open.length === 0) continue;
    if (!view.info.has(entry.id)) {
      if (budget <= 0) {
        for (const j of open) undetermined.add(j.id);
        continue;
      }
      budget -= 1;
    }
    const urls = new Set(urlsOf(await infoOf(fichier, view, entry.id)));
    for (const job of open) if (urls.has(job.url)) found.set(job.id, entry.id);
  }
  for (const id of found.keys()) undetermined.delete(id);
  return { found, undetermined };
}

/** The `found` part of {@link reconcileRemote}. */
export async function findRemoteRequests(
  jobs: readonly JobRecord[],
  fichier: FichierApi,
  view: RemoteView,
): Promise<Map<string, number>> {
  return (await reconcileRemote(jobs, fichier, view)).found;
}
