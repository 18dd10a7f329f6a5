/**
 * Optional persistence of the sandbox (`persist: true` with a `dataDir`): its state is one JSON snapshot,
 * `<dataDir>/sandbox-state.json`, next to the stored files, so a restarted sandbox is the same 1fichier.
 *
 * Kept: the keys and each one's folders and remote requests (URLs, headers, dates, per-URL results), and
 * the metadata of every stored file (link id, name, size, checksum, owner, file on disk relative to `dataDir`).
 * Not kept: counters (`stats()`), faults, flood locks, user/info spacing, get_token one-shot URLs.
 *
 * Written atomically (temporary file, then rename) at most about every `SNAPSHOT_DEBOUNCE_MS` after a change,
 * and once more on close. At start:
 * - without explicit `keys`, the snapshot's keys are used again (the relay keeps its key);
 *   with explicit keys, only the listed keys' accounts come back, but every file's link still works;
 * - a file whose bytes are gone from disk is dropped (its link answers 404);
 * - files in `dataDir` named like a link id that no snapshot entry points at (a fetch cut by the stop) are
 *   deleted;
 * - remote requests not executed at the stop are run again from the start: every URL is fetched anew,
 *   so a source that is gone ends KO with the fetch's message, as for any request.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { SandboxConfigError, type SandboxKey } from './config.js';
import type { RemoteUpload, SandboxAccount, SandboxStore } from './store.js';

/** The snapshot's file name inside `dataDir`. */
export const SNAPSHOT_FILE = 'sandbox-state.json';
/** Longest wait between a change and the snapshot write that includes it (plus the write itself). */
export const SNAPSHOT_DEBOUNCE_MS = 200;

const int = z.number().int().nonnegative();
const date = z.iso.datetime().transform((s) => new Date(s));

const folderSchema = z.object({ id: int, name: z.string(), parentId: int.nullable(), createdAt: date });

const fileSchema = z.object({
  token: z.string().regex(/^[a-z0-9]+$/),
  url: z.string(),
  filename: z.string(),
  size: int,
  createdAt: date,
  folderId: int,
  checksum: z.string(),
  contentType: z.string(),
  /** Relative to `dataDir`. */
  diskPath: z.string().min(1),
  ownerKey: z.string(),
});

const remoteSchema = z.object({
  id: int,
  requestedAt: date,
  executedAt: date.optional(),
  urls: z.array(z.string()),
  headers: z.record(z.string(), z.string()),
  folderId: int,
  results: z.array(
    z.object({
      status: z.enum(['OK', 'KO']),
      url: z.string(),
      download_link: z.string().optional(),
      message: z.string().optional(),
    }),
  ),
});

const snapshotSchema = z.object({
  version: z.literal(1),
  savedAt: z.string(),
  nextFolderId: int,
  nextRemoteId: int,
  accounts: z.array(
    z.object({
      key: z.string().min(1),
      tier: z.enum(['premium', 'free']),
      email: z.string(),
      folders: z.array(folderSchema),
      remote: z.array(remoteSchema),
    }),
  ),
  files: z.array(fileSchema),
});

/** A parsed snapshot (dates as `Date`). */
export type Snapshot = z.output<typeof snapshotSchema>;

/** Link ids are 20 lowercase alphanumerics (`FILE_ID_LENGTH`); `.part` while being fetched. */
const STORED_FILE = /^[a-z0-9]{20}(\.part)?$/;

/** Reads `<dataDir>/sandbox-state.json`; undefined when there is none. Throws naming the file if unreadable. */
export async function readSnapshot(dataDir: string): Promise<Snapshot | undefined> {
  const path = join(dataDir, SNAPSHOT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return snapshotSchema.parse(JSON.parse(text));
  } catch (err) {
    const why = err instanceof z.ZodError ? z.prettifyError(err) : String(err);
    throw new SandboxConfigError(
      `${path} is not a sandbox snapshot (${why}); move it away to start an empty sandbox`,
    );
  }
}

/** The keys a snapshot was saved with, when it has a premium one (else undefined). */
export function snapshotKeys(snapshot: Snapshot): SandboxKey[] | undefined {
  const keys = snapshot.accounts.map(({ key, tier }) => ({ key, tier }));
  return keys.some((k) => k.tier === 'premium') ? keys : undefined;
}

