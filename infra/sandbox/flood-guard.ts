/**
 * The sandbox's rate limit: a sliding 1-second window of admitted requests per subject (an API key or a
 * client IP), and flood locks that refuse every request of a subject until they expire.
 * A sliding window (not a token bucket) because it has no burst allowance beyond `rate`, which is the
 * strictest reading of "3 requests per second" (docs/1fichier-api.md, "Rate limits").
 */

const WINDOW_MS = 1000;

/**
 * What a lock answers while it lasts: `flood` the JSON `IP Locked #412`, `plainIp` the bare-text `IP Locked`,
 * `user` the JSON `User Locked #223`. A locked subject keeps getting the answer that locked it.
 */
export type LockKind = 'flood' | 'plainIp' | 'user';

/** Per-subject sliding windows and locks. Subjects are opaque strings such as `ip:127.0.0.1` or `key:…`. */
export class FloodGuard {
  private readonly windows = new Map<string, number[]>();
  private readonly locks = new Map<string, { until: number; kind: LockKind }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when any subject is under a lock. */
  isLocked(subjects: readonly string[]): boolean {
    return this.lockOf(subjects) !== undefined;
  }

  /** The kind of the lock of the first locked subject, or undefined when none is locked. */
  lockOf(subjects: readonly string[]): LockKind | undefined {
    const now = this.now();
    for (const s of subjects) {
      const lock = this.locks.get(s);
      if (lock === undefined) continue;
      if (lock.until > now) return lock.kind;
      this.locks.delete(s);
    }
    return undefined;
  }

  /**
   * Records one request for every subject and returns true, or returns false without recording anything
   * when one subject already had `rate` requests admitted in the last second. `at` is when the request
   * arrived (its headers), as a server counts it, not when its body was read.
   */
  admit(subjects: readonly string[], rate: number, at: number = this.now()): boolean {
    const now = at;
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

  /** Locks every subject for `ms` (never shortening a longer lock); the latest lock sets the answer. */
  lock(subjects: readonly string[], ms: number, kind: LockKind = 'flood'): void {
    const until = this.now() + ms;
    for (const s of subjects) {
      this.locks.set(s, { until: Math.max(until, this.locks.get(s)?.until ?? 0), kind });
    }
  }

  private sweep(now: number): void {
    for (const [s, w] of this.windows) if (!w.some((t) => t > now - WINDOW_MS)) this.windows.delete(s);
  }
}
