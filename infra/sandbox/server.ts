/**
 * The 1fichier sandbox: an HTTP server on 127.0.0.1 answering `/v1/<family>/<verb>.cgi` like the real API
 * (docs/1fichier-api.md), with premium/free keys, the per-key and per-IP rate limit with flood locks, remote
 * requests that really fetch their URLs, download links it serves itself, fault injection and counters.
 *
 * Sandbox-only routes (no key): `GET|POST|DELETE /_sandbox/faults`, `GET /_sandbox/stats`,
 * `POST /_sandbox/reset-stats`. Files: `GET /<id>` (download links) and `GET /dl/<token>` (one-shot
 * URLs from download/get_token.cgi).
 *
 * @example
 * const sandbox = await startSandbox({ port: 0, rate: 100 });
 * await fetch(`${sandbox.baseUrl}/remote/ls.cgi`, {
 *   method: 'POST',
 *   headers: { authorization: `Bearer ${sandbox.keys.premium}`, 'content-type': 'application/json' },
 *   body: '{}',
 * });
 * await sandbox.close();
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { type ApiReply, ENDPOINTS } from './api.js';
import { resolveSandboxOptions, type SandboxKey, type SandboxOptions } from './config.js';
import { FaultState, type SandboxFaults } from './faults.js';
import { Fetcher } from './fetcher.js';
import { FloodGuard, type LockKind } from './flood-guard.js';
import { readSnapshot, restoreSnapshot, SnapshotWriter, snapshotKeys } from './persist.js';
import { RemoteRunner } from './remote-runner.js';
import { emptyStats, randomId, type SandboxFile, type SandboxStats, SandboxStore } from './store.js';
import {
  type HtmlErrorStatus,
  KoError,
  MAINTENANCE_PAGE,
  MESSAGES,
  nginxErrorPage,
  numbersToStrings,
} from './wire.js';

export type { SandboxKey, SandboxOptions, SandboxTier } from './config.js';
export { generateSandboxKey, SANDBOX_ENV, SandboxConfigError, sandboxOptionsFromEnv } from './config.js';
export type { SandboxFaults } from './faults.js';
export type { SandboxStats } from './store.js';

/** A running sandbox. */
export interface SandboxHandle {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `origin + '/v1'`: what `ONEFICHIER_API_URL` should be set to. */
  baseUrl: string;
  port: number;
  /** Where fetched files are stored (and, with `persist`, `sandbox-state.json`). */
  dataDir: string;
  keys: {
    /** The first premium key. */
    premium: string;
    /** The first free key, if any. */
    free?: string;
    all: SandboxKey[];
  };
  /** A snapshot of the counters. */
  stats(): SandboxStats;
  /** Zeroes the counters. */
  resetStats(): void;
  /** Merges faults into the current ones (`{}` resets); throws on an invalid patch. Returns the result. */
  setFaults(faults: SandboxFaults): SandboxFaults;
  resetFaults(): void;
  /**
   * Stops the server, aborts fetches and held requests, writes the last snapshot when persisting, and removes
   * the data directory if it made it (never a given one, so never a persisted one).
   */
  close(): Promise<void>;
}

/** Largest accepted API request body. */
const MAX_BODY_BYTES = 1024 * 1024;
/** docs/1fichier-api.md, "Endpoints the relay calls": get_token URLs are valid 5 minutes. */
const DOWNLOAD_TOKEN_TTL_MS = 5 * 60_000;

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A non-JSON answer, as the fronts of 1fichier send them (HTML error pages, bare-text locks). */
function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendHtmlError(res: ServerResponse, status: HtmlErrorStatus): void {
  sendText(res, status, 'text/html', nginxErrorPage(status));
}

const ko = (message: string) => ({ status: 'KO', message });

/** The body went past the drain limit; the connection is dropped instead of read to the end. */
class BodyTooLargeError extends Error {}

/** A body over `MAX_BODY_BYTES` is still read (and discarded) up to this, so the client sees the 413. */
const MAX_DRAIN_BYTES = 16 * MAX_BODY_BYTES;

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_DRAIN_BYTES) throw new BodyTooLargeError();
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks);
}

function bearerKey(header: string | undefined): string | undefined {
  const m = header?.match(/^\s*Bearer\s+(\S+)\s*$/i);
  return m?.[1];
}

