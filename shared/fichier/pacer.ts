/**
 * The pacer every 1fichier call goes through, for one key.
 * Implementations: in-memory (`memory-pacer.ts`, one process) and DynamoDB (`shared/aws/dynamo-pacer.ts`,
 * shared by all workers and the poller). `keyId` is a hash of the 1fichier key, never the key itself,
 * so a changed key gets a fresh (closed) circuit.
 */
import type { FloodHint } from './backoff.js';
import type { Clock } from './clock.js';

/** How long before its slot a waiting taker reads the shared state again (flood or auth failure meanwhile). */
export const PRE_SLOT_CHECK_MS = 10;
/**
 * Latest a slot waited for may be used: later, the call would come closer to the next slots than the
 * spacing allows, so the taker takes a fresh slot instead (a banked slot already passed when its taker
 * comes for it is used only within `LATE_SLOT_MS`, `slot-bank.ts`).
 */
export const LATE_TAKE_MS = 40;

/** How a wait for a reserved slot ended (`waitForSlot`). */
export type SlotWait = 'go' | 'stopped' | 'late';

/**
 * Waits for a reserved slot, as every pacer that reserves ahead does. The shared state is read
 * `readAheadMs` before the slot, so the read's own time does not delay the call; a flood pause or an open
 * circuit recorded meanwhile stops the wait (`stopped`). Then it sleeps to the slot; a taker woken more
 * than `LATE_TAKE_MS` after it is `late` and must not use it.
 */
export async function waitForSlot(
  slot: number,
  readState: () => Promise<PacerState>,
  clock: Pick<Clock, 'now' | 'sleep'>,
  readAheadMs: number,
  opts: Pick<TakeOptions, 'ignoreCircuit'> = {},
): Promise<SlotWait> {
  if (slot > clock.now()) {
    const checkAt = slot - readAheadMs;
    if (checkAt > clock.now()) await clock.sleep(checkAt - clock.now());
    const s = await readState();
    if ((s.circuitOpen && !opts.ignoreCircuit) || s.pausedUntil > slot) return 'stopped';
    const rest = slot - clock.now();
    if (rest > 0) await clock.sleep(rest);
  }
  return clock.now() - slot > LATE_TAKE_MS ? 'late' : 'go';
}

/** Why a slot was refused. */
export type PacerRefusal = 'paused' | 'circuitOpen' | 'busy';

export type SlotDecision =
  | {
      granted: true;
      /** With `slots` > 1: the epoch ms of every reserved slot, this call's first. */
      slots?: number[];
    }
  | {
      granted: false;
      reason: PacerRefusal;
      /** When to try again, in ms (for `circuitOpen` only a hint: nothing but a reset reopens it). */
      retryAfterMs: number;
      detail?: string;
    };

export interface PacerState {
  keyId: string;
  /** Epoch ms of the last granted slot. */
  lastCallAt: number;
  /** Epoch ms until which every call is paused (flood), 0 when not paused. */
  pausedUntil: number;
  /** Consecutive flood answers; drives the growing pause. */
  floodCount: number;
  /**
   * Auth circuit: open means no call with this key, except a half-open probe, until the probe succeeds,
   * the key changes or an operator resets it.
   */
  circuitOpen: boolean;
  circuitReason?: string;
  circuitOpenedAt?: number;
  /** The circuit only a person can close (`No such user #93`): no automatic probe. */
  circuitManual?: boolean;
  /** Epoch ms of the latest half-open probe claimed. */
  circuitProbedAt?: number;
  /**
   * The oldest job a worker saw still waiting, once one had waited long (`shared/jobs/queue-age.ts`):
   * how the poller knows the queue's age, which SQS does not tell through its API.
   */
  oldestWaiting?: WaitingNote;
}

/** A waiting job a worker saw: its creation time and when the worker saw it (epoch ms). */
export interface WaitingNote {
  createdAt: number;
  seenAt: number;
}

/** Options of {@link Pacer.take}. */
export interface TakeOptions {
  /** Longest wait accepted; longer answers `granted: false`. @default unbounded */
  maxWaitMs?: number;
  /** The half-open probe of an open circuit: granted (paced) even though the circuit is open. */
  ignoreCircuit?: boolean;
  /**
   * Reserves this many consecutive slots in one write (the shared pacer only): the first is this call's,
   * the others come back in `slots` for the caller's next calls (see `slot-bank.ts`). @default 1
   */
  slots?: number;
  /**
   * The call may reach 1fichier later than its slot: the client's first request, or its first since its
   * connections went idle, opens a new connection (TCP and TLS; in a fresh process Node also loads its
   * HTTP client, 20–40 ms). The slot after the last one granted is reserved too and left unused, so the
   * late arrival cannot crowd the next caller's call into one rate-limit window with it. @default false
   */
  coldCall?: boolean;
}

export interface Pacer {
  /**
   * Takes one call slot. Waits for it when the wait is at most `maxWaitMs` (default: unbounded for
   * in-process use); otherwise answers `granted: false` with `retryAfterMs`, so a Lambda can hand
   * the work back to SQS instead of sleeping.
   */
  take(keyId: string, opts?: TakeOptions): Promise<SlotDecision>;
  /** A flood answer: pause every call for this key (growing x2 up to a cap on repeated floods). */
  recordFlood(keyId: string, hint?: FloodHint): Promise<void>;
  /** Pauses every call for this key until `untilMs` at least (not a flood: the streak is left alone). */
  pauseUntil(keyId: string, untilMs: number): Promise<void>;
  /** A successful answer: resets the flood streak. */
  recordSuccess(keyId: string): Promise<void>;
  /** An auth answer: opens the circuit (`manual`: only a person can close it). */
  recordAuthFailure(keyId: string, reason: string, opts?: { manual?: boolean }): Promise<void>;
  /**
   * Claims the half-open probe of an open circuit: true for exactly one caller per `minIntervalMs`
   * (across processes for the shared pacer), false when another probed more recently.
   */
  claimProbe(keyId: string, nowMs: number, minIntervalMs: number): Promise<boolean>;
  /**
   * Notes the oldest waiting job a worker saw (a write only when it changes the note:
   * `shared/jobs/queue-age.ts` decides when to call).
   */
  noteWaiting(keyId: string, note: WaitingNote): Promise<void>;
  /** Operator reset of the circuit and pause. */
  reset(keyId: string): Promise<void>;
  state(keyId: string): Promise<PacerState>;
  /**
   * How long before a slot a waiting taker should read the shared state, so that the read's answer is
   * back by the slot: the pacer's own recent round trip, at least `PRE_SLOT_CHECK_MS`. Absent: that bound.
   */
  readAheadMs?(): number;
}
