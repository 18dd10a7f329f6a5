/**
 * The remote requests aggregate: a 1fichier remote request we follow until every job in it has ended.
 * A job's `submitted` phase lives here, not on the job: the worker writes one request item for up to
 * `batchMaxUrls` jobs, and the jobs stay `submitting` under the claim that sent them. A job is shown
 * `submitted` when a request of its claim holds it (see `shared/jobs/shown-status.ts`).
 */

/** A followed remote request. */
export interface RemoteRecord {
  remoteId: number;
  jobIds: string[];
  /** Epoch ms when 1fichier accepted it (the earliest we recorded). */
  submittedAt: number;
  /** The claim its jobs were sent under: they stay `submitting` with this `claimToken` until they end. */
  claimToken: string;
  /**
   * The worker that sent the request recorded it with every job it held, so `jobIds` is all of them.
   * Not set on an item that reconciliation created (it adds the one job it found).
   */
  complete?: boolean;
}

/** What the pipeline needs from the remote requests store. */
export interface RemoteStore {
  /**
   * Starts following a remote request, or adds jobs to one already followed (idempotent). `complete`:
   * `jobIds` are all the jobs the request holds (the sending worker's call), see {@link RemoteRecord}.
   */
  trackRemote(remote: RemoteRecord): Promise<void>;
  /** The remote requests still followed, oldest first (at most `limit`, default 1000). */
  openRemotes(opts?: { limit?: number }): Promise<RemoteRecord[]>;
  /** The followed requests sent under one claim (one query; a claim sends a few requests at most). */
  remotesOfClaim(claimToken: string): Promise<RemoteRecord[]>;
  /** Stops following a remote request (all its jobs have ended). */
  closeRemote(remote: Pick<RemoteRecord, 'remoteId' | 'claimToken'>): Promise<void>;
}
