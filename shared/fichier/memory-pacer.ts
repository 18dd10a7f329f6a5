import { replacesNote } from '../jobs/queue-age.js';
import { DEFAULT_PACING, decideSlot, type FloodHint, floodPauseAfter, type PacingPolicy } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import type { Pacer, PacerState, SlotDecision, TakeOptions, WaitingNote } from './pacer.js';

// Kept importable from here: the clock and the key id moved to modules of their own (the API needs them
// without the pacer).
export { type Clock, systemClock } from './clock.js';
export { keyIdOf } from './key-id.js';

/** Options of {@link MemoryPacer}. */
export interface MemoryPacerOptions {
  /** @default DEFAULT_PACING */
  policy?: PacingPolicy;
  /** @default systemClock */
  clock?: Clock;
}

function initialState(keyId: string): PacerState {
  return { keyId, lastCallAt: 0, pausedUntil: 0, floodCount: 0, circuitOpen: false };
}

/**
 * In-process {@link Pacer}: one state per key id, for a single Node process (local runtime, tests).
 * Concurrent `take` calls are serialised by reserving each slot synchronously before waiting for it,
 * so granted slots are never closer than `minIntervalMs`. A flood recorded while callers wait pushes
 * them past the pause; an auth failure opens the circuit until a probe succeeds or {@link MemoryPacer.reset}.
 */
export class MemoryPacer implements Pacer {
  readonly policy: PacingPolicy;
  private readonly clock: Clock;
  private readonly states = new Map<string, PacerState>();

  constructor(opts: MemoryPacerOptions = {}) {
    this.policy = opts.policy ?? DEFAULT_PACING;
    this.clock = opts.clock ?? systemClock;
  }

  private get(keyId: string): PacerState {
    let s = this.states.get(keyId);
    if (!s) {
      s = initialState(keyId);
      this.states.set(keyId, s);
    }
    return s;
  }

  /**
   * Grants a slot, waiting for it when the wait is at most `maxWaitMs` (unbounded by default).
   * Refusals: `circuitOpen` (retryAfterMs is only a hint: `floodPauseMaxMs`, nothing reopens it but a
   * reset), `paused` (a flood pause is the reason for the wait), `busy` (other callers hold the slots).
   */
  async take(keyId: string, opts: TakeOptions = {}): Promise<SlotDecision> {
    const s = this.get(keyId);
    const deadline =
      opts.maxWaitMs === undefined ? Number.POSITIVE_INFINITY : this.clock.now() + opts.maxWaitMs;
    for (;;) {
      const now = this.clock.now();
      const decision = decideSlot(s, now, deadline, this.policy, opts);
      if ('refusal' in decision) return decision.refusal;
      const { slot } = decision;
      // A cold call also holds the slot after its own (`TakeOptions.coldCall`).
      s.lastCallAt = slot + (opts.coldCall ? this.policy.minIntervalMs : 0);
      if (slot > now) await this.clock.sleep(slot - now);
      // A flood or auth failure recorded while we waited invalidates the reserved slot.
      if ((s.circuitOpen && !opts.ignoreCircuit) || s.pausedUntil > this.clock.now()) continue;
      return { granted: true };
    }
  }

  async recordFlood(keyId: string, hint: FloodHint = {}): Promise<void> {
    const s = this.get(keyId);
    s.floodCount += 1;
    const pause = floodPauseAfter(s.floodCount, this.policy, hint);
    s.pausedUntil = Math.max(s.pausedUntil, this.clock.now() + pause);
  }

  async pauseUntil(keyId: string, untilMs: number): Promise<void> {
    const s = this.get(keyId);
    s.pausedUntil = Math.max(s.pausedUntil, untilMs);
  }

  async claimProbe(keyId: string, nowMs: number, minIntervalMs: number): Promise<boolean> {
    const s = this.get(keyId);
    if (!s.circuitOpen || s.circuitManual) return false;
    const last = s.circuitProbedAt ?? s.circuitOpenedAt ?? 0;
    if (nowMs - last < minIntervalMs) return false;
    s.circuitProbedAt = nowMs;
    return true;
  }

  async recordSuccess(keyId: string): Promise<void> {
    this.get(keyId).floodCount = 0;
  }

  async recordAuthFailure(keyId: string, reason: string, opts: { manual?: boolean } = {}): Promise<void> {
    const s = this.get(keyId);
    // A failed probe keeps the time the circuit first opened.
    if (!s.circuitOpen) s.circuitOpenedAt = this.clock.now();
    s.circuitOpen = true;
    s.circuitReason = reason;
    s.circuitManual = opts.manual === true ? true : undefined;
  }

  async noteWaiting(keyId: string, note: WaitingNote): Promise<void> {
    const s = this.get(keyId);
    if (replacesNote(s.oldestWaiting, note)) s.oldestWaiting = { ...note };
  }

  async reset(keyId: string): Promise<void> {
    const s = this.get(keyId);
    s.circuitOpen = false;
    s.circuitReason = undefined;
    s.circuitOpenedAt = undefined;
    s.circuitManual = undefined;
    s.circuitProbedAt = undefined;
    s.pausedUntil = 0;
    s.floodCount = 0;
  }

  async state(keyId: string): Promise<PacerState> {
    return { ...this.get(keyId) };
  }
}
