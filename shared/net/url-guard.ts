/**
 * The static check of a user-supplied outbound URL (a `callbackUrl`, a feed, a notification target),
 * run when the URL is accepted so the user hears at once why it cannot be used. It cannot see where a
 * name will resolve: {@link guardedFetch} checks the addresses again at call time.
 */
import {
  type AddressPolicy,
  type AddressPolicyOptions,
  type AddressVerdict,
  classifyAddress,
  classifyHostName,
  type ParsedHost,
  parseHost,
} from './addresses.js';
import { BlockedAddressError, BlockedUrlError, type UrlRefusalCode } from './errors.js';

/**
 * Ports browsers refuse to fetch from: the Fetch Standard's "bad port" list (fetch.spec.whatwg.org,
 * "port blocking"; the copy in undici lib/web/fetch/constants.js), plus 0. They belong to mail,
 * SSH, IRC and other line protocols an HTTP request can be smuggled into.
 */
export const BLOCKED_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104,
  109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515,
  526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049,
  3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** Options of {@link checkOutboundUrl}. */
export interface UrlGuardOptions extends AddressPolicyOptions {
  /** Decides IP literals. @default classifyAddress (tests pass another to treat loopback as public) */
  addressPolicy?: AddressPolicy;
}

/** A refused URL, as a person reads it. */
export interface UrlRefusal {
  ok: false;
  code: UrlRefusalCode;
  /** e.g. "10.0.0.1 is a private network address; only public addresses may be reached". */
  message: string;
  /** For `blockedAddress`: the verdict on the IP literal. */
  verdict?: AddressVerdict;
}

/** An accepted URL, parsed, with its host classified. */
export interface UrlAccepted {
  ok: true;
  url: URL;
  host: Exclude<ParsedHost, { kind: 'invalid' }>;
  port: number;
}

/** The result of {@link checkOutboundUrl}. */
export type OutboundUrlCheck = UrlAccepted | UrlRefusal;

function refuse(code: UrlRefusalCode, message: string, verdict?: AddressVerdict): UrlRefusal {
  return verdict ? { ok: false, code, message, verdict } : { ok: false, code, message };
}

/**
 * Checks a URL before anything is sent to it: http or https only, no user name or password in it,
 * not a blocked port ({@link BLOCKED_PORTS}), and a host that is either a name not refused by name
 * (`localhost`, `*.local`, `*.internal`…) or an IP literal in an allowed range (any spelling:
 * `http://2130706433/` is 127.0.0.1). Messages never repeat the URL, only its host.
 * @example
 * const check = checkOutboundUrl(body.callbackUrl, { allowPrivate: config.allowPrivateUrls });
 * if (!check.ok) return badRequest(check.code, check.message);
 */
export function checkOutboundUrl(input: string | URL, opts: UrlGuardOptions = {}): OutboundUrlCheck {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return refuse('invalidUrl', 'not a valid absolute URL (it must start with http:// or https://)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse('unsupportedScheme', `only http:// and https:// URLs can be used, not ${url.protocol}//`);
  }
  if (url.username !== '' || url.password !== '') {
    // Userinfo ends up in logs and proxies; targets that need a password take it in a header.
    return refuse(
      'credentialsInUrl',
      'the URL contains a user name or password; remove it (send credentials in a header instead)',
    );
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (BLOCKED_PORTS.has(port)) {
    return refuse(
      'blockedPort',
      `port ${port} belongs to a non-web service (mail, SSH, DNS…) and cannot be used; use a web port such as 443`,
    );
  }
  const host = parseHost(url.hostname);
  if (host.kind === 'invalid') return refuse('invalidUrl', 'the URL has no usable host name');
  if (host.kind === 'ip') {
    const verdict = (opts.addressPolicy ?? classifyAddress)(host.address, opts);
    if (!verdict.allowed) {
      const via = verdict.embeddedIPv4 ? ` (it carries ${verdict.embeddedIPv4})` : '';
      return refuse(
        'blockedAddress',
        `${verdict.address} is ${verdict.reason}${via}; only public addresses may be reached`,
        verdict,
      );
    }
  } else {
    const verdict = classifyHostName(host.name, opts);
    if (!verdict.allowed) {
      return refuse('blockedName', `${verdict.name} is ${verdict.reason}; only public hosts may be reached`);
    }
  }
  return { ok: true, url, host, port };
}

/**
 * {@link checkOutboundUrl} for code paths that throw: a refusal becomes a {@link BlockedUrlError}
 * (or {@link BlockedAddressError} for an IP literal) naming `operation` and the redacted URL.
 */
export function assertOutboundUrl(
  input: string | URL,
  operation: string,
  opts: UrlGuardOptions = {},
): UrlAccepted {
  const check = checkOutboundUrl(input, opts);
  if (check.ok) return check;
  if (check.verdict)
    throw new BlockedAddressError({ operation, url: input, verdict: check.verdict, stage: 'url' });
  // The message of a refusal never holds the URL, so it can be used as is.
  throw new BlockedUrlError({ operation, url: input, code: check.code }, check.message);
}
