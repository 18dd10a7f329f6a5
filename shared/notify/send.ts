/**
 * Sending one delivery request through the SSRF-guarded client (`shared/net/`, `DELIVERY_FETCH`: public
 * addresses only unless allowed, the socket pinned to a checked address, no redirects followed, 15 s, the
 * answer read to 64 KiB at most), turned into the {@link DeliveryAnswer} the retry policy decides on.
 */
import { BlockedUrlError, OutboundError } from '../net/errors.js';
import { DELIVERY_FETCH, type GuardedFetchOptions, guardedFetch } from '../net/guarded-fetch.js';
import type { DeliveryAnswer } from './delivery-policy.js';
import type { NotifyRequest } from './formats.js';

/** What one send learned. */
export interface SendResult {
  answer: DeliveryAnswer;
  /** The answer body as text (at most 64 KiB), for the test route and failure notes. */
  body?: string;
  /** Why no answer came (the client's message: URLs in it are redacted). */
  error?: string;
}

/** Sends one request. */
export type DeliverySender = (request: NotifyRequest, opts: { operation: string }) => Promise<SendResult>;

/**
 * The sender over {@link guardedFetch}. `fetchOptions` are for tests only (a resolver that answers what
 * the test wants, to check DNS rebinding is refused).
 */
export function guardedSender(opts: {
  allowPrivate: boolean;
  fetchOptions?: Pick<GuardedFetchOptions, 'lookup' | 'addressPolicy' | 'totalTimeoutMs'>;
}): DeliverySender {
  return async (request, { operation }) => {
    try {
      const res = await guardedFetch(request.url, {
        ...DELIVERY_FETCH,
        ...opts.fetchOptions,
        operation,
        method: request.method,
        headers: request.headers,
        body: request.body,
        allowPrivate: opts.allowPrivate,
        decompress: false,
      });
      const retryAfter = res.headers['retry-after'];
      return {
        answer: { kind: 'http', status: res.status, ...(retryAfter !== undefined ? { retryAfter } : {}) },
        body: res.body.toString('utf8'),
      };
    } catch (err) {
      if (err instanceof BlockedUrlError)
        return { answer: { kind: 'blocked', reason: err.message }, error: err.message };
      if (err instanceof OutboundError)
        return { answer: { kind: 'network', error: err }, error: err.message };
      throw err;
    }
  };
}
