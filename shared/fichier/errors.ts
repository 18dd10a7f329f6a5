/**
 * 1fichier errors: one base class, one classified API error, and the single place that decides what an
 * answer means: its kind, whether it may be retried, how long to wait, and whether a remote/request.cgi
 * may have been created anyway (docs/1fichier-api.md, "Errors"). What a job then does is decided once,
 * from this, in `shared/jobs/retry-policy.ts`.
 */
import { parseRetryAfter } from './backoff.js';
import type { PacerRefusal } from './pacer.js';

/**
 * What went wrong, in terms a caller can act on. `unknown`: a refusal whose text no rule knows (1fichier
 * publishes no list of messages): never final at once, retried with a long backoff.
 */
export type FichierErrorKind =
  | 'auth'
  | 'notPremium'
  | 'flood'
  | 'notFound'
  | 'rejected'
  | 'transient'
  | 'unknown';

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
  /** The `#N` number at the end of the message: for logs only, never for decisions (docs/1fichier-api.md, "Errors"). */
  code?: number;
  /** How long to wait before trying again, when the server or the pacer said so. */
  retryAfterMs?: number;
  /** A remote/request.cgi whose fate is unknown: 1fichier may have created the job. Reconcile before resubmitting. */
  maybeSubmitted?: boolean;
  /** A bare `IP Locked` (not a flood answer): the long IP-lock pause applies, not the flood pause. */
  ipLock?: boolean;
  /** An auth failure only a person can end (`No such user #93`: security lock): no automatic probe. */
  manual?: boolean;
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
  readonly ipLock: boolean;
  readonly manual: boolean;
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
    this.ipLock = init.ipLock ?? false;
    this.manual = init.manual ?? false;
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
  ipLock?: boolean;
  manual?: boolean;
  note: string;
}

/**
 * Known 1fichier message texts (docs/1fichier-api.md, "Known messages"), first match wins. They are
 * matched on the text of JSON `message`s and of plain-text or HTML bodies alike, because the `#N`
 * numbers are undocumented and change: flood went from #374 to #412 in 2024 (rclone 648afc7), and
 * `User Locked #223` and `IP Locked #38` appear in clients' code and issues.
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
    note: 'flood lock on the user / API key, whatever number follows (#223 seen)',
  },
  {
    // Only a bare "IP Locked" reaches this row: "Flood detected: IP Locked" matched the flood row.
    pattern: /IP Locked/i,
    kind: 'flood',
    retryable: true,
    ipLock: true,
    note: 'IP locked outright: long pause (JDownloader waits 60 min)',
  },
  { pattern: /Not authenticated/i, kind: 'auth', retryable: false, note: 'bad or missing API key' },
  {
    pattern: /No such user/i,
    kind: 'auth',
    retryable: false,
    manual: true,
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

/**
 * The reason an open auth circuit shows, saying what a person must do when only they can close it.
 */
export function circuitReasonFor(err: FichierApiError): string {
  const said = err.apiMessage ?? err.message;
  if (err.manual) {
    return (
      `${said}: 1fichier does not know this key, or locked the account for security. Log in to 1fichier ` +
      '(reset the password if asked), create a new API key and set it; the relay resumes by itself on a new ' +
      'key, or after POST /admin/circuit/reset'
    );
  }
  return `${said}: the relay tries the key again now and then (FICHIER_CIRCUIT_PROBE_S) and resumes when 1fichier accepts it`;
}

/** How an answer's body was shaped: a JSON object, or something else (HTML, plain text, nothing). */
export type AnswerShape = 'json' | 'html' | 'text' | 'empty';

/**
 * What an answer says when no rule matched its text: by HTTP status and body shape. Each row records why.
 */
function byStatusAndShape(
  httpStatus: number | undefined,
  shape: AnswerShape,
): Omit<FichierErrorRule, 'pattern'> {
  const s = httpStatus;
  if (s === 401) return { kind: 'auth', retryable: false, note: 'HTTP 401' };
  // 1fichier answered floods with 429 until April 2020 (rclone PR #4160): a rate limit, nothing created.
  if (s === 429) return { kind: 'flood', retryable: true, note: 'HTTP 429: rate limited' };
  // 1fichier uses 403 for floods and locks (rclone api.go); a 403 page that is not JSON is a lock page.
  if (s === 403 && shape !== 'json') {
    return { kind: 'flood', retryable: true, note: 'non-JSON 403: treated as a lock' };
  }
  // Gateways (nginx 502/503/504, a maintenance 503) answer HTML or nothing; 509 is in rclone's retry list.
  if (s === 408 || (s !== undefined && s >= 500)) {
    return { kind: 'transient', retryable: true, note: `HTTP ${s}${shape === 'json' ? '' : ` (${shape})`}` };
  }
  if ((s === 404 || s === 410) && shape !== 'json') {
    return { kind: 'notFound', retryable: false, note: `HTTP ${s}` };
  }
  // A KO text no rule knows, on any status, or an odd page: 1fichier may refuse something new (e.g.
  // "#913 Premium status is only allowed to be used on residential…"), often only for a while. Never
  // final at once, and never retried quickly: repeated 4xx answers can get an IP banned (api.html).
  return {
    kind: 'unknown',
    retryable: true,
    note: s ? `unrecognised answer, HTTP ${s}` : 'unrecognised answer',
  };
}

