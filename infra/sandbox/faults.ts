/**
 * Fault injection: the failures a real 1fichier (or the network to it) produces, on demand.
 * Set over HTTP (`POST /_sandbox/faults`) or in-process (`handle.setFaults`); both merge into the current
 * faults, and an empty object resets them.
 */
import { z } from 'zod';
import { type DateZone, type HtmlErrorStatus, MESSAGES } from './wire.js';

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
  /** The next N affected API requests get nginx's HTML error page (`htmlErrorStatus`); nothing is done. */
  forceHtmlError: nonNegativeInt.optional(),
  /** Share of API requests answered with nginx's HTML error page; nothing is done. */
  htmlErrorRatio: ratio.optional(),
  /** Status of the HTML error pages (forceHtmlError, htmlErrorRatio, forceHtmlAfterCreate). @default 502 */
  htmlErrorStatus: z.union([z.literal(403), z.literal(502), z.literal(503), z.literal(504)]).optional(),
  /**
   * The next N affected remote/request.cgi calls that create a request are handled normally (the request
   * exists, runs and counts as a submission) but answered with the HTML error page: the answer is lost.
   */
  forceHtmlAfterCreate: nonNegativeInt.optional(),
  /** While true every affected API request gets a 503 HTML maintenance page; forced counters wait. */
  maintenance: z.boolean().optional(),
  /** The next N affected API requests get 403 text/plain `IP Locked` and lock their IP. */
  forcePlainIpLock: nonNegativeInt.optional(),
  /** The next N affected API requests get `{"status":"KO","message":unknownKoMessage}`; nothing is done. */
  forceUnknownKo: nonNegativeInt.optional(),
  /** @default `#913 Premium status is only allowed to be used on residential connections` */
  unknownKoMessage: z.string().min(1).optional(),
  /** @default 200 */
  unknownKoHttpStatus: z.number().int().min(200).max(599).optional(),
  /** The next N affected API requests get 403 `Flood detected: User Locked #223` and lock their key only. */
  forceUserLocked: nonNegativeInt.optional(),
  /** Every number of every affected JSON answer is sent as a string (`"id":"123"`), recursively. */
  numbersAsStrings: z.boolean().optional(),
  /** remote/ls.cgi lists only the newest N requests (highest ids); 0 lists none. */
  lsNewest: nonNegativeInt.optional(),
  /**
   * remote/ls.cgi adds an entry without an id and one with `id: null`; remote/info.cgi of an executed request
   * adds a result without `status` and `url`.
   */
  oddEntries: z.boolean().optional(),
  /** Dates are rendered at a fixed UTC+1 all year instead of Europe/Paris (one hour behind in summer). */
  datesFixedUtcPlus1: z.boolean().optional(),
  /**
   * Shifts every date the sandbox renders by this many ms, as if its clock were elsewhere in time: lets a
   * test put the sandbox in the repeated hour of a DST change (a relay clock shifted alike follows it).
   */
  dateShiftMs: z
    .number()
    .int()
    .min(-10 * 365 * 86_400_000)
    .max(10 * 365 * 86_400_000)
    .optional(),
});

/** The fault settings (all optional; absent means no fault). */
export type SandboxFaults = z.infer<typeof sandboxFaultsSchema>;

/** What the sandbox does to one API request instead of answering it normally. */
export type FaultAction =
  | 'maintenance'
  | 'flood'
  | 'userLocked'
  | 'plainIpLock'
  | 'html'
  | 'unknownKo'
  | 'reset'
  | 'timeout'
  | 'error';

/** How the answers of one endpoint are bent (the faults that alter an answer instead of replacing it). */
export interface AnswerFaults {
  dateZone: DateZone;
  dateShiftMs: number;
  numbersAsStrings: boolean;
  lsNewest: number | undefined;
  oddEntries: boolean;
}

/** The forced counters, in the order they are consumed. */
const FORCED = [
  ['forceFlood', 'flood'],
  ['forceUserLocked', 'userLocked'],
  ['forcePlainIpLock', 'plainIpLock'],
  ['forceHtmlError', 'html'],
  ['forceUnknownKo', 'unknownKo'],
] as const satisfies ReadonlyArray<readonly [keyof SandboxFaults, FaultAction]>;

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

  /**
   * Decides the fault of one request of this endpoint: maintenance (consumes nothing), then the forced
   * counters in `FORCED` order (consuming one), then the ratios.
   */
  pick(endpoint: string): FaultAction | undefined {
    if (!this.applies(endpoint)) return undefined;
    const f = this.faults;
    if (f.maintenance) return 'maintenance';
    for (const [field, action] of FORCED) {
      const left = f[field];
      if (left !== undefined && left > 0) {
        f[field] = left - 1;
        return action;
      }
    }
    if (f.resetRatio && this.random() < f.resetRatio) return 'reset';
    if (f.timeoutRatio && this.random() < f.timeoutRatio) return 'timeout';
    if (f.htmlErrorRatio && this.random() < f.htmlErrorRatio) return 'html';
    if (f.errorRatio && this.random() < f.errorRatio) return 'error';
    return undefined;
  }

  /** Consumes one `forceHtmlAfterCreate` for a remote/request.cgi that created a request; true if it did. */
  takeHtmlAfterCreate(endpoint: string): boolean {
    const left = this.faults.forceHtmlAfterCreate;
    if (endpoint !== 'remote/request.cgi' || !this.applies(endpoint) || !left || left <= 0) return false;
    this.faults.forceHtmlAfterCreate = left - 1;
    return true;
  }

  get htmlErrorStatus(): HtmlErrorStatus {
    return this.faults.htmlErrorStatus ?? 502;
  }

  get unknownKo(): { status: number; message: string } {
    return {
      status: this.faults.unknownKoHttpStatus ?? 200,
      message: this.faults.unknownKoMessage ?? MESSAGES.unknownKo,
    };
  }

  /** The answer-bending faults for this endpoint (none when `paths` leaves it out). */
  answerFaults(endpoint: string): AnswerFaults {
    const f = this.applies(endpoint) ? this.faults : {};
    return {
      dateZone: f.datesFixedUtcPlus1 ? 'utc+1' : 'paris',
      dateShiftMs: f.dateShiftMs ?? 0,
      numbersAsStrings: f.numbersAsStrings ?? false,
      lsNewest: f.lsNewest,
      oddEntries: f.oddEntries ?? false,
    };
  }

  /** One of the 5xx codes an overloaded 1fichier front answers (docs/1fichier-api.md, "Errors" retry list). */
  errorStatus(): 500 | 502 | 503 {
    const codes = [500, 502, 503] as const;
    return codes[Math.floor(this.random() * codes.length)] ?? 500;
  }
}