/** Starts a sandbox; resolves once it listens. Throws `SandboxConfigError` on invalid options. */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  const opts = resolveSandboxOptions(options);
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'fichier-sandbox-')));
  // Private: stored files and the snapshot (with its keys) are for this user only.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });

  // With `persist`, the previous run's keys (unless keys are given), accounts, files and requests.
  const snapshot = opts.persist ? await readSnapshot(dataDir) : undefined;
  const keys = (options.keys === undefined && snapshot && snapshotKeys(snapshot)) || opts.keys;
  const store = new SandboxStore(keys);
  const pending = snapshot ? await restoreSnapshot(store, snapshot, dataDir) : [];
  const snapshots = opts.persist ? new SnapshotWriter(store, dataDir, opts.log) : undefined;
  if (snapshots) {
    store.onChange = () => snapshots.schedule();
    // Saves soon what the restore changed (dropped files, the keys generated at a first start).
    snapshots.schedule();
  }
  const guard = new FloodGuard();
  const faults = new FaultState();
  const fetcher = new Fetcher({
    maxFileBytes: opts.maxFileBytes,
    connectTimeoutMs: opts.fetchConnectTimeoutMs,
    idleTimeoutMs: opts.fetchIdleTimeoutMs,
    totalTimeoutMs: opts.fetchTotalTimeoutMs,
    diskQuotaBytes: opts.diskQuotaBytes,
    usedBytes: [...store.filesByToken.values()].reduce((sum, f) => sum + f.size, 0),
    ...(opts.privateTargets ? { privateTargets: opts.privateTargets } : {}),
  });
  let origin = '';
  const runner = new RemoteRunner({
    store,
    fetcher,
    dataDir,
    execDelayMs: opts.execDelayMs,
    origin: () => origin,
    log: opts.log,
  });
  const downloadTokens = new Map<string, { file: SandboxFile; expiresAt: number }>();
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const sleep = (ms: number) => new Promise<void>((resolve) => later(ms, resolve));

  const floodAnswer = (res: ServerResponse, kind: LockKind = 'flood'): void => {
    store.stats.floodAnswers++;
    // 1fichier answers floods with 403, not 429 (changed in April 2020, docs/1fichier-api.md, "Errors").
    if (kind === 'plainIp') sendText(res, 403, 'text/plain', MESSAGES.plainIpLock);
    else sendJson(res, 403, ko(kind === 'user' ? MESSAGES.userLocked : MESSAGES.flood));
  };
  const countFault = (kind: string): void => {
    store.stats.faultsInjected++;
    store.count('faultsByKind', kind);
  };

  async function handleApi(req: IncomingMessage, res: ServerResponse, endpointName: string): Promise<void> {
    const endpoint = ENDPOINTS.get(endpointName);
    if (!endpoint) {
      sendJson(res, 404, ko(MESSAGES.unknownEndpoint));
      return;
    }
    // docs/1fichier-api.md, "Transport and authentication": every /v1 call is a POST.
    if (req.method !== 'POST') {
      sendJson(res, 405, ko('Method not allowed: use POST'), { allow: 'POST' });
      return;
    }
    store.count('requests', endpointName);
    const at = Date.now();
    store.stats.firstRequestAt ??= at;
    store.stats.lastRequestAt = at;
    if (store.stats.requestTimes.length < 100_000) store.stats.requestTimes.push(at);
    const tooLarge = () =>
      sendJson(res, 413, ko(`Request body too large (at most ${MAX_BODY_BYTES} bytes)`), {
        connection: 'close',
      });
    let raw: Buffer | 'too-large';
    try {
      raw = await readBody(req);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      tooLarge();
      res.once('finish', () => req.destroy());
      return;
    }
    if (raw === 'too-large') {
      tooLarge();
      return;
    }

    const ip = req.socket.remoteAddress ?? 'unknown';
    const key = bearerKey(req.headers.authorization);
    const account = key === undefined ? undefined : store.accounts.get(key);
    const subjects = account ? [`ip:${ip}`, `key:${account.key}`] : [`ip:${ip}`];
    const lockMs = faults.floodLockMs ?? opts.floodLockMs;
    const lock = (kind: LockKind = 'flood'): void => {
      // A flood locks the key and the IP; `IP Locked` only the IP; `User Locked` only the key.
      const keyOnly = account ? [`key:${account.key}`] : [];
      const locked = kind === 'plainIp' ? [`ip:${ip}`] : kind === 'user' ? keyOnly : subjects;
      if (locked.length === 0) return;
      guard.lock(locked, lockMs, kind);
      store.stats.floodLocks++;
      opts.log(`${kind} lock: ${locked.join(' and ')} for ${lockMs} ms`);
    };

    const latency = faults.latencyFor(endpointName);
    if (latency > 0) await sleep(latency);
    const fault = faults.pick(endpointName);
    if (fault) {
      countFault(fault);
      opts.log(`fault ${fault} on ${endpointName}`);
      if (fault === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      if (fault === 'timeout') {
        const socket = req.socket;
        later(faults.timeoutHoldMs, () => socket.destroy());
        return;
      }
      if (fault === 'error') {
        sendJson(res, faults.errorStatus(), ko('Service temporarily unavailable (sandbox fault)'));
        return;
      }
      if (fault === 'maintenance') {
        sendText(res, 503, 'text/html', MAINTENANCE_PAGE);
        return;
      }
      if (fault === 'html') {
        sendHtmlError(res, faults.htmlErrorStatus);
        return;
      }
      if (fault === 'unknownKo') {
        const { status, message } = faults.unknownKo;
        sendJson(res, status, ko(message));
        return;
      }
      const kind: LockKind = fault === 'userLocked' ? 'user' : fault === 'plainIpLock' ? 'plainIp' : 'flood';
      lock(kind);
      floodAnswer(res, kind);
      return;
    }

    const locked = guard.lockOf(subjects);
    if (locked) {
      floodAnswer(res, locked);
      return;
    }
    if (!guard.admit(subjects, faults.rate ?? opts.rate, at)) {
      lock();
      floodAnswer(res);
      return;
    }
    if (!account) {
      sendJson(res, 401, ko(MESSAGES.notAuthenticated));
      return;
    }

    // The Content-Type is not checked: 1fichier wants application/json (docs/1fichier-api.md, "Transport and authentication"), but what it
    // answers without it is unknown, and every client sends it anyway.
    let body: unknown = {};
    const text = raw.toString('utf8').trim();
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        sendJson(res, 400, ko('Invalid JSON body'));
        return;
      }
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      sendJson(res, 400, ko('Invalid JSON body: an object is expected'));
      return;
    }
    if (endpoint.premium && account.tier !== 'premium') {
      sendJson(res, 403, ko(MESSAGES.notCustomer));
      return;
    }
    const answerFaults = faults.answerFaults(endpointName);
    let reply: ApiReply;
    try {
      reply = endpoint.handle({
        store,
        account,
        body: body as Record<string, unknown>,
        opts,
        ip,
        faults: answerFaults,
        startRemote: (acc, job) => runner.start(acc, job),
        issueDownloadUrl: (file) => {
          const token = randomId(32);
          downloadTokens.set(token, { file, expiresAt: Date.now() + DOWNLOAD_TOKEN_TTL_MS });
          return `${origin}/dl/${token}`;
        },
      });
    } catch (err) {
      if (!(err instanceof KoError)) throw err;
      reply = { status: err.httpStatus, body: ko(err.message) };
    }
    // The request was created (and counted as a submission); only its answer is lost.
    if (reply.status === 200 && faults.takeHtmlAfterCreate(endpointName)) {
      countFault('htmlAfterCreate');
      store.stats.htmlAfterCreate++;
      opts.log(`fault htmlAfterCreate on ${endpointName}`);
      sendHtmlError(res, faults.htmlErrorStatus);
      return;
    }
    sendJson(res, reply.status, answerFaults.numbersAsStrings ? numbersToStrings(reply.body) : reply.body);
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
    const method = req.method ?? 'GET';
    const methodNotAllowed = (allow: string) =>
      sendJson(res, 405, ko(`Method not allowed: use ${allow}`), { allow });
    if (route === 'stats') {
      if (method !== 'GET') return methodNotAllowed('GET');
      return sendJson(res, 200, structuredClone(store.stats));
    }
    if (route === 'reset-stats') {
      if (method !== 'POST') return methodNotAllowed('POST');
      handle.resetStats();
      return sendJson(res, 200, { status: 'OK' });
    }
    if (route === 'faults') {
      if (method === 'GET') return sendJson(res, 200, faults.current());
      if (method === 'DELETE') {
        faults.reset();
        return sendJson(res, 200, faults.current());
      }
      if (method !== 'POST') return methodNotAllowed('GET, POST, DELETE');
      let patch: unknown;
      try {
        const raw = await readBody(req);
        if (raw === 'too-large') throw new BodyTooLargeError();
        const text = raw.toString('utf8').trim();
        patch = text === '' ? {} : JSON.parse(text);
      } catch {
        return sendJson(res, 400, ko('Invalid JSON body'));
      }
      try {
        return sendJson(res, 200, faults.set(patch));
      } catch (err) {
        const message = err instanceof z.ZodError ? z.prettifyError(err) : String(err);
        return sendJson(res, 400, ko(`Invalid faults: ${message}`));
      }
    }
    sendJson(res, 404, ko(MESSAGES.unknownEndpoint));
  }

  function serveFile(req: IncomingMessage, res: ServerResponse, file: SandboxFile): void {
    res.writeHead(200, {
      'content-type': file.contentType,
      'content-length': file.size,
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file.diskPath);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  function handleFile(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, ko('Method not allowed: use GET'), { allow: 'GET, HEAD' });
      return;
    }
    const oneShot = url.pathname.match(/^\/dl\/([a-z0-9]+)$/);
    if (oneShot?.[1]) {
      const entry = downloadTokens.get(oneShot[1]);
      if (entry && req.method === 'GET') downloadTokens.delete(oneShot[1]);
      if (!entry || entry.expiresAt < Date.now()) {
        sendJson(res, 404, ko(MESSAGES.notFound));
        return;
      }
      serveFile(req, res, entry.file);
      return;
    }
    // Download links: `/<id>`, and 1fichier's own shape `/?<id>`.
    const id = url.pathname === '/' ? url.search.slice(1).split('&')[0] : url.pathname.slice(1);
    const file = id ? store.filesByToken.get(id) : undefined;
    if (!file) {
      sendJson(res, 404, ko(MESSAGES.notFound));
      return;
    }
    serveFile(req, res, file);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path.startsWith('/v1/')) await handleApi(req, res, path.slice('/v1/'.length));
    else if (path.startsWith('/_sandbox/')) await handleControl(req, res, path.slice('/_sandbox/'.length));
    else handleFile(req, res, url);
    if (path.startsWith('/v1/')) {
      opts.log(`${req.method} ${path} -> ${res.headersSent ? res.statusCode : 'no answer'}`);
    }
  }

  const server = createServer((req, res) => {
    if (closing) {
      sendJson(res, 503, ko('Sandbox is shutting down'), { connection: 'close' });
      return;
    }
    onRequest(req, res).catch((err: unknown) => {
      opts.log(
        // The path only: a query string may carry a secret.
        `internal error on ${req.method} ${(req.url ?? '/').split('?', 1)[0]}: ${err instanceof Error ? err.stack : String(err)}`,
      );
      if (!res.headersSent) sendJson(res, 500, ko('Internal sandbox error'));
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await fetcher.close();
    await snapshots?.close();
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  const premium = keys.find((k) => k.tier === 'premium');
  const free = keys.find((k) => k.tier === 'free');
  if (!premium) throw new Error('unreachable: options validation requires a premium key');

  let closePromise: Promise<void> | undefined;
  const handle: SandboxHandle = {
    origin,
    baseUrl: `${origin}/v1`,
    port,
    dataDir,
    keys: {
      premium: premium.key,
      ...(free ? { free: free.key } : {}),
      all: keys.map((k) => ({ ...k })),
    },
    stats: () => structuredClone(store.stats),
    resetStats: () => {
      store.stats = emptyStats();
    },
    setFaults: (f) => faults.set(f),
    resetFaults: () => faults.reset(),
    close: () => {
      closePromise ??= (async () => {
        closing = true;
        runner.close();
        for (const t of timers) clearTimeout(t);
        timers.clear();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await fetcher.close();
        await closed;
        // Requests cut by the stop were not published: they are saved as not executed, to run again.
        await snapshots?.close();
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      })();
      return closePromise;
    },
  };
  opts.log(`1fichier sandbox listening on ${handle.baseUrl}`);
  if (snapshot) {
    opts.log(
      `restored ${store.filesByToken.size} file(s) and the remote requests of ${dataDir}; ` +
        `running again the ${pending.length} not executed at the last stop`,
    );
  }
  for (const { account, job } of pending) runner.start(account, job);
  return handle;
}
