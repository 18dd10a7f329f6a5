/**
 * What `npm start` prints once the local stack is up: where it listens, the client token, the sandbox
 * (when no real key is set) and two ready-to-paste curl lines; then one line per job change.
 */
import type { PacerState } from '../../shared/fichier/pacer.js';
import { redactUrl } from '../../shared/net/redact.js';
import type { JobChange } from './job-events.js';

/**
 * What the curl line posts when a real key is set: 1fichier's servers fetch the URL, so the loopback
 * sample file would fail; the owner puts a public file's URL in its place.
 */
export const PUBLIC_URL_PLACEHOLDER = 'https://example.com/path/to/a-public-file.zip';

export interface BannerInput {
  baseUrl: string;
  token: string;
  /** Whether the token was generated at this start (then it is new) or came from `RELAY_TOKEN`. */
  tokenGenerated: boolean;
  dataDir: string;
  /** URL of a file this runtime serves itself, used in the first curl line when sandboxed. */
  sampleUrl: string;
  pollIntervalMs: number;
  sandbox?: { baseUrl: string; premiumKey: string };
  /** 1fichier API URL when a real key is used. */
  fichierApiUrl?: string;
  /** The warning of a bind beyond loopback (bind.ts `bindWarning`), printed first. */
  bindWarning?: string;
}

/** Single-quotes a value for a POSIX shell. */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The start banner, one string with a trailing newline. */
export function formatBanner(b: BannerInput): string {
  // Only the sandbox, on this machine, can fetch the loopback sample file.
  const body = JSON.stringify({ url: b.sandbox ? b.sampleUrl : PUBLIC_URL_PLACEHOLDER });
  const lines = [
    ...(b.bindWarning ? ['', b.bindWarning] : []),
    '',
    'fichier-relay is running (local mode)',
    `  API         ${b.baseUrl}`,
    `  status page ${b.baseUrl}/   (sign in with the token)`,
    `  token       ${b.token}${b.tokenGenerated ? '   (generated, admin; set RELAY_TOKEN to choose one)' : '   (admin)'}`,
    `  state       ${b.dataDir}`,
    `  polling     3 s after a submission, backing off to ${Math.round(b.pollIntervalMs / 100) / 10} s; idle: none`,
    b.sandbox
      ? `  1fichier    sandbox at ${b.sandbox.baseUrl}   key ${b.sandbox.premiumKey}   (set ONEFICHIER_API_KEY to use the real 1fichier)`
      : `  1fichier    ${b.fichierApiUrl ?? 'https://api.1fichier.com/v1'} with the key from ONEFICHIER_API_KEY`,
    '',
    b.sandbox
      ? 'Try it:'
      : 'Try it (put the URL of a public file in place of the example: 1fichier fetches it):',
    `  curl -sS -X POST ${b.baseUrl}/jobs -H ${shq(`Authorization: Bearer ${b.token}`)} -H 'Content-Type: application/json' -d ${shq(body)}`,
    `  curl -sS ${b.baseUrl}/jobs -H ${shq(`Authorization: Bearer ${b.token}`)}`,
    '',
    'Job changes are printed below. Ctrl-C stops (state is kept).',
    '',
  ];
  return `${lines.join('\n')}\n`;
}

/** One console line for a job change, e.g. `14:03:07  a1b2c3d4  done       http://… -> https://…`. */
export function formatJobChange(c: JobChange): string {
  const time = new Date(c.at).toISOString().slice(11, 19);
  const detail =
    c.status === 'done' && c.fileUrl
      ? ` -> ${redactUrl(c.fileUrl)}`
      : c.status === 'failed' && c.error
        ? ` -> ${c.error.code}: ${c.error.message.replace(/https?:\/\/[^\s"'<>]+/g, (u) => redactUrl(u))}`
        : c.status === 'submitted' && c.remoteId !== undefined
          ? ` (1fichier request ${c.remoteId})`
          : '';
  // Query strings (signed URLs, tokens) never reach the console: redactUrl keeps only their names.
  return `${time}  ${c.id.slice(0, 8)}  ${c.status.padEnd(10)} ${redactUrl(c.url)}${detail}`;
}

/**
 * A console line when the 1fichier pacer state changes in a way a person must know about (circuit opened or
 * closed, flood pause started), else `undefined`. Compares with the previous report's state.
 */
export function formatPacerChange(
  prev: PacerState | null | undefined,
  next: PacerState | null,
  now: number,
): string | undefined {
  if (!next) return undefined;
  if (next.circuitOpen && !prev?.circuitOpen) {
    return `1fichier refused the key (${next.circuitReason ?? 'auth error'}): all calls stopped, jobs wait as queued. Fix ONEFICHIER_API_KEY and restart.`;
  }
  if (!next.circuitOpen && prev?.circuitOpen) return '1fichier circuit closed: calls resume.';
  if (next.pausedUntil > now && next.pausedUntil !== prev?.pausedUntil) {
    return `1fichier flood answer: all calls paused for ${Math.ceil((next.pausedUntil - now) / 1000)} s (flood #${next.floodCount}).`;
  }
  return undefined;
}
