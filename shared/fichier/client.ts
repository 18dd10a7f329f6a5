/**
 * The 1fichier API client (fichier-api.md §1–3): POST JSON with a Bearer key over one keep-alive
 * undici Agent, every call through the pacer, errors classified in one place and retried by policy.
 */
import { Agent, type Dispatcher, request } from 'undici';
import { z } from 'zod';
import { ENV } from '../config/env-names.js';
import { DEFAULT_PACING, type PacingPolicy, transientDelay } from './backoff.js';
import {
  classifyFichierError,
  classifyNetworkError,
  FichierApiError,
  type FichierApiErrorInit,
  FichierError,
  FichierPacedError,
} from './errors.js';
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

/** The real API; override with `ONEFICHIER_API_URL` (the sandbox) or the `baseUrl` option. */
export const DEFAULT_FICHIER_API_URL = 'https://api.1fichier.com/v1';

/** Longest folder name folder/mkdir.cgi accepts (fichier-api.md §2.3). */
export const MAX_FOLDER_NAME_LENGTH = 250;

/** user/info.cgi is limited to 1 call per 5 min per user (fichier-api.md §2.6). */
export const USER_INFO_TTL_MS = 5 * 60_000;

/** Structured log hook. Fields never carry the key: only `keyId` (see {@link keyIdOf}). */
export interface FichierLogger {
  debug?(message: string, fields: Record<string, unknown>): void;
  warn?(message: string, fields: Record<string, unknown>): void;
}

/** HTTP timeouts of the client's own Agent. */
export interface FichierTimeouts {
  /** @default 10000 */
  connectTimeoutMs?: number;
  /** @default 30000 */
  headersTimeoutMs?: number;
  /** @default 30000 */
  bodyTimeoutMs?: number;
  /** Idle keep-alive socket lifetime. @default 10000 */
  keepAliveTimeoutMs?: number;
}

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
  /** An undici dispatcher to use instead of the client's own Agent (not closed by `close()`). */
  dispatcher?: Dispatcher;
  timeouts?: FichierTimeouts;
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

/** A {@link KeyProvider} for a fixed key (local mode, tests): `refresh` returns the same key. */
export function staticKeyProvider(key: string): KeyProvider {
  if (!key) throw new FichierError('staticKeyProvider: empty 1fichier API key');
  return { get: async () => key, refresh: async () => key };
}

/**
 * A {@link KeyProvider} for local mode: the key in `ONEFICHIER_API_KEY`, read once.
 * Fails fast naming the variable when it is unset or blank (AWS reads the key from Secrets Manager instead).
 */
export function keyProviderFromEnv(env: NodeJS.ProcessEnv = process.env): KeyProvider {
  const key = env[ENV.fichierApiKey]?.trim();
  if (!key) throw new FichierError(`${ENV.fichierApiKey} is not set: the 1fichier API key is required`);
  return staticKeyProvider(key);
}

