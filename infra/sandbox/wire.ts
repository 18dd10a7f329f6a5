/**
 * What the sandbox says on the wire: 1fichier's error texts, KO answers, and its date format.
 */

/** KO texts. Those with a `#number` were seen in real answers; the others are the sandbox's own. */
export const MESSAGES = {
  // docs/1fichier-api.md, "Errors" (RetroGameSets log), HTTP 401.
  notAuthenticated: 'Not authenticated #247',
  // docs/1fichier-api.md, "Known messages" (JD, seen on get_token).
  notCustomer: 'Must be a customer (Premium, Access) #200',
  // docs/1fichier-api.md, "Known messages": the flood code moved from #374 to #412 in 2024 (rclone 648afc7), HTTP 403.
  flood: 'Flood detected: IP Locked #412',
  // docs/1fichier-api.md, "Known messages" lists "Flood detected: User Locked #…" without the number, so none is invented here.
  userFlood: 'Flood detected: User Locked',
  // The key-level lock as the real service sends it, with its number (HTTP 403); it locks the key, not the IP.
  userLocked: 'Flood detected: User Locked #223',
  // The real service also answers an IP lock as bare text, not JSON (HTTP 403, text/plain).
  plainIpLock: 'IP Locked',
  // A real KO with a code no client knows, sent with HTTP 200; nothing is done.
  unknownKo: '#913 Premium status is only allowed to be used on residential connections',
  // docs/1fichier-api.md, "Known messages" (JD), HTTP 404. Also used for unknown folders and remote ids, whose real text is
  // unknown (docs/1fichier-api.md, "Known messages" and "Open questions and how the relay hedges them" question 5): clients classify it by the words "Resource not found".
  notFound: 'Resource not found #469',
  unknownEndpoint: 'Resource not found',
} as const;

/** An answer `{"status":"KO","message":...}` with an HTTP status, thrown by handlers. */
export class KoError extends Error {
  override name = 'KoError';
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

/** `execution_date` of a remote request that has not executed (docs/1fichier-api.md, "Endpoints the relay calls", fabiomig). */
export const NOT_EXECUTED = '1970-01-01 00:00:00';

// docs/1fichier-api.md, "Transport and authentication": dates are French local time without a zone, `YYYY-MM-DD HH:MM:SS`.
const parisTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Paris',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/**
 * How dates are rendered: `paris` follows Europe/Paris (CET/CEST), `utc+1` is a fixed offset all year, as some
 * 1fichier clients assume it is (so in summer such dates are one hour behind Paris time).
 */
export type DateZone = 'paris' | 'utc+1';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Formats a date the way 1fichier does: `YYYY-MM-DD HH:MM:SS`, Europe/Paris time unless `zone` says `utc+1`. */
export function fichierDate(date: Date, zone: DateZone = 'paris'): string {
  if (zone === 'utc+1') {
    const d = new Date(date.getTime() + 3_600_000);
    return (
      `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
    );
  }
  const p: Record<string, string> = {};
  for (const part of parisTime.formatToParts(date)) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** The reason phrases nginx prints on its own error pages for the codes a 1fichier front answers. */
const NGINX_REASONS = {
  // A front that refuses a client outright answers its own 403 page, not 1fichier's JSON.
  403: 'Forbidden',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
} as const;

/** An HTTP status nginx answers with its own HTML page when the backend behind it fails. */
export type HtmlErrorStatus = keyof typeof NGINX_REASONS;

/** nginx's default error page for `status` (HTML, not JSON: what a client gets when 1fichier's backend is down). */
export function nginxErrorPage(status: HtmlErrorStatus): string {
  const title = `${status} ${NGINX_REASONS[status]}`;
  return (
    `<html><head><title>${title}</title></head><body><center><h1>${title}</h1></center>` +
    '<hr><center>nginx</center></body></html>'
  );
}

/** The sandbox's maintenance page; the real one's wording is unknown, only that it is HTML with a 503. */
export const MAINTENANCE_PAGE =
  '<html><head><title>1fichier.com: maintenance</title></head><body><h1>1fichier.com is in maintenance</h1>' +
  '<p>The service will be back shortly. Please try again later.</p></body></html>';

/** Every number in a JSON value turned into its decimal string, recursively (`{"id":"123"}`). */
export function numbersToStrings(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map(numbersToStrings);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, numbersToStrings(v)]));
  }
  return value;
}
