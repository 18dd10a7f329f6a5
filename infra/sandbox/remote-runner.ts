/**
 * Executes remote requests in the background: fetches every URL, then, once all are processed and the
 * minimum delay has passed, publishes the per-URL results and the execution date at once — as 1fichier's
 * `execution_date` stays at the 1970 sentinel until the whole request is done (docs/1fichier-api.md, "Endpoints the relay calls").
 */
import { join } from 'node:path';
import type { RemoteUrlResult } from '../../shared/fichier/types.js';
import type { Fetcher } from './fetcher.js';
import {
  FILE_ID_LENGTH,
  type RemoteUpload,
  randomId,
  type SandboxAccount,
  type SandboxFile,
  type SandboxStore,
} from './store.js';

export interface RemoteRunnerOptions {
  store: SandboxStore;
  fetcher: Fetcher;
  dataDir: string;
  execDelayMs: number;
  /** `http://127.0.0.1:P`, known once the server listens. */
  origin: () => string;
  log: (line: string) => void;
}

/** Runs remote requests; `close()` stops publishing and cancels pending delays. */
export class RemoteRunner {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly opts: RemoteRunnerOptions) {}

  start(account: SandboxAccount, job: RemoteUpload): void {
    this.run(account, job).catch((err: unknown) => {
      this.opts.log(`remote request ${job.id} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async run(account: SandboxAccount, job: RemoteUpload): Promise<void> {
    const done = await Promise.all(job.urls.map((url) => this.fetchOne(account, job, url)));
    const wait = job.requestedAt.getTime() + this.opts.execDelayMs - Date.now();
    if (wait > 0) await this.sleep(wait);
    if (this.closed) return;
    for (const { file } of done) if (file) this.opts.store.addFile(account, file);
    job.results = done.map((d) => d.result);
    job.executedAt = new Date();
    this.opts.store.stats.executedAt[String(job.id)] = job.executedAt.getTime();
    this.opts.store.changed();
    const okCount = job.results.filter((r) => r.status === 'OK').length;
    this.opts.log(`remote request ${job.id} executed: ${okCount}/${job.results.length} OK`);
  }

  private async fetchOne(
    account: SandboxAccount,
    job: RemoteUpload,
    url: string,
  ): Promise<{ result: RemoteUrlResult; file?: SandboxFile }> {
    const { store, fetcher, dataDir } = this.opts;
    let token = randomId(FILE_ID_LENGTH);
    while (store.filesByToken.has(token)) token = randomId(FILE_ID_LENGTH);
    const diskPath = join(dataDir, token);
    const outcome = await fetcher.fetchToFile(url, job.headers, diskPath);
    if (!outcome.ok) return { result: { status: 'KO', url, message: outcome.message } };
    // The real link is `https://1fichier.com/?<id>` (docs/1fichier-api.md, "Endpoints the relay calls"); the sandbox serves its own.
    const link = `${this.opts.origin()}/${token}`;
    const file: SandboxFile = {
      token,
      url: link,
      filename: outcome.filename,
      size: outcome.size,
      createdAt: new Date(),
      folderId: job.folderId,
      checksum: outcome.checksum,
      contentType: outcome.contentType,
      diskPath,
      ownerKey: account.key,
    };
    return {
      result: {
        status: 'OK',
        url,
        download_link: link,
        message: `${outcome.filename}: ${outcome.size} bytes`,
      },
      file,
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}
