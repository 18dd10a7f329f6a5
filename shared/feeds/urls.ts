/**
 * URL helpers for feed content. Query strings are carried over exactly as published: file URLs in feeds
 * are often signed, and re-encoding a single character of the query can invalidate the signature.
 */

/**
 * Resolves `raw` against `base` (WHATWG URL rules, RFC 3986 §5). The result's query is the input's own
 * query, byte for byte. Undefined when `raw` is empty or cannot be resolved (relative without a base).
 */
export function resolveUrl(raw: string | undefined, base?: string): string | undefined {
  const input = raw?.trim();
  if (!input) return undefined;
  let u: URL;
  try {
    u = base === undefined ? new URL(input) : new URL(input, base);
  } catch {
    return undefined;
  }
  const query = rawQuery(input);
  if (query === undefined) return u.href;
  const hash = u.hash;
  u.hash = '';
  u.search = '';
  return `${u.href}${query}${hash}`;
}

/** Resolves `raw` against the first base that yields an absolute URL; `raw` itself (trimmed) otherwise. */
export function resolveAgainst(
  raw: string | undefined,
  bases: readonly (string | undefined)[],
): string | undefined {
  const input = raw?.trim();
  if (!input) return undefined;
  const absolute = resolveUrl(input);
  if (absolute) return absolute;
  for (const base of bases) {
    if (base === undefined) continue;
    const resolved = resolveUrl(input, base);
    if (resolved) return resolved;
  }
  return input;
}

/** True for an absolute `http:` or `https:` URL with a host. */
export function isHttpUrl(value: string | undefined): value is string {
  if (!value) return false;
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** The `?query` of `input` before any fragment, exactly as written; undefined when there is none. */
function rawQuery(input: string): string | undefined {
  const noFragment = input.split('#', 1)[0] ?? '';
  const q = noFragment.indexOf('?');
  return q === -1 ? undefined : noFragment.slice(q);
}
