/**
 * The outbound HTTP client feeds, job callbacks and notification deliveries share (docs/outbound-http.md).
 * Every hop is checked by the URL guard, its name resolved here and every address checked, and the
 * socket opened to a checked address and verified once connected — so a DNS answer that changes between
 * check and connect (rebinding) cannot steer a request to an internal host. Bodies are capped, the
 * whole call has one deadline, and redirects are only followed on request, each hop checked again.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import {
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type LookupFunction, connect as netConnect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { type SecureContextOptions, connect as tlsConnect } from 'node:tls';
import { createBrotliDecompress, createGunzip } from 'node:zlib';
import {
  type AddressPolicy,
  type AddressVerdict,
  classifyAddress,
  parseIp,
  sameAddress,
} from './addresses.js';
import {
  BlockedAddressError,
  BlockedUrlError,
  OutboundAbortedError,
  OutboundError,
  OutboundNetworkError,
  OutboundTimeoutError,
  type RedirectHop,
  ResponseTooLargeError,
  TooManyRedirectsError,
} from './errors.js';
import { assertOutboundUrl } from './url-guard.js';

/**
 * The relay's version as sent in `User-Agent`. A constant, because reading package.json at run time
 * does not survive bundling; a unit test keeps it equal to package.json.
 */
export const RELAY_VERSION = '0.1.0';

/** Identifies the relay to the sites it fetches, with a page to read about it (feed etiquette). */
export const DEFAULT_USER_AGENT = `fichier-relay/${RELAY_VERSION} (+https://github.com/fichier-relay/fichier-relay)`;

/** @default for `connectTimeoutMs`. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** @default for `totalTimeoutMs`. */
export const DEFAULT_TOTAL_TIMEOUT_MS = 30_000;
/** @default for `maxBodyBytes`. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** @default for `maxRedirects` in follow mode. */
export const DEFAULT_MAX_REDIRECTS = 5;

/** Largest feed document read (`FEEDS_MAX_BYTES` default). */
export const FEED_MAX_BODY_BYTES = 5 * 1024 * 1024;
/** Largest delivery answer kept: enough for an error text, no more. */
export const DELIVERY_MAX_BODY_BYTES = 64 * 1024;

/**
 * Options for fetching a feed: 5 MiB, an over-long feed is an error (half an XML document does not
 * parse), redirects followed so 301/308 can update the stored URL, 60 s as FlexGet allows.
 */
export const FEED_FETCH = {
  maxBodyBytes: FEED_MAX_BODY_BYTES,
  onBodyLimit: 'error',
  redirect: 'follow',
  maxRedirects: DEFAULT_MAX_REDIRECTS,
  totalTimeoutMs: 60_000,
} as const satisfies GuardedFetchOptions;

/**
 * Options for a delivery (webhook, callback, chat notification): the status decides, the body is only
 * kept for the delivery log, so it is truncated at 64 KiB; a 3xx is a failure to report, not to follow
 * (Standard Webhooks); 15 s, the low end of Standard Webhooks' 15–30 s.
 */
export const DELIVERY_FETCH = {
  maxBodyBytes: DELIVERY_MAX_BODY_BYTES,
  onBodyLimit: 'truncate',
  redirect: 'manual',
  totalTimeoutMs: 15_000,
} as const satisfies GuardedFetchOptions;

/** One DNS answer, as `dns.promises.lookup(name, { all: true })` gives it. */
export interface LookupAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has. */
export type LookupFn = (hostname: string) => Promise<readonly LookupAddress[]>;

/** The system resolver (`getaddrinfo`, honours /etc/hosts), every address. */
export const systemLookup: LookupFn = (hostname) => dnsLookup(hostname, { all: true });

