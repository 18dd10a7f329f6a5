/**
 * Errors of the outbound HTTP client: one base class, one subclass per way a call fails. Every
 * message names the operation and the URL through {@link redactUrl}, never the raw URL: its query
 * string, user name and some path segments are secrets.
 */
import type { AddressVerdict } from './addresses.js';
import { redactUrl } from './redact.js';

/** Fields every outbound error carries. */
export interface OutboundErrorInit {
  /** What the caller was doing, e.g. `feed fetch`, `discord delivery`. */
  operation: string;
  /** The URL of the failed hop; only its redacted form is kept. */
  url: string | URL;
  cause?: unknown;
}

function hostOf(url: string | URL): string {
  try {
    return new URL(String(url)).hostname;
  } catch {
    return '';
  }
}

/** Base of every error raised by {@link guardedFetch} and the URL guard. */
export class OutboundError extends Error {
  override name = 'OutboundError';
  readonly operation: string;
  /** The host name of the failed hop (host names are not secrets). */
  readonly host: string;
  /** The failed hop's URL, redacted. */
  readonly url: string;
  /** True when the same call may succeed later unchanged (network, timeout); false when the URL must change. */
  readonly retryable: boolean;

  constructor(init: OutboundErrorInit, detail: string, retryable: boolean) {
    const url = redactUrl(init.url);
    super(`${init.operation} ${url} ${detail}`, { cause: init.cause });
    this.operation = init.operation;
    this.host = hostOf(init.url);
    this.url = url;
    this.retryable = retryable;
  }
}

/** Why the URL guard refused a URL. */
export type UrlRefusalCode =
  | 'invalidUrl'
  | 'unsupportedScheme'
  | 'credentialsInUrl'
  | 'blockedPort'
  | 'blockedName'
  | 'blockedAddress';

/** The URL itself is refused (scheme, credentials, port, host name): nothing was sent. Not retryable. */
export class BlockedUrlError extends OutboundError {
  override name = 'BlockedUrlError';
  readonly code: UrlRefusalCode;
  /** The refusal as a person reads it, without operation or URL. */
  readonly refusal: string;

  constructor(init: OutboundErrorInit & { code: UrlRefusalCode }, refusal: string) {
    super(init, `refused: ${refusal}`, false);
    this.code = init.code;
    this.refusal = refusal;
  }
}

/** Where an address was refused: the URL's IP literal, a name's DNS answer, or the connected socket. */
export type BlockedStage = 'url' | 'resolve' | 'connect';

/** The target address is refused (loopback, private, metadata…): no request was sent. Not retryable. */
export class BlockedAddressError extends BlockedUrlError {
  override name = 'BlockedAddressError';
  /** The refused address, normalised. */
  readonly address: string;
  /** Its range (`loopback`, `private`, `cloudMetadata`…). */
  readonly range: string;
  readonly reason: string;
  readonly stage: BlockedStage;

  constructor(init: OutboundErrorInit & { verdict: AddressVerdict; stage: BlockedStage }) {
    const v = init.verdict;
    const via = v.embeddedIPv4 ? ` (it carries ${v.embeddedIPv4})` : '';
    const address = v.address || 'the address';
    const what =
      init.stage === 'resolve'
        ? `${hostOf(init.url)} resolves to ${address}, ${v.reason}`
        : init.stage === 'connect'
          ? `the connection reached ${address}, ${v.reason}`
          : `${address} is ${v.reason}`;
    super({ ...init, code: 'blockedAddress' }, `${what}${via}; only public addresses may be reached`);
    this.address = v.address;
    this.range = v.range;
    this.reason = v.reason;
    this.stage = init.stage;
  }
}

/** The connect timeout or the call's total timeout ran out. Retryable. */
export class OutboundTimeoutError extends OutboundError {
  override name = 'OutboundTimeoutError';
  readonly phase: 'connect' | 'total';
  readonly timeoutMs: number;

  constructor(init: OutboundErrorInit & { phase: 'connect' | 'total'; timeoutMs: number }) {
    super(init, `timed out (${init.phase === 'connect' ? 'connect' : 'total'} ${init.timeoutMs} ms)`, true);
    this.phase = init.phase;
    this.timeoutMs = init.timeoutMs;
  }
}

/** The caller's own `signal` aborted the call. */
export class OutboundAbortedError extends OutboundError {
  override name = 'OutboundAbortedError';
  constructor(init: OutboundErrorInit) {
    super(init, 'aborted by the caller', true);
  }
}

/** The answer's body is longer than `maxBodyBytes` (after decompression). The rest was not read. */
export class ResponseTooLargeError extends OutboundError {
  override name = 'ResponseTooLargeError';
  readonly limitBytes: number;
  readonly status: number;

  constructor(init: OutboundErrorInit & { limitBytes: number; status: number }) {
    super(init, `answered HTTP ${init.status} with a body over ${init.limitBytes} bytes`, false);
    this.limitBytes = init.limitBytes;
    this.status = init.status;
  }
}

/** One redirect followed: who answered, with which status, pointing where. */
export interface RedirectHop {
  url: string;
  status: number;
  location: string;
}

/** More redirects than `maxRedirects`. `redirects` holds the chain, redacted. */
export class TooManyRedirectsError extends OutboundError {
  override name = 'TooManyRedirectsError';
  readonly maxRedirects: number;
  readonly redirects: readonly RedirectHop[];

  constructor(init: OutboundErrorInit & { maxRedirects: number; redirects: readonly RedirectHop[] }) {
    super(init, `redirected more than ${init.maxRedirects} times`, false);
    this.maxRedirects = init.maxRedirects;
    this.redirects = init.redirects.map((h) => ({
      url: redactUrl(h.url),
      status: h.status,
      location: redactUrl(h.location),
    }));
  }
}

/**
 * The exchange failed below HTTP: DNS, refused or reset connection, a malformed or undecodable answer.
 * Retryable; `code` is the system or Node code when there is one (`ENOTFOUND`, `ECONNREFUSED`…).
 */
export class OutboundNetworkError extends OutboundError {
  override name = 'OutboundNetworkError';
  readonly code: string | undefined;

  constructor(init: OutboundErrorInit & { code?: string }, detail: string) {
    super(init, `failed: ${init.code ? `${init.code} ` : ''}${detail}`, true);
    this.code = init.code;
  }
}
