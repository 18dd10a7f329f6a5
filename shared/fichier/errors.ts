/**
 * 1fichier errors: one base class, one classified API error, and the single place that decides
 * what kind an answer is and whether it may be retried (fichier-api.md §3).
 */
import { parseRetryAfter } from './backoff.js';
import type { PacerRefusal } from './pacer.js';

/** What went wrong, in terms a caller can act on. */
export type FichierErrorKind = 'auth' | 'notPremium' | 'flood' | 'notFound' | 'rejected' | 'transient';

/** Base of every error raised by the 1fichier client. */
export class FichierError extends Error {
  override name = 'FichierError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Fields of a classified error. */
export interface FichierApiErrorInit {
  kind: FichierErrorKind;
  retryable: boolean;
  /** The 1fichier path, e.g. `remote/request.cgi`. */
  operation: string;
  httpStatus?: number;
  /** The text 1fichier answered (`message` of a KO body), when any. */
  apiMessage?: string;
  /** The `#N` number at the end of the message: for logs only, never for decisions (§3.1). */
  code?: number;
  /** How long to wait before trying again, when the server or the pacer said so. */
  retryAfterMs?: number;
  /** A remote/request.cgi whose fate is unknown: 1fichier may have created the job. Reconcile before resubmitting. */
  maybeSubmitted?: boolean;
  /** Why this kind was chosen (the matching table row). */
  note?: string;
  cause?: unknown;
}

/**
 * A classified 1fichier failure. `kind` and `retryable` are decided by {@link classifyFichierError}
 * (or {@link classifyNetworkError}); nobody else re-derives them.
 * Message shape: `remote/request.cgi failed: Flood detected: IP Locked #412`.
 */
export class FichierApiError extends FichierError {
  override name = 'FichierApiError';
  readonly kind: FichierErrorKind;
  readonly retryable: boolean;
  readonly operation: string;
  readonly httpStatus: number | undefined;
  readonly apiMessage: string | undefined;
  readonly code: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly maybeSubmitted: boolean;
  readonly note: string | undefined;

  constructor(init: FichierApiErrorInit, message?: string) {
    const detail = init.apiMessage ?? (init.httpStatus !== undefined ? `HTTP ${init.httpStatus}` : init.kind);
    super(message ?? `${init.operation} failed: ${detail}`, { cause: init.cause });
    this.kind = init.kind;
    this.retryable = init.retryable;
    this.operation = init.operation;
    this.httpStatus = init.httpStatus;
    this.apiMessage = init.apiMessage;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.maybeSubmitted = init.maybeSubmitted ?? false;
    this.note = init.note;
  }
}

/**
 * The pacer refused a slot (the call was never sent). `paused` → kind `flood` (retryable after
 * `retryAfterMs`), `busy` → `transient`, `circuitOpen` → `auth` (not retryable until an operator resets it
 * or the key changes). A Lambda hands the work back to SQS with `retryAfterMs` as the visibility delay.
 */
export class FichierPacedError extends FichierApiError {
  override name = 'FichierPacedError';
  readonly refusal: PacerRefusal;