/** Options of {@link guardedFetch}. */
export interface GuardedFetchOptions {
  /** Names the call in error messages: `feed fetch`, `discord delivery`. @default the method */
  operation?: string;
  /** @default 'GET' */
  method?: string;
  /** Request headers; `user-agent` and `accept-encoding` are added unless given. */
  headers?: Record<string, string>;
  /** Replayable bodies only, so a 307/308 can send it again. */
  body?: string | Uint8Array;
  /** Per connection attempt. @default DEFAULT_CONNECT_TIMEOUT_MS (10 s) */
  connectTimeoutMs?: number;
  /** The whole call: DNS, connects, every redirect hop, the body. @default DEFAULT_TOTAL_TIMEOUT_MS (30 s) */
  totalTimeoutMs?: number;
  /** The caller's own cancellation. */
  signal?: AbortSignal;
  /** Most body bytes read, after decompression. @default DEFAULT_MAX_BODY_BYTES (1 MiB) */
  maxBodyBytes?: number;
  /**
   * Past `maxBodyBytes`: `error` stops reading and throws {@link ResponseTooLargeError}; `truncate`
   * stops reading and returns the first `maxBodyBytes` with `truncated: true`. Either way the
   * connection is closed, the rest never read. @default 'error'
   */
  onBodyLimit?: 'error' | 'truncate';
  /**
   * `manual` returns a 3xx as it is; `follow` follows up to `maxRedirects`, each target checked like
   * the first URL, and lists the hops in `redirects`. @default 'manual'
   */
  redirect?: 'manual' | 'follow';
  /** @default DEFAULT_MAX_REDIRECTS (5) */
  maxRedirects?: number;
  /** Let loopback/private targets through (local testing); the caller's config decides. @default false */
  allowPrivate?: boolean;
  /** @default DEFAULT_USER_AGENT */
  userAgent?: string;
  /** Ask for gzip/brotli and decode them (the byte cap applies to the decoded body). @default true */
  decompress?: boolean;
  /** @default systemLookup */
  lookup?: LookupFn;
  /** Decides each address. @default classifyAddress. Tests only: stand loopback in for a public address. */
  addressPolicy?: AddressPolicy;
  /**
   * The connector that opens sockets, which the guard wraps. Tests only.
   * @default socketConnector({ timeoutMs: connectTimeoutMs })
   */
  connector?: Connector;
}

/** The answer of {@link guardedFetch}. */
export interface GuardedResponse {
  status: number;
  /** As received, except `content-encoding` and `content-length` are dropped when the body was decoded. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** True when `onBodyLimit: 'truncate'` cut the body. */
  truncated: boolean;
  /** The URL that gave this answer (after redirects; not redacted — it is the caller's). */
  url: string;
  /** Each redirect followed, in order, with its status (301/308 permanent, 302/303/307 not). */
  redirects: RedirectHop[];
  /** The IP address the answer came from. */
  address: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Connect errors after which the next checked address of the same name is tried. */
const NEXT_ADDRESS_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** Headers a cross-origin redirect must not carry on (Fetch Standard, HTTP-redirect fetch). */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** One connection {@link guardedFetch} asks a {@link Connector} for. */
export interface ConnectOptions {
  /** Where to connect: {@link pinnedConnector} puts a checked IP address here, never a name. */
  hostname: string;
  /** The URL's host (name and port, as in the `Host` header). */
  host?: string;
  /** `http:` or `https:` (TLS). */
  protocol: string;
  port: string;
  /** The name TLS sends as SNI and checks the certificate against; absent when the URL names an IP. */
  servername?: string;
  /** The whole call's signal: an attempt still connecting when it aborts is given up. */
  signal?: AbortSignal;
}

/** Told the connected socket, or why there is none (the shape undici's connectors use too). */
export type ConnectCallback = (...args: [null, Socket] | [Error, null]) => void;

/** Opens one socket (TCP, or TLS for `https:`) and calls back once it is connected. */
export type Connector = (opts: ConnectOptions, callback: ConnectCallback) => void;

/** `code` of the error {@link socketConnector} fails with when an attempt outlasts its timeout. */
export const CONNECT_TIMEOUT_CODE = 'ERR_OUTBOUND_CONNECT_TIMEOUT';

/** Options of {@link socketConnector}. */
export interface SocketConnectorOptions {
  /** Per attempt: TCP, and for `https:` the TLS handshake too. */
  timeoutMs: number;
  /** Certificates to trust instead of Node's bundled CAs (tests: a self-signed one). */
  ca?: SecureContextOptions['ca'];
}

/**
 * The `lookup` handed to `net`/`tls`: the connector only ever gets IP addresses, which Node does not
 * resolve, so a name reaching it is a bug, and it is refused rather than resolved behind the check.
 */
const refuseLookup: LookupFunction = (hostname, _opts, callback) => callback(uncheckedName(hostname), '');

function uncheckedName(hostname: string): Error {
  return Object.assign(new Error(`refused to resolve ${hostname}: only checked addresses are connected to`), {
    code: 'ERR_OUTBOUND_UNCHECKED_NAME',
  });
}

/**
 * The default {@link Connector}, on `node:net` and `node:tls`: connects to the IP address in
 * `hostname` (a name is refused, never resolved), for `https:` completes the TLS handshake with SNI and
 * the certificate check on `servername`, and calls back on `connect` / `secureConnect`. A timeout, an
 * error or the signal destroys the socket and fails the attempt.
 */
export function socketConnector(opts: SocketConnectorOptions): Connector {
  return (target, callback) => {
    const ip = parseIp(target.hostname);
    if (!ip) {
      callback(uncheckedName(target.hostname), null);
      return;
    }
    const host = ip.toString();
    const port = Number(target.port);
    const tls = target.protocol === 'https:';
    const socket: Socket = tls
      ? tlsConnect({ host, port, servername: target.servername, ca: opts.ca, lookup: refuseLookup })
      : netConnect({ host, port, lookup: refuseLookup });
    const readyEvent = tls ? 'secureConnect' : 'connect';
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off(readyEvent, onReady);
      socket.off('error', finish);
      target.signal?.removeEventListener('abort', onAbort);
      if (err) {
        socket.on('error', () => {});
        socket.destroy();
        callback(err, null);
      } else callback(null, socket);
    };
    const onReady = (): void => finish(null);
    const onAbort = (): void => finish(toError(target.signal?.reason));
    const timer = setTimeout(() => {
      const what = tls ? 'connect and TLS handshake' : 'connect';
      const err = new Error(`${what} to ${host}:${port} took over ${opts.timeoutMs} ms`);
      finish(Object.assign(err, { code: CONNECT_TIMEOUT_CODE }));
    }, opts.timeoutMs);
    socket.once(readyEvent, onReady);
    socket.on('error', finish);
    if (target.signal?.aborted) onAbort();
    else target.signal?.addEventListener('abort', onAbort, { once: true });
  };
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason ?? 'aborted'));
}

