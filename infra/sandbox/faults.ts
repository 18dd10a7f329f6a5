/**
 * Fault injection: the failures a real 1fichier (or the network to it) produces, on demand.
 * Set over HTTP (`POST /_sandbox/faults`) or in-process (`handle.setFaults`); both merge into the current
 * faults, and an empty object resets them.
 */
import { z } from 'zod';

const ratio = z.number().min(0).max(1);
const nonNegativeInt = z.number().int().min(0);

/** Validates a faults patch; unknown fields are refused so a typo does not silently do nothing. */
export const sandboxFaultsSchema = z.strictObject({
  /** Share of API requests answered 500/502/503 with a KO body. */
  errorRatio: ratio.optional(),
  /** Delay added before every affected API answer. */
  latencyMs: nonNegativeInt.max(600_000).optional(),
  /** Share of API requests whose socket is reset without an answer. */
  resetRatio: ratio.optional(),
  /** Share of API requests never answered; their socket is closed after `timeoutHoldMs`. */
  timeoutRatio: ratio.optional(),
  /** How long an unanswered request is held before its socket is closed. @default 30000 */
  timeoutHoldMs: nonNegativeInt.max(600_000).optional(),
  /** The next N affected API requests get the flood 403 and lock their key and IP. */
  forceFlood: nonNegativeInt.optional(),
  /** Limit the faults to these endpoints (`remote/request.cgi` or `/v1/remote/request.cgi`). */
  paths: z.array(z.string()).optional(),
  /** Overrides the rate limit (requests per second per key and per IP). */
  rate: z.number().int().min(1).optional(),
  /** Overrides the flood lock duration. */
  floodLockMs: nonNegativeInt.optional(),
});

/** The fault settings (all optional; absent means no fault). */
export type SandboxFaults = z.infer<typeof sandboxFaultsSchema>;

/** What the sandbox does to one API request instead of answering it normally. */
export type FaultAction = 'flood' | 'reset' | 'timeout' | 'error';

/** Default hold of a request under the timeout fault. */
export const DEFAULT_TIMEOUT_HOLD_MS = 30_000;

/** The current faults and the per-request decision. */
export class FaultState {
  private faults: SandboxFaults = {};

  constructor(private readonly random: () => number = Math.random) {}

  /** Merges a patch (validated); `{}` resets. Throws a `z.ZodError` on an invalid patch. */
  set(patch: unknown): SandboxFaults {
    const parsed = sandboxFaultsSchema.parse(patch);
    this.faults = Object.keys(parsed).length === 0 ? {} : { ...this.faults, ...parsed };
    return this.current();
  }

  reset(): void {
    this.faults = {};
  }

  current(): SandboxFaults {
    return structuredClone(this.faults);
  }

  get rate(): number | undefined {
    return this.faults.rate;
  }

  get floodLockMs(): number | undefined {
    return this.faults.floodLockMs;
  }

  get timeoutHoldMs(): number {
    return this.faults.timeoutHoldMs ?? DEFAULT_TIMEOUT_HOLD_MS;
  }

  /** True when the faults apply to this endpoint (`remote/request.cgi`). */
  applies(endpoint: string): boolean {
    const paths = this.faults.paths;
    if (!paths || paths.length === 0) return true;
    return paths.some((p) => p.replace(/^\/+/, '').replace(/^v1\//, '') === endpoint);
  }

  /** Latency to add to a request of this endpoint. */
  latencyFor(endpoint: string): number {
    return this.applies(endpoint) ? (this.faults.latencyMs ?? 0) : 0;
  }

  /** Decides the fault of one request of this endpoint (forced floods first, consuming one). */
  pick(endpoint: string): FaultAction | undefined {
    if (!this.applies(endpoint)) return undefined;
    const f = this.faults;
    if (f.forceFlood && f.forceFlood > 0) {
      f.forceFlood -= 1;
      return 'flood';
    }
    if (f.resetRatio && this.random() < f.resetRatio) return 'reset';
    if (f.timeoutRatio && this.random() < f.timeoutRatio) return 'timeout';
    if (f.errorRatio && this.random() < f.errorRatio) return 'error';
    return undefined;
  }

  /** One of the 5xx codes an overloaded 1fichier front answers (fichier-api.md §3.2 retry list). */
  errorStatus(): 500 | 502 | 503 {
    const codes = [500, 502, 503] as const;
    return codes[Math.floor(this.random() * codes.length)] ?? 500;
  }
}