  constructor(operation: string, refusal: PacerRefusal, retryAfterMs: number, detail?: string) {
    const kind: FichierErrorKind =
      refusal === 'circuitOpen' ? 'auth' : refusal === 'paused' ? 'flood' : 'transient';
    super(
      { kind, retryable: refusal !== 'circuitOpen', operation, retryAfterMs, note: detail },
      `${operation} not sent: pacer ${refusal}${detail ? ` (${detail})` : ''}, retry after ${retryAfterMs} ms`,
    );
    this.refusal = refusal;
  }
}

/** One row of the classification table. */
export interface FichierErrorRule {
  pattern: RegExp;
  kind: FichierErrorKind;
  retryable: boolean;
  /** Minimum wait before a retry, when the outside fact gives one. */
  retryAfterMs?: number;
  note: string;
}

/**
 * Known 1fichier message texts (fichier-api.md §3.3), first match wins. Matching is on text because
 * the `#N` numbers are undocumented and change (flood went from #374 to #412 in 2024, rclone 648afc7).
 */
export const FICHIER_ERROR_RULES: readonly FichierErrorRule[] = [
  // Before the lock rules: "Owner locked" is about a file's owner, not our key.
  {
    pattern: /Owner locked/i,
    kind: 'rejected',
    retryable: false,
    note: "the file owner's account is locked",
  },
  {
    pattern: /Flood detected/i,
    kind: 'flood',
    retryable: true,
    note: 'request flood from this IP or key: pause every call for the key (rclone sleeps 30 s, JD 5 min)',
  },
  {
    pattern: /User (APK )?Locked/i,
    kind: 'flood',
    retryable: true,
    note: 'flood lock on the user / API key',
  },
  { pattern: /IP Locked/i, kind: 'flood', retryable: true, note: 'IP locked (JDownloader pauses 60 min)' },
  { pattern: /Not authenticated/i, kind: 'auth', retryable: false, note: 'bad or missing API key' },
  {
    pattern: /No such user/i,
    kind: 'auth',
    retryable: false,
    note: 'unknown key, or account security lockout (password reset required)',
  },
  {
    pattern: /Must be a customer/i,
    kind: 'notPremium',
    retryable: false,
    note: 'the call needs a Premium/Access account',
  },
  {
    pattern: /professional equipment|must have CDN/i,
    kind: 'rejected',
    retryable: false,
    note: 'datacenter/VPN IP refused for downloads (needs CDN credits)',
  },
  {
    pattern: /Resource not found/i,
    kind: 'notFound',
    retryable: false,
    note: 'the file, folder or job does not exist',
  },
  {
    pattern: /Only 1 location/i,
    kind: 'transient',
    retryable: true,
    retryAfterMs: 5 * 60_000,
    note: 'key used from several IPs at once: retry later (JD waits 5 min)',
  },
  { pattern: /not allowed/i, kind: 'rejected', retryable: false, note: 'ACL or password refuses access' },
];

/** What an HTTP answer's status alone says, when no rule matched the message. */
function byHttpStatus(httpStatus: number | undefined): Omit<FichierErrorRule, 'pattern'> {
  if (httpStatus === 401) return { kind: 'auth', retryable: false, note: 'HTTP 401' };
  if (httpStatus === 404 || httpStatus === 410)
    return { kind: 'notFound', retryable: false, note: `HTTP ${httpStatus}` };
  // 1fichier answered floods with 429 before April 2020 (rclone PR #4160); 509 is in rclone's retry list.
  if (httpStatus === 408 || httpStatus === 429 || (httpStatus !== undefined && httpStatus >= 500)) {
    return { kind: 'transient', retryable: true, note: `HTTP ${httpStatus}` };
  }
  // Other 4xx (and KO on 2xx) are not retried: repeated 4xx answers can themselves get an IP banned (§3.2).
  return { kind: 'rejected', retryable: false, note: httpStatus ? `HTTP ${httpStatus}` : 'KO answer' };
}

/** The `#N` at the end of a 1fichier message, for logging. */
export function fichierCodeOf(message: string | undefined): number | undefined {
  const m = message?.match(/#(\d+)\s*$/) ?? message?.match(/#(\d+)/);
  return m ? Number(m[1]) : undefined;
}

/** Input of {@link classifyFichierError}. */
export interface FichierAnswer {
  httpStatus?: number;
  /** The `message` of the KO body (or any text the server answered). */
  message?: string;
  operation: string;
  /** Already parsed `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** Raw `Retry-After` header; parsed when `retryAfterMs` is not given. */
  retryAfterHeader?: string | string[] | null;
  /** Epoch ms used to resolve an HTTP-date `Retry-After`. @default Date.now() */
  nowMs?: number;
  maybeSubmitted?: boolean;
  cause?: unknown;
}

/**
 * Classifies one error answer (non-2xx, or `status: "KO"`): the message text through
 * {@link FICHIER_ERROR_RULES} first, then the HTTP status (401 → auth, 404 → notFound,
 * 429/5xx/509 → transient, other 4xx → rejected).
 */
export function classifyFichierError(answer: FichierAnswer): FichierApiError {
  const message = answer.message?.trim() || undefined;
  const rule = message ? FICHIER_ERROR_RULES.find((r) => r.pattern.test(message)) : undefined;
  const decided = rule ?? byHttpStatus(answer.httpStatus);
  const fromHeader =
    answer.retryAfterMs ?? parseRetryAfter(answer.retryAfterHeader, answer.nowMs ?? Date.now());
  return new FichierApiError({
    kind: decided.kind,
    retryable: decided.retryable,
    operation: answer.operation,
    httpStatus: answer.httpStatus,
    apiMessage: message,
    code: fichierCodeOf(message),
    retryAfterMs: fromHeader ?? decided.retryAfterMs,
    maybeSubmitted: answer.maybeSubmitted,
    note: decided.note,
    cause: answer.cause,
  });
}

/** Error codes raised before any byte of the request left this host: the server cannot have acted. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Error codes of network failures (Node system errors and undici errors) that are worth retrying. */
const NETWORK_CODES = new Set([
  ...NOT_SENT_CODES,
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_ABORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_INFO',
]);

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const o = e as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (typeof o.code === 'string') codes.push(o.code);
    if (o.name === 'AbortError' || o.name === 'TimeoutError') codes.push(o.name);
    if (Array.isArray(o.errors)) for (const inner of o.errors) codes.push(...errorCodes(inner));
    e = o.cause;
  }
  return codes;
}

/** True when `err` (or its cause chain) is a network/timeout failure of the HTTP layer. */
export function isNetworkError(err: unknown): boolean {
  return errorCodes(err).some((c) => NETWORK_CODES.has(c) || c === 'AbortError' || c === 'TimeoutError');
}

/** True when `err` proves the request never reached the server (connection refused, DNS, connect timeout). */
export function isNotSentError(err: unknown): boolean {
  const codes = errorCodes(err);
  return codes.length > 0 && codes.some((c) => NOT_SENT_CODES.has(c));
}

/**
 * Classifies a thrown network error as `transient`. `maybeSubmitted` is set when the call was a
 * submit (`submit: true`) and the error does not prove the request stayed here: the caller must
 * reconcile (remote/ls.cgi) rather than resubmit blindly.
 */
export function classifyNetworkError(
  err: unknown,
  operation: string,
  opts: { submit?: boolean } = {},
): FichierApiError {
  const notSent = isNotSentError(err);
  const maybeSubmitted = opts.submit === true && !notSent;
  const code = errorCodes(err)[0];
  const text = err instanceof Error ? err.message : String(err);
  return new FichierApiError(
    {
      kind: 'transient',
      retryable: !maybeSubmitted,
      operation,
      maybeSubmitted,
      note: notSent
        ? 'request not sent'
        : maybeSubmitted
          ? 'request may have reached 1fichier'
          : 'network error',
      cause: err,
    },
    `${operation} failed: ${code ? `${code}: ` : ''}${text}${maybeSubmitted ? ' (may have been submitted)' : ''}`,
  );
}