/** Options of {@link pinnedConnector}. */
export interface PinnedConnectorOptions {
  /** Addresses already checked, tried in order; the name in the URL is never resolved again. */
  addresses: readonly string[];
  /** Checks the address the socket actually reached. */
  verify: (remoteAddress: string) => AddressVerdict;
  /** Opens the sockets. In {@link guardedFetch}: `socketConnector({ timeoutMs: connectTimeoutMs })`. */
  base: Connector;
  /** For the refusal error. */
  operation: string;
  url: string | URL;
  /** Told which address the socket reached. */
  onConnected?: (address: string) => void;
}

/**
 * A {@link Connector} that opens its socket to one of `addresses` instead of the URL's host name,
 * keeping the name for TLS (SNI and certificate check) and the Host header. Once connected it checks
 * `socket.remoteAddress` is that address and still allowed, and otherwise destroys the socket before a
 * byte of the request is written, failing with a {@link BlockedAddressError} (`stage: 'connect'`).
 */
export function pinnedConnector(opts: PinnedConnectorOptions): Connector {
  return (connectOpts, callback) => {
    const attempt = (index: number): void => {
      const target = opts.addresses[index];
      if (target === undefined) {
        callback(new Error('no checked address to connect to'), null);
        return;
      }
      opts.base({ ...connectOpts, hostname: target }, (err, socket) => {
        if (err || !socket) {
          const code = (err as NodeJS.ErrnoException | null)?.code;
          if (code && NEXT_ADDRESS_CODES.has(code) && index + 1 < opts.addresses.length) {
            attempt(index + 1);
            return;
          }
          callback(err ?? new Error('connect failed'), null);
          return;
        }
        const remote = socket.remoteAddress ?? '';
        const verdict = opts.verify(remote);
        if (!verdict.allowed || !sameAddress(remote, target)) {
          socket.destroy();
          const refused: AddressVerdict = verdict.allowed
            ? { ...verdict, allowed: false, reason: `not the address that was checked (${target})` }
            : verdict;
          callback(
            new BlockedAddressError({
              operation: opts.operation,
              url: opts.url,
              verdict: { ...refused, address: refused.address || remote || 'an unknown address' },
              stage: 'connect',
            }),
            null,
          );
          return;
        }
        opts.onConnected?.(verdict.address);
        callback(null, socket);
      });
    };
    attempt(0);
  };
}

