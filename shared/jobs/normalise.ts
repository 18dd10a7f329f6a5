/**
 * URL and folder rules for job input. URLs are normalised only where it cannot change what the server
 * returns: scheme and host lowercased, IDN hosts in punycode, default port and fragment dropped.
 * Query strings are kept byte for byte: file URLs are often signed.
 */

/** Longest URL accepted (signed S3/CDN URLs run to ~1,500 characters). */
export const MAX_URL_LENGTH = 2048;
/** 1fichier's folder-name limit (docs/1fichier-api.md, "Endpoints the relay calls"). */
export const MAX_FOLDER_SEGMENT = 250;
export const MAX_FOLDER_LENGTH = 1000;
/** Most levels in a folder path: each level is a folder/ls.cgi (and maybe a mkdir) the first time. */
export const MAX_FOLDER_DEPTH = 10;

/** Input that cannot become a job; `message` is safe to show to the caller. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Validates and normalises one file URL. */
export function normaliseUrl(raw: string, what = 'url'): string {
  const input = raw.trim();
  if (input === '') throw new InvalidInputError(`${what} is empty`);
  if (input.length > MAX_URL_LENGTH)
    throw new InvalidInputError(`${what} is longer than ${MAX_URL_LENGTH} characters`);
  if (CONTROL.test(input) || /\s/.test(input))
    throw new InvalidInputError(`${what} contains whitespace or control characters`);
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new InvalidInputError(`${what} is not an absolute URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InvalidInputError(`${what} must use http or https`);
  if (u.username || u.password) throw new InvalidInputError(`${what} must not contain credentials`);
  if (!u.hostname) throw new InvalidInputError(`${what} has no host`);
  // WHATWG URL already lowercases scheme and host, converts IDN to punycode and drops default ports.
  const query = queryOf(input);
  u.hash = '';
  u.search = '';
  const out = `${u.toString()}${query}`;
  if (out.length > MAX_URL_LENGTH)
    throw new InvalidInputError(`${what} is longer than ${MAX_URL_LENGTH} characters`);
  return out;
}

/** The raw `?query` of the input (before any fragment), exactly as sent. */
function queryOf(input: string): string {
  const noFragment = input.split('#', 1)[0] ?? '';
  const q = noFragment.indexOf('?');
  return q === -1 ? '' : noFragment.slice(q);
}

/** Validates a folder path and returns it as `A/B/C` ('' for the root). */
export function normaliseFolder(raw: string | undefined | null): string {
  if (raw === undefined || raw === null) return '';
  if (raw.length > MAX_FOLDER_LENGTH)
    throw new InvalidInputError(`folder is longer than ${MAX_FOLDER_LENGTH} characters`);
  if (CONTROL.test(raw)) throw new InvalidInputError('folder contains control characters');
  const segments = raw
    .split('/')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (segments.length > MAX_FOLDER_DEPTH) {
    throw new InvalidInputError(
      `folder has ${segments.length} levels; at most ${MAX_FOLDER_DEPTH} are allowed`,
    );
  }
  for (const s of segments) {
    if (s === '..' || s === '.') throw new InvalidInputError('folder must not contain "." or ".." segments');
    if (s.length > MAX_FOLDER_SEGMENT) {
      throw new InvalidInputError(`folder segment longer than ${MAX_FOLDER_SEGMENT} characters`);
    }
  }
  return segments.join('/');
}
