/**
 * What the sandbox says on the wire: 1fichier's error texts, KO answers, and its date format.
 */

/** KO texts. Those with a `#number` were seen in real answers; the others are the sandbox's own. */
export const MESSAGES = {
  // fichier-api.md §3.2 (RetroGameSets log), HTTP 401.
  notAuthenticated: 'Not authenticated #247',
  // fichier-api.md §3.3 (JD, seen on get_token).
  notCustomer: 'Must be a customer (Premium, Access) #200',
  // fichier-api.md §3.3: the flood code moved from #374 to #412 in 2024 (rclone 648afc7), HTTP 403.
  flood: 'Flood detected: IP Locked #412',
  // fichier-api.md §3.3 lists "Flood detected: User Locked #…" without the number, so none is invented here.
  userFlood: 'Flood detected: User Locked',
  // fichier-api.md §3.3 (JD), HTTP 404. Also used for unknown folders and remote ids, whose real text is
  // unknown (fichier-api.md §4.2, §6 question 5): clients classify it by the words "Resource not found".
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

/** `execution_date` of a remote request that has not executed (fichier-api.md §2.1, fabiomig). */
export const NOT_EXECUTED = '1970-01-01 00:00:00';

// fichier-api.md §1: dates are French local time without a zone, `YYYY-MM-DD HH:MM:SS`.
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

/** Formats a date the way 1fichier does: `YYYY-MM-DD HH:MM:SS`, Europe/Paris time. */
export function fichierDate(date: Date): string {
  const p: Record<string, string> = {};
  for (const part of parisTime.formatToParts(date)) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}