/** Context shared by the hops of one call. */
interface CallContext {
  operation: string;
  allowPrivate: boolean;
  policy: AddressPolicy;
  lookup: LookupFn;
  base: Connector;
  totalTimeoutMs: number;
  connectTimeoutMs: number;
  signal: AbortSignal;
  timeout: AbortSignal;
  callerSignal: AbortSignal | undefined;
}

function whenAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Resolves the URL's host with `lookup` and checks every address it answers with: one refused address
 * refuses the whole name (a name that mixes public and private answers is a rebinding setup). An IP
 * literal is its own answer. Throws {@link BlockedAddressError} (`stage: 'resolve'`) or
 * {@link OutboundNetworkError} (`ENOTFOUND`…).
 */
export async function resolveCheckedAddresses(
  url: URL,
  ctx: Pick<CallContext, 'operation' | 'allowPrivate' | 'policy' | 'lookup' | 'signal'>,
): Promise<string[]> {
  const literal = parseIp(url.hostname);
  if (literal) return [literal.toString()];
  let answers: readonly LookupAddress[];
  try {
    answers = await whenAborted(ctx.lookup(url.hostname), ctx.signal);
  } catch (cause) {
    if (ctx.signal.aborted) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    throw new OutboundNetworkError(
      { operation: ctx.operation, url, cause, code },
      `could not resolve ${url.hostname}`,
    );
  }
  if (answers.length === 0) {
    throw new OutboundNetworkError(
      { operation: ctx.operation, url, code: 'ENOTFOUND' },
      `${url.hostname} has no address`,
    );
  }
  const checked: string[] = [];
  for (const answer of answers) {
    const verdict = ctx.policy(answer.address, { allowPrivate: ctx.allowPrivate });
    if (!verdict.allowed) {
      throw new BlockedAddressError({ operation: ctx.operation, url, verdict, stage: 'resolve' });
    }
    if (!checked.includes(verdict.address)) checked.push(verdict.address);
  }
  return checked;
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Removes the URL's secret-bearing parts from a text that came from elsewhere (a library's message). */
function scrub(text: string, url: URL): string {
  let out = text;
  for (const part of [url.href, url.search, url.username, url.password, url.pathname]) {
    if (part.length > 1) out = out.split(part).join('[redacted]');
  }
  return out;
}

/** Turns whatever a hop threw into an {@link OutboundError}. */
function toOutboundError(err: unknown, url: URL, ctx: CallContext): OutboundError {
  if (err instanceof OutboundError) return err;
  const init = { operation: ctx.operation, url, cause: err };
  if (ctx.timeout.aborted)
    return new OutboundTimeoutError({ ...init, phase: 'total', timeoutMs: ctx.totalTimeoutMs });
  if (ctx.callerSignal?.aborted) return new OutboundAbortedError(init);
  const code = errorCode(err);
  if (code === CONNECT_TIMEOUT_CODE) {
    return new OutboundTimeoutError({ ...init, phase: 'connect', timeoutMs: ctx.connectTimeoutMs });
  }
  const text = err instanceof Error ? err.message : String(err);
  return new OutboundNetworkError({ ...init, code }, scrub(text, url));
}

/** Stops a body we will not read; the error its destruction may raise is nobody's concern. */
function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

function contentEncodingOf(headers: GuardedResponse['headers']): string | undefined {
  const raw = headers['content-encoding'];
  const value = (Array.isArray(raw) ? raw.join(',') : raw)?.trim().toLowerCase();
  return value === '' ? undefined : value;
}

/** A decoder for the one encoding we asked for, or undefined to keep the bytes as they came. */
function decoderFor(encoding: string | undefined) {
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'br') return createBrotliDecompress();
  return undefined;
}

interface ReadResult {
  body: Buffer;
  truncated: boolean;
  headers: GuardedResponse['headers'];
}

