/**
 * The 1fichier API client (docs/1fichier-api.md): POST JSON with a Bearer key over Node's `fetch` (undici's
 * keep-alive pool inside), every call through the pacer, every answer classified in one place (`errors.ts`) and retried by
 * the pacing policy. Wire schemas are in `wire.ts`, key providers in `key-providers.ts`, the folder
 * resolver in `folders.ts`; this file holds `call` and the endpoints.
 */
import type { Dispatcher } from 'undici';
import { ENV } from '../config/env-names.js';
import { DEFAULT_PACING, type PacingPolicy, transientDelay } from './backoff.js';
import {
  answerText,
  circuitReasonFor,
  classifyFichierError,
  classifyNetworkError,
  FichierApiError,
  type FichierApiErrorInit,
  FichierError,
  FichierPacedError,
} from './errors.js';
import { createFolderResolver, validateFolderName } from './folders.js';
import { redactSecrets } from './key-providers.js';
import { type Clock, keyIdOf, MemoryPacer, systemClock } from './memory-pacer.js';
import type { Pacer } from './pacer.js';
import type {
  DownloadTokenResult,
  FichierApi,
  FileInfoResult,
  FolderListResult,
  KeyProvider,
  MkdirResult,
  RemoteInfoResult,
  RemoteListEntry,
  RemoteRequestBody,
  RemoteRequestResult,
  UserInfoResult,
} from './types.js';
import {
  type Lenient,
  parseDownloadToken,
  parseFileInfo,
  parseFolderList,
  parseMkdir,
  parseRemoteInfo,
  parseRemoteList,
  parseRemoteRequest,
  parseUserInfo,
  type SkippedEntry,
} from './wire.js';

export { MAX_FOLDER_NAME_LENGTH } from './folders.js';

/** The real API; override with `ONEFICHIER_API_URL` (the sandbox) or the `baseUrl` option. */
export const DEFAULT_FICHIER_API_URL = 'https://api.1fichier.com/v1';

/** user/info.cgi is limited to 1 call per 5 min per user (docs/1fichier-api.md, "Endpoints the relay calls"). */
export const USER_INFO_TTL_MS = 5 * 60_000;

/** Structured log hook. Fields never carry the key: only `keyId` (see {@link keyIdOf}). */
export interface FichierLogger {
  debug?(message: string, fields: Record<string, unknown>): void;
  warn?(message: string, fields: Record<string, unknown>): void;
}

/**
 * The one deadline of a whole exchange (connect, headers and body): Node's `fetch` (undici inside, without
 * the 525 KiB of the undici package in each bundle) has no per-phase timeouts. It stays well under half the
 * 120 s submit lease, so a request started before the batch deadline ends inside the lease.
 */
export const DEFAULT_FICHIER_TIMEOUT_MS = 60_000;

/**
 * After this long without an answer, and with no other call under way, the client's next call is taken
 * as cold (`TakeOptions.coldCall`): the idle connections are closed by then (undici's default keep-alive
 * timeout is 4 s), so the call opens a new one and reaches 1fichier later than its slot.
 */
export const COLD_CONNECTION_MS = 4_000;

/** Options of {@link createFichierClient}. */
export interface FichierClientOptions {
  keyProvider: KeyProvider;
  /** @default process.env.ONEFICHIER_API_URL ?? 'https://api.1fichier.com/v1' */
  baseUrl?: string;
  /** Paces every call; share one per key across a process. @default new MemoryPacer({ policy, clock }) */
  pacer?: Pacer;
  /** Retry counts and backoff. @default DEFAULT_PACING */
  policy?: PacingPolicy;
  /**
   * Longest wait the client accepts, for a pacer slot or before a retry. Longer waits throw instead
   * (a {@link FichierPacedError}, or the flood/transient error with `retryAfterMs`), so a Lambda hands the
   * message back to SQS. @default unbounded (in-process use)
   */
  maxPacerWaitMs?: number;
  /** An undici dispatcher to use instead of Node's global one (tests; not closed by `close()`). */
  dispatcher?: Dispatcher;
  /** Deadline of one exchange. @default DEFAULT_FICHIER_TIMEOUT_MS */
  timeoutMs?: number;
  /** Time source for retry sleeps and the user/info cache. @default systemClock */
  clock?: Clock;
  /** Jitter source. @default Math.random */
  random?: () => number;
  /** @default USER_INFO_TTL_MS (5 min); shorter values are raised to it. */
  userInfoTtlMs?: number;
  logger?: FichierLogger;
}