/** The `#N` at the end of a 1fichier message, for logging. */
export function fichierCodeOf(message: string | undefined): number | undefined {
  const m = message?.match(/#(\d+)\s*$/) ?? message?.match(/#(\d+)/);
  return m ? Number(m[1]) : undefined;
}

/** Input of {@link classifyFichierError}. */
export interface FichierAnswer {
  httpStatus?: number;
  /** The `message` of a KO body, or the text of a non-JSON body (see {@link answerText}). */
  message?: string;
  /** @default 'json' when `message` is given, else 'empty' */
  shape?: AnswerShape;
  operation: string;
  /** The call was a remote/request.cgi: decide whether 1fichier may have created the request. */
  submit?: boolean;
  /** Already parsed `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** Raw `Retry-After` header; parsed when `retryAfterMs` is not given. */
  retryAfterHeader?: string | string[] | null;
  /** Epoch ms used to resolve an HTTP-date `Retry-After`. @default Date.now() */
  nowMs?: number;
  /** Overrides the maybe-submitted decision (tests, and callers that know better). */
  maybeSubmitted?: boolean;
  cause?: unknown;
}

/**
 * Whether a failed remote/request.cgi may have created the request anyway. Only a clear refusal says it
 * did not: a flood or a 429 (a rate limit answers before any work), a 401, or a well-formed JSON KO
 * below 500. A 5xx with any body (a gateway can answer 502 after 1fichier created the request), an
 * unreadable answer, or an odd page may hide a creation, so the jobs are reconciled before any resend.
 */
function mayHaveCreated(kind: FichierErrorKind, httpStatus: number | undefined, shape: AnswerShape): boolean {
  if (kind === 'flood' || httpStatus === 429 || httpStatus === 401) return false;
  if (shape === 'json' && httpStatus !== undefined && httpStatus < 500) return false;
  return true;
}

/**
 * Classifies one error answer (non-2xx, or `status: "KO"`): its text through {@link FICHIER_ERROR_RULES}
 * first (JSON `message`, or the text of a plain-text or HTML body), then its HTTP status and shape
 * (401 → auth; 429 or a non-JSON 403 → flood; 408, 5xx → transient; anything else → unknown).
 */
export function classifyFichierError(answer: FichierAnswer): FichierApiError {
  const message = answer.message?.trim() || undefined;
  const shape = answer.shape ?? (message ? 'json' : 'empty');
  // In an HTML page only the lock rules count: a gateway's "405 Not Allowed" title is no ACL refusal.
  const rule = message
    ? FICHIER_ERROR_RULES.find((r) => r.pattern.test(message) && (shape !== 'html' || r.kind === 'flood'))
    : undefined;
  const decided = rule ?? byStatusAndShape(answer.httpStatus, shape);
  const fromHeader =
    answer.retryAfterMs ?? parseRetryAfter(answer.retryAfterHeader, answer.nowMs ?? Date.now());
  const maybeSubmitted =
    answer.maybeSubmitted ??
    (answer.submit === true && mayHaveCreated(decided.kind, answer.httpStatus, shape));
  return new FichierApiError({
    kind: decided.kind,
    // A request that may exist at 1fichier is reconciled, never sent again as it is.
    retryable: decided.retryable && !maybeSubmitted,
    operation: answer.operation,
    httpStatus: answer.httpStatus,
    apiMessage: message,
    code: fichierCodeOf(message),
    retryAfterMs: fromHeader ?? decided.retryAfterMs,
    maybeSubmitted,
    ipLock: decided.ipLock,
    manual: decided.manual,
    note: decided.note,
    cause: answer.cause,
  });
}

/**
 * The text and shape of an answer body: a JSON object's `message`, the visible text of an HTML page
 * (its title, else its first heading; tags and scripts dropped), or plain text, cut to 300 characters.
 */
export function answerText(body: string, json: unknown): { shape: AnswerShape; message: string | undefined } {
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const m = (json as Record<string, unknown>).message;
    return { shape: 'json', message: typeof m === 'string' ? m : m === undefined ? undefined : String(m) };
  }
  const text = body.trim();
  if (text === '') return { shape: 'empty', message: undefined };
  if (/^<(!doctype|html|head|body)|<\/(html|body|h1|title)>/i.test(text)) {
    const title =
      /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1] ?? /<h1[^>]*>([^<]*)<\/h1>/i.exec(text)?.[1];
    const visible = (
      title ?? text.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>|<[^>]+>/gi, ' ')
    )
      .replace(/\s+/g, ' ')
      .trim();
    return { shape: 'html', message: visible ? visible.slice(0, 300) : undefined };
  }
  return { shape: 'text', message: text.replace(/\s+/g, ' ').slice(0, 300) };
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
