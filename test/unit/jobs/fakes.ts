/**
 * Small fakes passed to the use-cases as arguments: a scripted 1fichier API that records every call,
 * a settable clock, a capturing logger. Not module mocks.
 */
import type { RelayLogger } from '../../../shared/app/deps.js';
import type { Clock } from '../../../shared/fichier/memory-pacer.js';
import type {
  FichierApi,
  RemoteInfoResult,
  RemoteListEntry,
  RemoteRequestBody,
  RemoteRequestResult,
} from '../../../shared/fichier/types.js';

/** A clock that only moves when told to; `sleep` returns at once (and records the delay). */
export class ManualClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public t = Date.UTC(2026, 10, 27, 12, 0, 0)) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** 1fichier date (Paris wall time, CET in November: UTC+1) for an epoch ms in winter. */
export function fichierDate(ms: number): string {
  return new Date(ms + 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
}

interface FakeRequest {
  id: number;
  body: RemoteRequestBody;
  requestedAt: number;
  /** Set by `finish`: per-URL result. */
  result?: { status: 'OK' | 'KO'; url: string; download_link?: string; message?: string }[];
}

/** A scripted {@link FichierApi}: `next` errors are thrown in order before normal behaviour. */
export class FakeFichier implements FichierApi {
  readonly requests: FakeRequest[] = [];
  readonly calls: string[] = [];
  /** Errors thrown by the next remoteRequest calls, in order (`undefined` = behave normally). */
  submitErrors: (Error | undefined)[] = [];
  /** Errors thrown by the next remoteList calls. */
  listErrors: Error[] = [];
  /** URLs 1fichier rejects (thrown error factory) when they are in a request. */
  rejectUrl?: (url: string) => Error | undefined;
  readonly folders = new Map<string, number>([['', 0]]);
  /** Runs inside every remoteRequest before it answers (e.g. to let time pass). */
  onRequest?: () => void;
  private nextId = 1000;

  constructor(private readonly clock: Clock) {}

  async remoteRequest(body: RemoteRequestBody): Promise<RemoteRequestResult> {
    this.calls.push('request');
    this.onRequest?.();
    const scripted = this.submitErrors.shift();
    if (scripted) throw scripted;
    for (const u of body.urls) {
      const err = this.rejectUrl?.(u);
      if (err) throw err;
    }
    const id = this.nextId++;
    this.requests.push({ id, body, requestedAt: this.clock.now() });
    return { status: 'OK', id, urls: body.urls };
  }

  async remoteList(): Promise<RemoteListEntry[]> {
    this.calls.push('ls');
    const err = this.listErrors.shift();
    if (err) throw err;
    return this.requests.map((r) => ({
      id: r.id,
      request_date: fichierDate(r.requestedAt),
      execution_date: r.result ? fichierDate(this.clock.now()) : '1970-01-01 00:00:00',
    }));
  }

  async remoteInfo(id: number): Promise<RemoteInfoResult> {
    this.calls.push(`info:${id}`);
    const r = this.requests.find((x) => x.id === id);
    if (!r) throw new Error(`no remote request ${id}`);
    return {
      id,
      request_date: fichierDate(r.requestedAt),
      execution_date: r.result ? fichierDate(this.clock.now()) : '1970-01-01 00:00:00',
      links: r.body.urls,
      result: r.result ?? [],
    };
  }

  /** Makes a request finish: OK with a link for every URL, except the ones in `ko`. */
  finish(id: number, ko: Record<string, string> = {}): void {
    const r = this.requests.find((x) => x.id === id);
    if (!r) throw new Error(`no remote request ${id}`);
    r.result = r.body.urls.map((url, i) =>
      ko[url]
        ? { status: 'KO' as const, url, message: ko[url] }
        : { status: 'OK' as const, url, download_link: `https://1fichier.com/?f${id}x${i}` },
    );
  }

  async resolveFolder(path: string): Promise<number> {
    this.calls.push(`folder:${path}`);
    let id = this.folders.get(path);
    if (id === undefined) {
      id = 100 + this.folders.size;
      this.folders.set(path, id);
    }
    return id;
  }

  async folderList(): Promise<never> {
    throw new Error('not used');
  }
  async folderMkdir(): Promise<never> {
    throw new Error('not used');
  }
  async fileInfo(): Promise<never> {
    throw new Error('not used');
  }
  async downloadToken(): Promise<never> {
    throw new Error('not used');
  }
  async userInfo(): Promise<never> {
    throw new Error('not used');
  }
}

/** A logger that keeps every line (level, message, fields). */
export class CaptureLogger implements RelayLogger {
  readonly lines: { level: string; message: string; fields: unknown[] }[] = [];
  debug = (message: string, ...fields: unknown[]) => this.push('debug', message, fields);
  info = (message: string, ...fields: unknown[]) => this.push('info', message, fields);
  warn = (message: string, ...fields: unknown[]) => this.push('warn', message, fields);
  error = (message: string, ...fields: unknown[]) => this.push('error', message, fields);
  private push(level: string, message: string, fields: unknown[]) {
    this.lines.push({ level, message, fields });
  }
}