/** The client: the {@link FichierApi} surface plus lifecycle helpers. */
export interface FichierClient extends FichierApi {
  /** The pacer key id of the current key (a hash, safe to log). */
  keyId(): Promise<string>;
  /** Drops the folder and user/info caches. */
  clearCaches(): void;
  /** Closes the client's own Agent (not an injected dispatcher). */
  close(): Promise<void>;
}

interface CallOptions {
  /** remote/request.cgi: never repeated after a failure that may have reached 1fichier. */
  submit?: boolean;
  /** The half-open probe of an open circuit (user/info.cgi): the one call allowed while it is open. */
  probe?: boolean;
}

interface RawAnswer {
  httpStatus: number;
  retryAfter: string | string[] | undefined;
  json: unknown;
  text: string;
}

/** Most distinct skipped entries remembered, so each is logged once without unbounded memory. */
const SKIP_LOG_MEMORY = 1000;

/**
 * Builds the 1fichier client.
 * @example
 * const fichier = createFichierClient({ keyProvider: staticKeyProvider(process.env.ONEFICHIER_API_KEY!) });
 * const { id } = await fichier.remoteRequest({ urls: ['https://example.com/a.iso'] });
 */
export function createFichierClient(opts: FichierClientOptions): FichierClient {
  const policy = opts.policy ?? DEFAULT_PACING;
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const pacer = opts.pacer ?? new MemoryPacer({ policy, clock });
  const baseUrl = (opts.baseUrl ?? process.env[ENV.fichierApiUrl] ?? DEFAULT_FICHIER_API_URL).replace(
    /\/+$/,
    '',
  );
  const maxWait = opts.maxPacerWaitMs;
  const userInfoTtlMs = Math.max(USER_INFO_TTL_MS, opts.userInfoTtlMs ?? USER_INFO_TTL_MS);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_FICHIER_TIMEOUT_MS;
  const log = opts.logger ?? {};

  /** When the client last got an answer: its connection is warm for `COLD_CONNECTION_MS` after. */
  let lastAnsweredAt: number | undefined;
  /** Calls between their pacer take and their answer: a call taken meanwhile finds their connection. */
  let underWay = 0;
  let userInfoCache: { keyId: string; at: number; value: Promise<UserInfoResult> } | undefined;

  const loggedSkips = new Set<string>();
  /** Logs each odd entry of a list answer once (with its request id), however many cycles see it. */
  function logSkipped(operation: string, skipped: readonly SkippedEntry[]): void {
    for (const entry of skipped) {
      const id = `${operation}|${entry.requestId ?? ''}|${entry.at}|${entry.sample}`;
      if (loggedSkips.has(id)) continue;
      if (loggedSkips.size >= SKIP_LOG_MEMORY) loggedSkips.clear();
      loggedSkips.add(id);
      log.warn?.('fichier answer entry skipped', { operation, ...entry });
    }
  }
  function lenient<T>(operation: string, parse: (json: unknown) => Lenient<T>): (json: unknown) => T {
    return (json) => {
      const { value, skipped } = parse(json);
      if (skipped.length) logSkipped(operation, skipped);
      return value;
    };
  }

  async function send(operation: string, key: string, body: unknown): Promise<RawAnswer> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await fetch(`${baseUrl}/${operation}`, {
      method: 'POST',
      ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
      signal: timeout,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(body),
    } as RequestInit);
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    return { httpStatus: res.status, retryAfter: res.headers.get('retry-after') ?? undefined, json, text };
  }

  function withRetryAfter(err: FichierApiError, retryAfterMs: number): FichierApiError {
    const init: FichierApiErrorInit = {
      kind: err.kind,
      retryable: err.retryable,
      operation: err.operation,
      httpStatus: err.httpStatus,
      apiMessage: err.apiMessage,
      code: err.code,
      retryAfterMs,
      maybeSubmitted: err.maybeSubmitted,
      note: err.note,
      cause: err.cause,
    };
    return new FichierApiError(init, err.message);
  }

  /**
   * Takes a slot and sends once: the answer, or what the send threw (a pacer refusal is thrown). A call
   * counts as under way from its take to its answer, and is cold when nothing is under way and no answer
   * came for `COLD_CONNECTION_MS`.
   */
  async function pacedSend(
    keyId: string,
    operation: string,
    key: string,
    body: unknown,
    callOpts: CallOptions,
  ): Promise<{ answer: RawAnswer } | { failed: unknown }> {
    const cold =
      underWay === 0 && (lastAnsweredAt === undefined || clock.now() - lastAnsweredAt > COLD_CONNECTION_MS);
    underWay += 1;
    try {
      const slot = await pacer.take(keyId, {
        ...(maxWait === undefined ? {} : { maxWaitMs: maxWait }),
        ...(callOpts.probe ? { ignoreCircuit: true } : {}),
        ...(cold ? { coldCall: true } : {}),
      });
      if (!slot.granted) throw new FichierPacedError(operation, slot.reason, slot.retryAfterMs, slot.detail);
      try {
        const answer = await send(operation, key, body);
        lastAnsweredAt = clock.now();
        return { answer };
      } catch (cause) {
        // No answer: its connection is gone, and the next call opens another.
        lastAnsweredAt = undefined;
        return { failed: cause };
      }
    } finally {
      underWay -= 1;
    }
  }

  /** One paced, classified, retried call; `parse` turns a success body into the typed result. */
  async function call<T>(
    operation: string,
    body: unknown,
    parse: (json: unknown) => T,
    callOpts: CallOptions = {},
  ): Promise<T> {
    let key = await opts.keyProvider.get();
    let retries = 0;
    let refreshedKey = false;
    for (;;) {
      const keyId = keyIdOf(key);
      const sent = await pacedSend(keyId, operation, key, body, callOpts);
      if ('failed' in sent) {
        const err = classifyNetworkError(sent.failed, operation, { submit: callOpts.submit });
        if (!err.retryable || retries >= policy.maxRetries) throw err;
        retries += 1;
        const delayMs = transientDelay(retries, policy, undefined, random);
        if (maxWait !== undefined && delayMs > maxWait) throw withRetryAfter(err, delayMs);
        log.debug?.('fichier retry after network error', {
          operation,
          keyId,
          attempt: retries,
          delayMs,
          error: redactSecrets(err.message),
        });
        await clock.sleep(delayMs);
        continue;
      }

      const answer = sent.answer;
      const { httpStatus, json } = answer;
      const obj =
        json && typeof json === 'object' && !Array.isArray(json)
          ? (json as Record<string, unknown>)
          : undefined;
      const ko = typeof obj?.status === 'string' && obj.status.toUpperCase() === 'KO';
      if (httpStatus >= 200 && httpStatus < 300 && !ko) {
        if (obj === undefined) {
          // A 2xx we cannot read: the server acted, so a submit must be reconciled, not repeated.
          throw new FichierApiError({
            kind: 'transient',
            retryable: !callOpts.submit,
            operation,
            httpStatus,
            maybeSubmitted: callOpts.submit === true,
            note: 'unreadable success body',
            apiMessage: `unreadable answer: ${answer.text.slice(0, 120)}`,
          });
        }
        await pacer.recordSuccess(keyId);
        try {
          return parse(obj);
        } catch (cause) {
          throw new FichierApiError({
            kind: 'transient',
            retryable: false,
            operation,
            httpStatus,
            maybeSubmitted: callOpts.submit === true,
            note: 'unexpected answer shape',
            apiMessage: `unexpected answer shape: ${answer.text.slice(0, 200)}`,
            cause,
          });
        }
      }

      const { shape, message } = answerText(answer.text, obj);
      const err = classifyFichierError({
        httpStatus,
        message,
        shape,
        operation,
        submit: callOpts.submit,
        retryAfterHeader: answer.retryAfter,
        nowMs: clock.now(),
      });
      log.warn?.('fichier error', {
        operation,
        keyId,
        kind: err.kind,
        httpStatus,
        shape,
        code: err.code,
        maybeSubmitted: err.maybeSubmitted,
        apiMessage: message === undefined ? undefined : redactSecrets(message),
      });

      if (err.kind === 'flood') {
        await pacer.recordFlood(keyId, {
          retryAfterMs: err.retryAfterMs,
          ...(err.ipLock ? { minPauseMs: policy.ipLockPauseMs } : {}),
        });
        if (retries >= policy.maxRetries || callOpts.probe) throw err;
        const pausedMs = Math.max(0, (await pacer.state(keyId)).pausedUntil - clock.now());
        if (maxWait !== undefined && pausedMs > maxWait) throw withRetryAfter(err, pausedMs);
        retries += 1;
        continue; // the next take() waits out the pause
      }
      // Unknown answers are not retried here: the job policy waits minutes, not milliseconds.
      if (err.kind === 'transient' && err.retryable) {
        if (retries >= policy.maxRetries) throw err;
        retries += 1;
        const delayMs = transientDelay(retries, policy, err.retryAfterMs, random);
        if (maxWait !== undefined && delayMs > maxWait) throw withRetryAfter(err, delayMs);
        await clock.sleep(delayMs);
        continue;
      }
      if (err.kind === 'auth') {
        if (!refreshedKey) {
          refreshedKey = true;
          const fresh = await opts.keyProvider.refresh();
          if (fresh && fresh !== key) {
            log.warn?.('fichier key rotated after auth error', {
              operation,
              oldKeyId: keyId,
              keyId: keyIdOf(fresh),
            });
            key = fresh;
            continue;
          }
        }
        await pacer.recordAuthFailure(keyId, circuitReasonFor(err), { manual: err.manual });
      }
      throw err;
    }
  }

  const folders = createFolderResolver({
    folderList: (id) => client.folderList(id),
    folderMkdir: (name, parent) => client.folderMkdir(name, parent),
    keyId: () => client.keyId(),
  });

  const client: FichierClient = {
    async remoteRequest(body: RemoteRequestBody): Promise<RemoteRequestResult> {
      if (!Array.isArray(body.urls) || body.urls.length === 0) {
        throw new FichierError('remote/request.cgi needs at least one URL');
      }
      const wire: RemoteRequestBody = { urls: body.urls };
      // 1fichier's root is folder 0; real clients send folder_id only for a sub-folder.
      if (body.folder_id !== undefined && body.folder_id > 0) wire.folder_id = body.folder_id;
      if (body.headers && Object.keys(body.headers).length > 0) wire.headers = body.headers;
      return call('remote/request.cgi', wire, parseRemoteRequest, { submit: true });
    },

    async remoteList(): Promise<RemoteListEntry[]> {
      return call('remote/ls.cgi', {}, lenient('remote/ls.cgi', parseRemoteList));
    },

    async remoteInfo(id: number): Promise<RemoteInfoResult> {
      return call('remote/info.cgi', { id: Number(id) }, lenient('remote/info.cgi', parseRemoteInfo));
    },

    async folderList(folderId?: number): Promise<FolderListResult> {
      const body = folderId !== undefined && folderId > 0 ? { folder_id: folderId } : {};
      return call('folder/ls.cgi', body, parseFolderList);
    },

    async folderMkdir(name: string, parentId = 0): Promise<MkdirResult> {
      const folderName = validateFolderName(name);
      return call('folder/mkdir.cgi', { name: folderName, folder_id: parentId }, parseMkdir);
    },

    resolveFolder(path: string): Promise<number> {
      return folders.resolve(path);
    },

    async fileInfo(url: string): Promise<FileInfoResult> {
      return call('file/info.cgi', { url }, parseFileInfo);
    },

    async downloadToken(url: string): Promise<DownloadTokenResult> {
      return call('download/get_token.cgi', { url }, parseDownloadToken);
    },

    async userInfo(infoOpts: { probe?: boolean } = {}): Promise<UserInfoResult> {
      const keyId = keyIdOf(await opts.keyProvider.get());
      const now = clock.now();
      // A probe must ask 1fichier: a cached answer from before the circuit opened proves nothing.
      const cached = userInfoCache && userInfoCache.keyId === keyId && now - userInfoCache.at < userInfoTtlMs;
      if (cached && userInfoCache && !infoOpts.probe) return userInfoCache.value;
      const value = call('user/info.cgi', {}, parseUserInfo, { probe: infoOpts.probe === true });
      const entry = { keyId, at: now, value };
      userInfoCache = entry;
      value.catch(() => {
        if (userInfoCache === entry) userInfoCache = undefined;
      });
      return value;
    },

    async keyId(): Promise<string> {
      return keyIdOf(await opts.keyProvider.get());
    },

    clearCaches(): void {
      folders.clear();
      userInfoCache = undefined;
    },

    async close(): Promise<void> {
      // Node's global dispatcher is shared; nothing of ours to close.
    },
  };

  return client;
}
