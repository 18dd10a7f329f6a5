/**
 * The sandbox's rate limit: a sliding 1-second window of admitted requests per subject (an API key or a
 * client IP), and flood locks that refuse every request of a subject until they expire.
 * A sliding window (not a token bucket) because it has no burst allowance beyond `rate`, which is the
 * strictest reading of "3 requests per second" (fichier-api.md §3.5).
 */

const WINDOW_MS = 1000;

/** Per-subject sliding windows and locks. Subjects are opaque strings such as `ip:127.0.0.1` or `key:…`. */
export class FloodGuard {
  private readonly windows = new Map<string, number[]>();
  private readonly locks = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when any subject is under a flood lock. */
  isLocked(subjects: readonly string[]): boolean {
    const now = this.now();
    return subjects.some((s) => {
      const until = this.locks.get(s);
      if (until === undefined) return false;
      if (until > now) return true;
      this.locks.delete(s);
      return false;
    });
  }

  /**
   * Records one request for every subject and returns true, or returns false without recording anything
   * when one subject already had `rate` requests admitted in the last second.
   */
  admit(subjects: readonly string[], rate: number): boolean {
    const now = this.now();
    const windows = subjects.map((s) => {
      const w = (this.windows.get(s) ?? []).filter((t) => t > now - WINDOW_MS);
      this.windows.set(s, w);
      return w;
    });
    if (windows.some((w) => w.length >= rate)) return false;
    for (const w of windows) w.push(now);
    if (this.windows.size > 10_000) this.sweep(now);
    return true;
  }

  /** Locks every subject for `ms`. */
  lock(subjects: readonly string[], ms: number): void {
    const until = this.now() + ms;
    for (const s of subjects) this.locks.set(s, Math.max(until, this.locks.get(s) ?? 0));
  }

  private sweep(now: number): void {
    for (const [s, w] of this.windows) if (!w.some((t) => t > now - WINDOW_MS)) this.windows.delete(s);
  }
}
