/**
 * The sandbox's in-memory state: one account per key (folders, files, remote requests, kept apart),
 * the global file index behind the download links, and the counters tests read.
 */
import { randomInt } from 'node:crypto';
import type { RemoteUrlResult } from '../../shared/fichier/types.js';
import type { SandboxKey, SandboxTier } from './config.js';

/** A folder of one account; id 0 is the root. */
export interface SandboxFolder {
  id: number;
  name: string;
  parentId: number | null;
  createdAt: Date;
}

/** A file stored by a remote request. */
export interface SandboxFile {
  /** The id in the file link (`https://1fichier.com/?<id>` on the real service). */
  token: string;
  url: string;
  filename: string;
  size: number;
  createdAt: Date;
  folderId: number;
  checksum: string;
  contentType: string;
  diskPath: string;
  ownerKey: string;
}

/** A remote-upload request and, once executed, its per-URL results. */
export interface RemoteUpload {
  id: number;
  requestedAt: Date;
  /** Set when every URL has been processed and the minimum delay has passed. */
  executedAt?: Date;
  urls: string[];
  headers: Record<string, string>;
  folderId: number;
  results: RemoteUrlResult[];
}

/** Everything one key owns. */
export interface SandboxAccount {
  key: string;
  tier: SandboxTier;
  email: string;
  folders: Map<number, SandboxFolder>;
  files: Map<string, SandboxFile>;
  remote: Map<number, RemoteUpload>;
  lastUserInfoAt?: number;
}

/** Counters of `GET /_sandbox/stats` and `handle.stats()`. */
export interface SandboxStats {
  /** API requests received per endpoint (`remote/request.cgi`), whatever the answer. */
  requests: Record<string, number>;
  /** Times each URL was accepted in a remote/request.cgi. */
  submissions: Record<string, number>;
  /**
   * Locks started: one per flood (covering its key and its IP), per forced `IP Locked` (its IP) and per forced
   * `User Locked #223` (its key).
   */
  floodLocks: number;
  /** Lock 403 answers of any kind (rate, lock, forced, plain-text `IP Locked`, user/info). */
  floodAnswers: number;
  /** Remote requests created. */
  remoteRequests: number;
  /**
   * Answers replaced by an injected fault (error, reset, timeout, forced flood or lock, HTML page, maintenance,
   * unknown KO, HTML after create); latency and the answer-bending faults are not counted.
   */
  faultsInjected: number;
  /** The same, per kind (`flood`, `userLocked`, `plainIpLock`, `html`, `htmlAfterCreate`, `maintenance`, …). */
  faultsByKind: Record<string, number>;
  /** Remote requests created whose answer was replaced by the HTML error page (`forceHtmlAfterCreate`). */
  htmlAfterCreate: number;
  /** Epoch ms of the first and the latest API request received (benchmarks: how much of the rate was used). */
  firstRequestAt?: number;
  lastRequestAt?: number;
  /** Epoch ms of each API request received, the first 100,000 (benchmarks: the allowance used over time). */
  requestTimes: number[];
  /** Epoch ms each remote request executed, by id (benchmarks: time from finished to shown done). */
  executedAt: Record<string, number>;
}

/** Empty counters. */
export function emptyStats(): SandboxStats {
  return {
    requests: {},
    submissions: {},
    floodLocks: 0,
    floodAnswers: 0,
    remoteRequests: 0,
    faultsInjected: 0,
    faultsByKind: {},
    htmlAfterCreate: 0,
    executedAt: {},
    requestTimes: [],
  };
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random lowercase alphanumeric id; real file ids are 5-20 alphanumerics (docs/1fichier-api.md, "Transport and authentication"). */
export function randomId(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return s;
}

/** Length of file ids in download links. */
export const FILE_ID_LENGTH = 20;

/**
 * First folder and remote-request id of a sandbox started at `now`: the time in ms × 1000. A sandbox started
 * later — even without persistence — hands out larger ids than every earlier one on this machine, unless an
 * earlier one averaged more than 1000 ids per millisecond of its life or the clock went back. So a relay that
 * kept a remote id across a sandbox restart never matches it to someone else's request. About 1.8e15 in
 * 2026: a safe integer until the year 2255.
 */
export function idBase(now: number = Date.now()): number {
  return now * 1000;
}

/** Accounts, id counters, and the file index. */
export class SandboxStore {
  readonly accounts = new Map<string, SandboxAccount>();
  /** Every stored file by its link id, across accounts (download links are public). */
  readonly filesByToken = new Map<string, SandboxFile>();
  stats: SandboxStats = emptyStats();
  /** Time of the last admitted user/info.cgi per client IP (not persisted, like the flood locks). */
  readonly userInfoByIp = new Map<string, number>();
  private nextFolderId = idBase();
  private nextRemoteId = idBase();
  /** Called after every change worth persisting (set by the snapshot writer when `persist` is on). */
  onChange: () => void = () => {};

  constructor(keys: readonly SandboxKey[]) {
    keys.forEach(({ key, tier }, i) => {
      const createdAt = new Date();
      this.accounts.set(key, {
        key,
        tier,
        email: `sandbox-${tier}-${i + 1}@sandbox.invalid`,
        folders: new Map([[0, { id: 0, name: 'Root', parentId: null, createdAt }]]),
        files: new Map(),
        remote: new Map(),
      });
    });
  }

  newFolderId(): number {
    return this.nextFolderId++;
  }

  newRemoteId(): number {
    return this.nextRemoteId++;
  }

  /** The next ids the counters will hand out (saved in snapshots). */
  nextIds(): { folder: number; remote: number } {
    return { folder: this.nextFolderId, remote: this.nextRemoteId };
  }

  /** Moves the counters up to at least these (restored snapshots); never down. */
  raiseIds(next: { folder: number; remote: number }): void {
    this.nextFolderId = Math.max(this.nextFolderId, next.folder);
    this.nextRemoteId = Math.max(this.nextRemoteId, next.remote);
  }

  /** Folders, files or remote requests changed. */
  changed(): void {
    this.onChange();
  }

  /** Adds a stored file to its account and to the public index. */
  addFile(account: SandboxAccount, file: SandboxFile): void {
    account.files.set(file.token, file);
    this.filesByToken.set(file.token, file);
  }

  count(field: 'requests' | 'submissions' | 'faultsByKind', name: string): void {
    this.stats[field][name] = (this.stats[field][name] ?? 0) + 1;
  }
}