/** Replaces any `Bearer <token>` in a text, so a key never reaches a log line. */
export function redactSecrets(text: string): string {
  return text.replace(/Bearer\s+[^\s"',]+/gi, 'Bearer [redacted]');
}

// 1fichier sends some numbers as strings and some strings as numbers (rclone maps them both ways).
const num = z.coerce.number();
const optNum = z.preprocess((v) => (v === null || v === '' ? undefined : v), z.coerce.number().optional());
const str = z.preprocess((v) => (v === null || v === undefined ? '' : v), z.coerce.string());
const optStr = z.preprocess((v) => (v === null ? undefined : v), z.coerce.string().optional());
const status = z.preprocess(
  (v) => (typeof v === 'string' ? v.toUpperCase() : v),
  z.enum(['OK', 'KO']).optional().catch(undefined),
);
const stringMap = z.record(z.string(), z.coerce.string());

/** A remote request id: a positive integer (a numeric string is accepted); anything else is unreadable. */
const remoteId = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
);
const remoteRequestSchema = z.looseObject({
  status,
  id: remoteId,
  date: optStr,
  urls: z.array(z.string()).optional(),
  headers: stringMap.optional().catch(undefined),
  message: optStr,
});
const remoteListSchema = z.looseObject({
  data: z
    .array(z.looseObject({ id: num, request_date: str, execution_date: str }))
    .nullish()
    .transform((d) => d ?? []),
});
const remoteInfoSchema = z.looseObject({
  id: num,
  request_date: str,
  execution_date: str,
  links: z.array(z.coerce.string()).optional(),
  result: z
    .array(
      z.looseObject({
        status: z.preprocess((v) => String(v).toUpperCase(), z.enum(['OK', 'KO'])),
        url: str,
        download_link: optStr,
        message: optStr,
      }),
    )
    .nullish()
    .transform((r) => r ?? undefined),
  status,
  message: optStr,
});
const fileInfoSchema = z.looseObject({
  url: z.string(),
  filename: str,
  size: num,
  date: optStr,
  folder_id: optNum,
  path: optStr,
  checksum: optStr,
  content_type: optStr,
});
const folderListSchema = z.looseObject({
  folder_id: num.catch(0),
  name: str,
  create_date: optStr,
  sub_folders: z
    .array(z.looseObject({ id: num, name: str, create_date: optStr, pass: optNum }))
    .nullish()
    .transform((s) => s ?? []),
  items: z.array(fileInfoSchema).optional().catch(undefined),
});
const mkdirSchema = z.looseObject({ status, folder_id: num, name: str, message: optStr });
const downloadTokenSchema = z.looseObject({ status, url: z.string(), message: optStr });
const userInfoSchema = z.looseObject({
  email: str,
  offer: num.catch(0),
  subscription_end: optStr,
  available_storage: optNum,
  upload_forbidden: optNum,
});

interface CallOptions {
  /** remote/request.cgi: never repeated after a failure that may have reached 1fichier. */
  submit?: boolean;
}

interface RawAnswer {
  httpStatus: number;
  retryAfter: string | string[] | undefined;
  json: unknown;
  text: string;
}

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
  const t = opts.timeouts ?? {};
  const ownAgent = opts.dispatcher
    ? undefined
    : new Agent({
        connectTimeout: t.connectTimeoutMs ?? 10_000,
        headersTimeout: t.headersTimeoutMs ?? 30_000,
        bodyTimeout: t.bodyTimeoutMs ?? 30_000,
        keepAliveTimeout: t.keepAliveTimeoutMs ?? 10_000,
      });
  const dispatcher: Dispatcher = opts.dispatcher ?? (ownAgent as Agent);
  const log = opts.logger ?? {};

  const folderCache = new Map<string, Promise<number>>();
  let userInfoCache: { keyId: string; at: number; value: Promise<UserInfoResult> } | undefined;

  async function send(operation: string, key: string, body: unknown): Promise<RawAnswer> {
    const res = await request(`${baseUrl}/${operation}`, {
      method: 'POST',
      dispatcher,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    return { httpStatus: res.statusCode, retryAfter: res.headers['retry-after'], json, text };
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
      const slot = await pacer.take(keyId, maxWait === undefined ? {} : { maxWaitMs: maxWait });
      if (!slot.granted) throw new FichierPacedError(operation, slot.reason, slot.retryAfterMs, slot.detail);

      let answer: RawAnswer;
      try {
        answer = await send(operation, key, body);
      } catch (cause) {
        const err = classifyNetworkError(cause, operation, { submit: callOpts.submit });
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

      const { httpStatus, json } = answer;
      const obj = json && typeof json === 'object' ? (json as Record<string, unknown>) : undefined;
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

      const message = typeof obj?.message === 'string' ? obj.message : undefined;
      const err = classifyFichierError({
        httpStatus,
        message,
        operation,
        retryAfterHeader: answer.retryAfter,
        nowMs: clock.now(),
      });
      log.warn?.('fichier error', {
        operation,
        keyId,
        kind: err.kind,
        httpStatus,
        code: err.code,
        apiMessage: message === undefined ? undefined : redactSecrets(message),
      });

      if (err.kind === 'flood') {
        await pacer.recordFlood(keyId, err.retryAfterMs);
        if (retries >= policy.maxRetries) throw err;
        const pausedMs = Math.max(0, (await pacer.state(keyId)).pausedUntil - clock.now());
        if (maxWait !== undefined && pausedMs > maxWait) throw withRetryAfter(err, pausedMs);
        retries += 1;
        continue; // the next take() waits out the pause
      }
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
        await pacer.recordAuthFailure(keyId, message ?? err.message);
      }
      throw err;
    }
  }

  function folderCacheKey(keyId: string, path: string): string {
    return `${keyId}\u0000${path}`;
  }

  function validateFolderName(name: string): string {
    const n = name.trim();
    if (!n) throw new FichierError('folder name must not be empty');
    if (n.length > MAX_FOLDER_NAME_LENGTH) {
      throw new FichierError(
        `folder name longer than ${MAX_FOLDER_NAME_LENGTH} characters: ${n.slice(0, 40)}…`,
      );
    }
    if (n.includes('/')) throw new FichierError(`folder name must not contain "/": ${n}`);
    return n;
  }

  const client: FichierClient = {
    async remoteRequest(body: RemoteRequestBody): Promise<RemoteRequestResult> {
      if (!Array.isArray(body.urls) || body.urls.length === 0) {
        throw new FichierError('remote/request.cgi needs at least one URL');
      }
      const wire: RemoteRequestBody = { urls: body.urls };
      // 1fichier's root is folder 0; real clients send folder_id only for a sub-folder.
      if (body.folder_id !== undefined && body.folder_id > 0) wire.folder_id = body.folder_id;
      if (body.headers && Object.keys(body.headers).length > 0) wire.headers = body.headers;
      return call('remote/request.cgi', wire, (j) => remoteRequestSchema.parse(j) as RemoteRequestResult, {
        submit: true,
      });
    },

    async remoteList(): Promise<RemoteListEntry[]> {
      return call('remote/ls.cgi', {}, (j) => remoteListSchema.parse(j).data as RemoteListEntry[]);
    },

    async remoteInfo(id: number): Promise<RemoteInfoResult> {
      return call(
        'remote/info.cgi',
        { id: Number(id) },
        (j) => remoteInfoSchema.parse(j) as RemoteInfoResult,
      );
    },

    async folderList(folderId?: number): Promise<FolderListResult> {
      const body = folderId !== undefined && folderId > 0 ? { folder_id: folderId } : {};
      return call('folder/ls.cgi', body, (j) => folderListSchema.parse(j) as FolderListResult);
    },

    async folderMkdir(name: string, parentId = 0): Promise<MkdirResult> {
      const folderName = validateFolderName(name);
      return call(
        'folder/mkdir.cgi',
        { name: folderName, folder_id: parentId },
        (j) => mkdirSchema.parse(j) as MkdirResult,
      );
    },

    async resolveFolder(path: string): Promise<number> {
      const parts = path
        .split('/')
        .map((p) => p.trim())
        .filter((p) => p.length > 0)
        .map(validateFolderName);
      if (parts.length === 0) return 0;
      const keyId = keyIdOf(await opts.keyProvider.get());
      let parentId = 0;
      for (let i = 0; i < parts.length; i++) {
        const prefix = parts.slice(0, i + 1).join('/');
        const cacheKey = folderCacheKey(keyId, prefix);
        let pending = folderCache.get(cacheKey);
        if (!pending) {
          pending = findOrCreate(parts[i]!, parentId);
          folderCache.set(cacheKey, pending);
          pending.catch(() => folderCache.delete(cacheKey));
        }
        parentId = await pending;
      }
      return parentId;
    },

    async fileInfo(url: string): Promise<FileInfoResult> {
      return call('file/info.cgi', { url }, (j) => fileInfoSchema.parse(j) as FileInfoResult);
    },

    async downloadToken(url: string): Promise<DownloadTokenResult> {
      return call(
        'download/get_token.cgi',
        { url },
        (j) => downloadTokenSchema.parse(j) as DownloadTokenResult,
      );
    },

    async userInfo(): Promise<UserInfoResult> {
      const keyId = keyIdOf(await opts.keyProvider.get());
      const now = clock.now();
      if (userInfoCache && userInfoCache.keyId === keyId && now - userInfoCache.at < userInfoTtlMs) {
        return userInfoCache.value;
      }
      const value = call('user/info.cgi', {}, (j) => userInfoSchema.parse(j) as UserInfoResult);
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
      folderCache.clear();
      userInfoCache = undefined;
    },

    async close(): Promise<void> {
      await ownAgent?.close();
    },
  };

  async function findOrCreate(name: string, parentId: number): Promise<number> {
    const existing = (await client.folderList(parentId)).sub_folders.find((f) => f.name === name);
    if (existing) return existing.id;
    try {
      return (await client.folderMkdir(name, parentId)).folder_id;
    } catch (err) {
      // Another process may have created it between our ls and mkdir: look once more before failing.
      if (err instanceof FichierApiError && err.kind === 'rejected') {
        const raced = (await client.folderList(parentId)).sub_folders.find((f) => f.name === name);
        if (raced) return raced.id;
      }
      throw err;
    }
  }

  return client;
}
