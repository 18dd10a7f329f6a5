/**
 * The per-token rate limit (`RELAY_TOKEN_RATE_PER_MIN`) without a DynamoDB write per request. Each
 * instance counts the uses of a token in memory, per fixed one-minute window, and adds them to a counter
 * on the token's item at most once per token every `flushMs`: that write returns the window's total over
 * all instances (and carries `lastUsedAt`). A request is refused when the last total known plus this
 * instance's uses since then reach the limit.
 *
 * Between two flushes an instance does not see the others, so N busy instances may together exceed the
 * limit by at most what they accept in one flush interval each; one instance never does.
 */
import type { TokenStore } from './store.js';

/** The counting window. */
export const USAGE_WINDOW_MS = 60_000;
/** Default spacing of one instance's counter writes for one token. */
export const USAGE_FLUSH_MS = 5_000;
/** Tokens remembered per instance (the oldest is forgotten first). */
const MAX_TRACKED = 10_000;

/** The verdict on one request. */
export type UsageVerdict =
  | { ok: true }
  | { ok: false; reason: 'limited'; retryAfterS: number }
  | { ok: false; reason: 'revoked' };

interface TokenUsage {
  window: number;
  /** The window's total over all instances, as of this instance's latest flush. */
  shared: number;
  /** Uses counted here since that flush. */
  unflushed: number;
  lastFlush: number;
}

/** Per-instance usage counting; one per API app. */
export class UsageMeter {
  private readonly usage = new Map<string, TokenUsage>();
  private readonly flushMs: number;

  constructor(
    private readonly store: Pick<TokenStore, 'addUsage'>,
    private readonly clock: { now(): number },
    private readonly perMinute: number,
    opts: { flushMs?: number; onFlushError?: (err: unknown) => void } = {},
  ) {
    this.flushMs = opts.flushMs ?? USAGE_FLUSH_MS;
    this.onFlushError = opts.onFlushError ?? (() => undefined);
  }

  private readonly onFlushError: (err: unknown) => void;

  /** Counts one request of the token with this hash, or refuses it. */
  async hit(tokenHash: string): Promise<UsageVerdict> {
    const now = this.clock.now();
    const window = now - (now % USAGE_WINDOW_MS);
    let u = this.usage.get(tokenHash);
    if (!u || u.window !== window) {
      // Uses of a finished window are not carried over: the limit is per window.
      u = { window, shared: 0, unflushed: 0, lastFlush: u?.lastFlush ?? Number.NEGATIVE_INFINITY };
      this.remember(tokenHash, u);
    }
    if (u.shared + u.unflushed >= this.perMinute) {
      return {
        ok: false,
        reason: 'limited',
        retryAfterS: Math.max(1, Math.ceil((window + USAGE_WINDOW_MS - now) / 1000)),
      };
    }
    u.unflushed++;
    if (now - u.lastFlush >= this.flushMs) {
      const delta = u.unflushed;
      u.unflushed = 0;
      u.lastFlush = now;
      try {
        const total = await this.store.addUsage(tokenHash, { windowStart: window, delta, lastUsedAt: now });
        if (total === undefined) {
          this.usage.delete(tokenHash);
          return { ok: false, reason: 'revoked' };
        }
        u.shared = Math.max(u.shared + delta, total);
      } catch (err) {
        // The counter is best effort: a failed write is retried with the next flush, the request goes on.
        u.unflushed += delta;
        u.lastFlush = Number.NEGATIVE_INFINITY;
        this.onFlushError(err);
      }
    }
    return { ok: true };
  }

  private remember(tokenHash: string, u: TokenUsage): void {
    this.usage.delete(tokenHash);
    if (this.usage.size >= MAX_TRACKED) this.usage.delete(this.usage.keys().next().value as string);
    this.usage.set(tokenHash, u);
  }
}
