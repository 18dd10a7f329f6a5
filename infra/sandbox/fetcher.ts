/**
 * Fetches one remote-upload source URL to disk, the way 1fichier does for remote/request.cgi:
 * follows redirects, refuses non-2xx answers and files over the size cap, and hashes what it stores.
 * KO texts are the sandbox's own: the real ones are unknown (docs/1fichier-api.md, "Known messages" and "Open questions and how the relay hedges them" question 5).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { LookupFunction } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, buildConnector, type Dispatcher, interceptors, request } from 'undici';
import { classifyAddress } from '../../shared/net/addresses.js';
import { checkOutboundUrl } from '../../shared/net/url-guard.js';

/** What a fetch produced. */
export type FetchOutcome =
  | { ok: true; filename: string; size: number; checksum: string; contentType: string }
  | { ok: false; message: string };

export interface FetcherOptions {
  maxFileBytes: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Longest time one fetch may take from its first byte sent to its last received (queueing excluded). */
  totalTimeoutMs: number;
  /** Most bytes the stored files may take in all, counting the fetches in progress. */
  diskQuotaBytes: number;
  /** Bytes the data directory already holds at start (files restored from a snapshot). @default 0 */
  usedBytes?: number;
  /** Fetches running at once; the others wait. */
  concurrency?: number;
  /**
   * Refuse private, loopback, link-local… targets (shared/net's rules), except the URLs listed. The local
   * runtime sets it when its API listens beyond loopback, so a caller from outside cannot make the
   * sandbox fetch from the owner's network. @default unset: every target is fetched, as in a test setup
   */
  privateTargets?: PrivateTargetGuard;
  /** Name resolution of the source fetches. @default the system's. Tests only: a name that resolves to loopback. */
  lookup?: LookupFunction;
}

/** See {@link FetcherOptions.privateTargets}. */
export interface PrivateTargetGuard {
  /** URLs fetched although their host is private or loopback (the runtime's own sample file), exactly. */
  exceptions: () => readonly string[];
}

/** A source refused by {@link PrivateTargetGuard}; its message is the KO text. */
class BlockedTargetError extends Error {
  override name = 'BlockedTargetError';
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** Request headers not carried to another origin by a redirect (Fetch Standard, HTTP-redirect fetch). */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const refusal = (why: string) =>
  `Refused: ${why} (the sandbox fetches only public URLs while the relay is reachable from the network)`;

class TooLargeError extends Error {
  override name = 'TooLargeError';
}

class QuotaError extends Error {
  override name = 'QuotaError';
}

/** Counts and hashes the bytes going through, failing past the cap or when the disk quota refuses them. */
class CappedHash extends Transform {
  // The real checksum is whirlpool (docs/1fichier-api.md, "Endpoints the relay calls"); Node 20's OpenSSL 3 only has it in the legacy
  // provider, which is off by default, so sha256 hex stands in for it.
  readonly hash = createHash('sha256');
  size = 0;

  constructor(
    private readonly max: number,
    private readonly reserve: (bytes: number) => boolean,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.size + chunk.length > this.max) {
      done(new TooLargeError());
      return;
    }
    if (!this.reserve(chunk.length)) {
      done(new QuotaError());
      return;
    }
    this.size += chunk.length;
    this.hash.update(chunk);
    done(null, chunk);
  }
}

function filenameFrom(url: URL, disposition: string | undefined): string {
  const star = disposition?.match(/filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/);
  const plain = disposition?.match(/filename\s*=\s*"?([^";]+)"?/);
  let name = '';
  try {
    if (star?.[1]) name = decodeURIComponent(star[1]);
    else if (plain?.[1]) name = plain[1];
    else name = decodeURIComponent(url.pathname.split('/').pop() ?? '');
  } catch {
    name = url.pathname.split('/').pop() ?? '';
  }
  name = name.replace(/[/\\]/g, '_').trim();
  return name === '' ? 'file' : name.slice(0, 250);
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