/**
 * Loads a snapshot into a new store (whose accounts are the configured keys) and deletes stored files
 * nothing points at. Returns the remote requests that had not executed, to run again.
 */
export async function restoreSnapshot(
  store: SandboxStore,
  snapshot: Snapshot,
  dataDir: string,
): Promise<Array<{ account: SandboxAccount; job: RemoteUpload }>> {
  const pending: Array<{ account: SandboxAccount; job: RemoteUpload }> = [];
  let maxFolder = 0;
  let maxRemote = 0;
  for (const saved of snapshot.accounts) {
    const account = store.accounts.get(saved.key);
    if (!account) continue;
    account.email = saved.email;
    for (const folder of saved.folders) {
      account.folders.set(folder.id, { ...folder });
      maxFolder = Math.max(maxFolder, folder.id);
    }
    for (const job of saved.remote) {
      const restored: RemoteUpload = { ...job, results: job.results.map((r) => ({ ...r })) };
      account.remote.set(job.id, restored);
      maxRemote = Math.max(maxRemote, job.id);
      if (!restored.executedAt) pending.push({ account, job: restored });
    }
  }
  const kept = new Set<string>();
  for (const saved of snapshot.files) {
    const diskPath = resolve(dataDir, saved.diskPath);
    if (!existsSync(diskPath)) continue;
    kept.add(diskPath);
    const file = { ...saved, diskPath };
    const owner = store.accounts.get(file.ownerKey);
    if (owner) store.addFile(owner, file);
    else store.filesByToken.set(file.token, file);
  }
  store.raiseIds({
    folder: Math.max(snapshot.nextFolderId, maxFolder + 1),
    remote: Math.max(snapshot.nextRemoteId, maxRemote + 1),
  });
  for (const name of await readdir(dataDir)) {
    const path = resolve(dataDir, name);
    if (STORED_FILE.test(name) && !kept.has(path)) await rm(path, { force: true });
  }
  return pending;
}

/** The store as a snapshot (JSON-ready: dates become ISO strings). */
function buildSnapshot(store: SandboxStore, dataDir: string): z.input<typeof snapshotSchema> {
  const ids = store.nextIds();
  const iso = (d: Date) => d.toISOString();
  return {
    version: 1,
    savedAt: new Date().toISOString(),
    nextFolderId: ids.folder,
    nextRemoteId: ids.remote,
    accounts: [...store.accounts.values()].map((a) => ({
      key: a.key,
      tier: a.tier,
      email: a.email,
      folders: [...a.folders.values()].map((f) => ({ ...f, createdAt: iso(f.createdAt) })),
      remote: [...a.remote.values()].map((r) => ({
        id: r.id,
        requestedAt: iso(r.requestedAt),
        ...(r.executedAt ? { executedAt: iso(r.executedAt) } : {}),
        urls: r.urls,
        headers: r.headers,
        folderId: r.folderId,
        // Results are published all at once on execution; before that they are not part of the state.
        results: r.executedAt ? r.results : [],
      })),
    })),
    files: [...store.filesByToken.values()].map((f) => ({
      ...f,
      createdAt: iso(f.createdAt),
      diskPath: relative(dataDir, f.diskPath),
    })),
  };
}

/** Writes the snapshot after changes: coalesced, one write at a time, atomically. */
export class SnapshotWriter {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly store: SandboxStore,
    private readonly dataDir: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Notes a change; the snapshot is written within about `SNAPSHOT_DEBOUNCE_MS`. */
  schedule(): void {
    this.dirty = true;
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err: unknown) => {
        this.log(`snapshot write failed: ${err instanceof Error ? err.message : String(err)}`);
      });
    }, SNAPSHOT_DEBOUNCE_MS);
  }

  /** Writes now if anything changed since the last write (after any write in progress). */
  flush(): Promise<void> {
    const next = this.writing.then(() => this.write());
    this.writing = next.catch(() => {});
    return next;
  }

  /** Stops the timer and writes the last changes; later changes are not written. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const path = join(this.dataDir, SNAPSHOT_FILE);
    const temp = `${path}.tmp`;
    try {
      // Private: the snapshot holds the sandbox's keys.
      await writeFile(temp, JSON.stringify(buildSnapshot(this.store, this.dataDir)), { mode: 0o600 });
      await rename(temp, path);
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }
}
