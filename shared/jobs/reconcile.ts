/**
 * Finding out whether 1fichier already holds a job we may have submitted (a crash or a timeout after
 * remote/request.cgi): look in remote/ls.cgi for requests made since the job's submit attempt, and in
 * their remote/info.cgi `links` / `result[].url` for the job's URL. Nothing is ever resubmitted before this.
 */
import type { FichierApi, RemoteInfoResult, RemoteListEntry } from '../fichier/types.js';
import { parseFichierDate } from './fichier-dates.js';
import type { JobRecord } from './store.js';

/**
 * Slack on the "newer than the submit attempt" test: 1fichier's clock and ours differ, and its dates
 * have one-second resolution in a zone we convert.
 */
export const RECONCILE_SKEW_MS = 2 * 60_000;
/** Most remote/info.cgi calls one reconciliation may make (each one is a paced call). */
export const RECONCILE_MAX_INFO_CALLS = 20;

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

/**
 * For each job, the id of the remote request that holds its URL and was made after its latest submit
 * attempt, if any. Jobs without a match were not accepted by 1fichier and may be submitted again.
 */
export async function findRemoteRequests(
  jobs: readonly JobRecord[],
  fichier: FichierApi,
  view: RemoteView,
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (jobs.length === 0) return found;
  const list = await listOf(fichier, view);
  const since = Math.min(...jobs.map((j) => j.submitAttemptAt ?? 0)) - RECONCILE_SKEW_MS;
  const candidates = list
    .filter((e) => {
      const at = parseFichierDate(e.request_date);
      return at === undefined || at >= since;
    })
    .sort((a, b) => b.id - a.id)
    .slice(0, RECONCILE_MAX_INFO_CALLS);
  for (const entry of candidates) {
    if (found.size === jobs.length) break;
    const info = await infoOf(fichier, view, entry.id);
    const urls = new Set(urlsOf(info));
    const requestedAt = parseFichierDate(entry.request_date);
    for (const job of jobs) {
      if (found.has(job.id) || !urls.has(job.url)) continue;
      if (requestedAt !== undefined && requestedAt < (job.submitAttemptAt ?? 0) - RECONCILE_SKEW_MS) continue;
      found.set(job.id, entry.id);
    }
  }
  return found;
}