function describeNetworkError(err: unknown): string {
  if (err instanceof BlockedTargetError) return err.message;
  if ((err as { cause?: unknown })?.cause instanceof BlockedTargetError)
    return (err as { cause: Error }).cause.message;
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.cause?.code ?? e.code ?? '';
  if (UNREACHABLE.has(code)) return `Host unreachable (${code})`;
  if (/TIMEOUT/i.test(code)) return `Timeout while fetching the file (${code})`;
  if (code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') return 'Fetch aborted';
  if (code === 'UND_ERR_INVALID_ARG') return 'Invalid request headers';
  return `Fetch failed (${code || e.message || 'unknown error'})`;
}

// The sandbox's own texts, as for every per-URL KO: what 1fichier says in these cases is unknown.
const quotaMessage = (quota: number) => `Disk quota exceeded: the sandbox stores at most ${quota} bytes`;
const deadlineMessage = (ms: number) => `Timeout while fetching the file: not finished within ${ms} ms`;

/** Runs source fetches with a concurrency limit and a disk quota; `close()` aborts them all. */
export class Fetcher {
  private readonly agent: Agent;
  private readonly dispatcher: Dispatcher;
  private readonly abort = new AbortController();
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Bytes of the files fetched to disk (and those there at start). */
  private stored: number;
  /** Bytes received by the fetches in progress. */
  private inFlight = 0;

  constructor(private readonly opts: FetcherOptions) {
    this.stored = opts.usedBytes ?? 0;
    const guard = opts.privateTargets;
    this.agent = new Agent({
      connect: guard
        ? this.guardedConnector(guard)
        : { timeout: opts.connectTimeoutMs, ...(opts.lookup ? { lookup: opts.lookup } : {}) },
      headersTimeout: opts.idleTimeoutMs,
      bodyTimeout: opts.idleTimeoutMs,
    });
    // Guarded, redirects are followed one hop at a time so each target is checked (download()).
    this.dispatcher = guard
      ? this.agent
      : this.agent.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTS }));
  }

  /**
   * Checks the address each socket reached (a public name may resolve to a private address): only a
   * public one, or the exact host and port of an exception (the sample file on this machine).
   */
  private guardedConnector(guard: PrivateTargetGuard): buildConnector.connector {
    const base = buildConnector({
      timeout: this.opts.connectTimeoutMs,
      ...(this.opts.lookup ? { lookup: this.opts.lookup } : {}),
    } as buildConnector.BuildOptions);
    return (connectOpts, callback) => {
      base(connectOpts, (err, socket) => {
        if (err || !socket) {
          callback(err ?? new Error('connect failed'), null);
          return;
        }
        const verdict = classifyAddress(socket.remoteAddress ?? '');
        const port = Number(connectOpts.port) || (connectOpts.protocol === 'https:' ? 443 : 80);
        const exception = guard.exceptions().some((e) => {
          const u = new URL(e);
          return (
            u.hostname === connectOpts.hostname &&
            (Number(u.port) || (u.protocol === 'https:' ? 443 : 80)) === port
          );
        });
        if (verdict.allowed || exception) {
          callback(null, socket);
          return;
        }
        socket.destroy();
        callback(
          new BlockedTargetError(refusal(`${verdict.address || 'the address'} is ${verdict.reason}`)),
          null,
        );
      });
    };
  }

  /** The refusal text for a URL the guard does not let through, or `undefined`. */
  private refuseTarget(url: URL): string | undefined {
    const guard = this.opts.privateTargets;
    if (!guard) return undefined;
    if (guard.exceptions().some((e) => new URL(e).href === url.href)) return undefined;
    const check = checkOutboundUrl(url);
    return check.ok ? undefined : refusal(check.message);
  }

  /** Fetches `rawUrl` into `diskPath`; never throws (failures are KO outcomes), except when closed. */
  async fetchToFile(
    rawUrl: string,
    headers: Record<string, string>,
    diskPath: string,
  ): Promise<FetchOutcome> {
    await this.slot();
    try {
      return await this.run(rawUrl, headers, diskPath);
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  /** Bytes counted against the disk quota: stored files plus fetches in progress. */
  get usedBytes(): number {
    return this.stored + this.inFlight;
  }

  get closed(): boolean {
    return this.abort.signal.aborted;
  }

  async close(): Promise<void> {
    this.abort.abort();
    for (const wake of this.waiting.splice(0)) wake();
    await this.agent.destroy().catch(() => {});
  }

  private async slot(): Promise<void> {
    if (this.running < (this.opts.concurrency ?? 4) || this.closed) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
  }

  private async run(
    rawUrl: string,
    headers: Record<string, string>,
    diskPath: string,
  ): Promise<FetchOutcome> {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return { ok: false, message: 'Invalid URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { ok: false, message: `Unsupported URL scheme ${url.protocol} (only http and https)` };
    }
    if (this.closed) return { ok: false, message: 'Fetch aborted' };
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.opts.totalTimeoutMs);
    let reserved = 0;
    try {
      const outcome = await this.download(
        url,
        headers,
        diskPath,
        AbortSignal.any([this.abort.signal, deadline.signal]),
        (bytes) => {
          if (this.usedBytes + bytes > this.opts.diskQuotaBytes) return false;
          reserved += bytes;
          this.inFlight += bytes;
          return true;
        },
      );
      if (outcome.ok) this.stored += outcome.size;
      else if (deadline.signal.aborted && !this.closed) {
        return { ok: false, message: deadlineMessage(this.opts.totalTimeoutMs) };
      }
      return outcome;
    } finally {
      clearTimeout(timer);
      this.inFlight -= reserved;
    }
  }

  private async download(
    source: URL,
    headers: Record<string, string>,
    diskPath: string,
    signal: AbortSignal,
    reserve: (bytes: number) => boolean,
  ): Promise<FetchOutcome> {
    let url = source;
    let res: Dispatcher.ResponseData;
    let hopHeaders = headers;
    for (let hop = 0; ; hop++) {
      const refused = this.refuseTarget(url);
      if (refused) return { ok: false, message: refused };
      try {
        res = await request(url, { method: 'GET', headers: hopHeaders, dispatcher: this.dispatcher, signal });
      } catch (err) {
        return { ok: false, message: describeNetworkError(err) };
      }
      const location = res.headers.location;
      if (!this.opts.privateTargets || !REDIRECTS.has(res.statusCode) || typeof location !== 'string') break;
      await res.body.dump().catch(() => {});
      if (hop >= MAX_REDIRECTS)
        return { ok: false, message: `Too many redirects (more than ${MAX_REDIRECTS})` };
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return { ok: false, message: 'Invalid redirect location' };
      }
      if (next.origin !== url.origin) {
        hopHeaders = Object.fromEntries(
          Object.entries(hopHeaders).filter(([k]) => !CREDENTIAL_HEADERS.includes(k.toLowerCase())),
        );
      }
      url = next;
    }
    const max = this.opts.maxFileBytes;
    const quota = this.opts.diskQuotaBytes;
    if (res.statusCode < 200 || res.statusCode > 299) {
      await res.body.dump().catch(() => {});
      return { ok: false, message: `The source answered HTTP ${res.statusCode}` };
    }
    const length = Number(res.headers['content-length']);
    if (Number.isFinite(length) && length > max) {
      res.body.destroy();
      return { ok: false, message: `File too large: more than ${max} bytes` };
    }
    if (Number.isFinite(length) && this.usedBytes + length > quota) {
      res.body.destroy();
      return { ok: false, message: quotaMessage(quota) };
    }
    const header = (name: string): string | undefined => {
      const v = res.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const counter = new CappedHash(max, reserve);
    const partPath = `${diskPath}.part`;
    try {
      await pipeline(res.body, counter, createWriteStream(partPath, { mode: 0o600 }));
      await rename(partPath, diskPath);
    } catch (err) {
      await rm(partPath, { force: true }).catch(() => {});
      if (err instanceof TooLargeError)
        return { ok: false, message: `File too large: more than ${max} bytes` };
      if (err instanceof QuotaError) return { ok: false, message: quotaMessage(quota) };
      return { ok: false, message: describeNetworkError(err) };
    }
    return {
      ok: true,
      filename: filenameFrom(url, header('content-disposition')),
      size: counter.size,
      checksum: counter.hash.digest('hex'),
      contentType: header('content-type')?.split(';')[0]?.trim() || 'application/octet-stream',
    };
  }
}
