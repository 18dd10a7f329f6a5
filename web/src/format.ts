/** Text helpers of the status page (pure: no DOM, unit-tested from test/unit/web/). */

/** "in 3 min", "12 s ago", "now": a time relative to `now` (both epoch ms). */
export function relativeTime(at: number, now: number): string {
  const d = Math.round((at - now) / 1000);
  const abs = Math.abs(d);
  if (abs < 2) return 'now';
  const unit =
    abs < 90
      ? `${abs} s`
      : abs < 5400
        ? `${Math.round(abs / 60)} min`
        : abs < 172_800
          ? `${Math.round(abs / 3600)} h`
          : `${Math.round(abs / 86_400)} d`;
  return d > 0 ? `in ${unit}` : `${unit} ago`;
}

/** An ISO time as "2026-12-01 18:05:09 UTC (3 min ago)"; "—" when absent or unreadable. */
export function describeTime(iso: unknown, now: number): string {
  if (typeof iso !== 'string' && typeof iso !== 'number') return '—';
  const t = typeof iso === 'number' ? iso : Date.parse(iso);
  if (!Number.isFinite(t)) return '—';
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC (${relativeTime(t, now)})`;
}

/** Only http(s) links are shown as links (never `javascript:` or `data:`). */
export function safeHttpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** The first of `keys` that `obj` has as a non-empty value. */
export function pick(obj: Record<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) {
    const v = obj[k];
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}

/** The items of a list answer: a bare array or the first array among `{feeds: [...]}`-like fields. */
export function listItems(body: unknown, ...keys: string[]): Record<string, unknown>[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (Array.isArray(body)) return body.filter(isObj);
  if (!isObj(body)) return [];
  for (const k of [...keys, 'items', 'data']) {
    const v = body[k];
    if (Array.isArray(v)) return v.filter(isObj);
  }
  return [];
}