/** Reads at most `max` bytes (decoded), then stops; `exceeded` means more were on their way. */
async function readCapped(
  res: IncomingMessage,
  method: string,
  max: number,
  mode: 'error' | 'truncate',
  decompress: boolean,
  url: URL,
  ctx: CallContext,
): Promise<ReadResult> {
  const status = res.statusCode ?? 0;
  const headers: GuardedResponse['headers'] = { ...res.headers };
  const noBody = method === 'HEAD' || status === 204 || status === 304;
  const encoding = decompress && !noBody ? contentEncodingOf(headers) : undefined;
  const decoder = decoderFor(encoding);
  const tooLarge = () =>
    new ResponseTooLargeError({ operation: ctx.operation, url, limitBytes: max, status });

  const declared = Number(headers['content-length']);
  if (!decoder && mode === 'error' && Number.isFinite(declared) && declared > max) {
    discard(res);
    throw tooLarge();
  }

  let source: Readable = res;
  if (decoder) {
    source = pipeline(res, decoder, () => {});
    delete headers['content-encoding'];
    delete headers['content-length'];
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let exceeded = false;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    const room = max - size;
    if (chunk.length > room) {
      if (room > 0) chunks.push(chunk.subarray(0, room));
      size = max;
      exceeded = true;
      break; // ends the iteration, which destroys the stream; the caller then destroys the socket
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  if (exceeded && mode === 'error') throw tooLarge();
  return { body: Buffer.concat(chunks, size), truncated: exceeded, headers };
}

function lowerCaseHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/** The method, body and headers of the next hop (Fetch Standard, HTTP-redirect fetch). */
function nextRequest(status: number, from: URL, to: URL, req: HopRequest): HopRequest {
  let { method, body } = req;
  const headers = { ...req.headers };
  if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
    method = 'GET';
    body = undefined;
    for (const h of ['content-type', 'content-length', 'content-encoding', 'content-language'])
      delete headers[h];
  }
  if (from.origin !== to.origin) for (const h of CREDENTIAL_HEADERS) delete headers[h];
  return { method, body, headers };
}

/** One hop's request: what {@link nextRequest} carries from hop to hop. */
interface HopRequest {
  method: string;
  body: string | Uint8Array | undefined;
  headers: Record<string, string>;
}

/** A request in flight and the answer's head once it comes. */
interface Exchange {
  request: ClientRequest;
  response: Promise<IncomingMessage>;
}

/**
 * Sends `hop` to `url` with `node:http` / `node:https` over the one socket `open` gives: no agent, so
 * no pool and no keep-alive (`Connection: close`), and nothing is written before `open` calls back with
 * a connected, checked socket. The `Host` header is the URL's host, not the address.
 */
function send(url: URL, hop: HopRequest, open: (callback: ConnectCallback) => void): Exchange {
  const headers: Record<string, string> = { ...hop.headers };
  headers.host ??= url.host;
  const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
    method: hop.method,
    path: `${url.pathname}${url.search}`,
    headers,
    setHost: false,
    // Without an agent Node calls this for the socket, and writes once its callback hands one over.
    createConnection: ((_opts: unknown, oncreate: ConnectCallback) => {
      open(oncreate);
      return undefined;
    }) as unknown as RequestOptions['createConnection'],
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    request.on('error', reject); // kept after the answer: a later socket error must not go unheard
    request.once('response', (res: IncomingMessage) => {
      res.on('error', () => {}); // the reader sees it; a body nobody reads any more must not crash
      resolve(res);
    });
  });
  request.end(hop.body);
  return { request, response };
}

/**
 * Sends one HTTP request to a user-supplied URL, refusing internal targets at every step: the URL
 * guard on each hop, every DNS answer checked, the socket pinned to a checked address and verified
 * after connecting. Redirects are returned as they are unless `redirect: 'follow'`. See
 * {@link FEED_FETCH} and {@link DELIVERY_FETCH} for the two usual option sets.
 * Throws only {@link OutboundError} subclasses; their messages carry the redacted URL, never secrets.
 * @example
 * const res = await guardedFetch(feed.url, { ...FEED_FETCH, operation: 'feed fetch', allowPrivate });
 * if (res.redirects.some((r) => r.status === 301 || r.status === 308)) feed.url = res.url;
 */
export async function guardedFetch(
  input: string | URL,
  opts: GuardedFetchOptions = {},
): Promise<GuardedResponse> {
  const totalTimeoutMs = opts.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS;
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(totalTimeoutMs);
  const ctx: CallContext = {
    operation: opts.operation ?? (opts.method ?? 'GET').toUpperCase(),
    allowPrivate: opts.allowPrivate === true,
    policy: opts.addressPolicy ?? classifyAddress,
    lookup: opts.lookup ?? systemLookup,
    base: opts.connector ?? socketConnector({ timeoutMs: connectTimeoutMs }),
    totalTimeoutMs,
    connectTimeoutMs,
    timeout,
    callerSignal: opts.signal,
    signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
  };
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const decompress = opts.decompress ?? true;
  const guard = { allowPrivate: ctx.allowPrivate, addressPolicy: ctx.policy };

  const headers = lowerCaseHeaders(opts.headers);
  headers['user-agent'] ??= opts.userAgent ?? DEFAULT_USER_AGENT;
  if (decompress) headers['accept-encoding'] ??= 'gzip, br';
  let req: HopRequest = { method: (opts.method ?? 'GET').toUpperCase(), body: opts.body, headers };
  const redirects: RedirectHop[] = [];
  let url = assertOutboundUrl(input, ctx.operation, guard).url;

  for (;;) {
    let connectedTo = '';
    // Every socket this hop was given, destroyed at its end: one connection per hop, never reused.
    const sockets = new Set<Socket>();
    let exchange: Exchange | undefined;
    let answer: IncomingMessage | undefined;
    const onAbort = (): void => {
      exchange?.request.destroy(toError(ctx.signal.reason));
      answer?.destroy(toError(ctx.signal.reason));
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const addresses = await resolveCheckedAddresses(url, ctx);
      const connect = pinnedConnector({
        addresses,
        verify: (remote) => ctx.policy(remote, { allowPrivate: ctx.allowPrivate }),
        base: ctx.base,
        operation: ctx.operation,
        url,
        onConnected: (address) => {
          connectedTo = address;
        },
      });
      const target: ConnectOptions = {
        hostname: url.hostname,
        host: url.host,
        protocol: url.protocol,
        port: url.port || (url.protocol === 'https:' ? '443' : '80'),
        // SNI carries names only (RFC 6066 §3); for an IP literal the certificate is checked on the IP.
        servername: parseIp(url.hostname) ? undefined : url.hostname,
        signal: ctx.signal,
      };
      exchange = send(url, req, (oncreate) =>
        connect(target, (...args) => {
          const socket = args[1];
          if (socket) {
            sockets.add(socket);
            // Connected after the deadline: the request is gone, and so must the socket be.
            if (ctx.signal.aborted) socket.destroy();
          }
          oncreate(...args);
        }),
      );
      const res = await whenAborted(exchange.response, ctx.signal);
      answer = res;
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (opts.redirect === 'follow' && REDIRECT_STATUSES.has(status) && typeof location === 'string') {
        discard(res);
        let next: URL;
        try {
          next = new URL(location, url);
        } catch (cause) {
          throw new BlockedUrlError(
            { operation: ctx.operation, url, code: 'invalidUrl', cause },
            `answered HTTP ${status} with a Location that is not a URL`,
          );
        }
        redirects.push({ url: url.href, status, location: next.href });
        if (redirects.length > maxRedirects) {
          throw new TooManyRedirectsError({ operation: ctx.operation, url, maxRedirects, redirects });
        }
        req = nextRequest(status, url, next, req);
        url = assertOutboundUrl(next, ctx.operation, guard).url;
        continue;
      }
      const read = await readCapped(
        res,
        req.method,
        maxBodyBytes,
        opts.onBodyLimit ?? 'error',
        decompress,
        url,
        ctx,
      );
      return {
        status,
        headers: read.headers,
        body: read.body,
        truncated: read.truncated,
        url: url.href,
        redirects,
        address: connectedTo,
      };
    } catch (err) {
      throw toOutboundError(err, url, ctx);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      if (answer && !answer.complete) answer.destroy();
      exchange?.request.destroy();
      for (const socket of sockets) socket.destroy();
    }
  }
}
