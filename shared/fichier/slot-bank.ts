/**
 * A pacer that can take several slots in one write. `reserveNext(keyId, n)` makes the next `take` reserve
 * `n` consecutive slots of the shared pacer at once; the following `n - 1` takes use them without a read-
 * then-write each. The poller knows how many remote/info.cgi calls a cycle makes once remote/ls.cgi has
 * answered, so a cycle costs two pacer writes instead of one per call.
 *
 * A reserved slot is never used early, and never after a flood or an auth failure: those drop what is left,
 * and a slot that had to be waited for is checked against the shared state (a read, 10 ms before the slot);
 * a slot its taker woke up more than `LATE_TAKE_MS` after is lost, and the taker waits for the next one.
 * A slot is used at its own time or not at all (never late, which would bunch two calls). Slots left
 * unused (a cycle cut short, a caller that fell behind) are simply lost: at most one cycle's worth.
 *
 * Takers may come at once (the poller's info calls of a chunk each wait for their own slot): while the
 * reserving write is on its way, the others wait for it and then take from the bank it fills, in turn.
 */
import type { FloodHint } from './backoff.js';
import type { Clock } from './clock.js';
import {
  type Pacer,
  type PacerState,
  PRE_SLOT_CHECK_MS,
  type SlotDecision,
  type TakeOptions,
  type WaitingNote,
  waitForSlot,
} from './pacer.js';

/** How late a reserved slot may still be used (timer and event-loop jitter), in ms. */
export const LATE_SLOT_MS = 2;

/** {@link Pacer} with slot reservation on top of another pacer. */
export class SlotBank implements Pacer {
  private readonly banked = new Map<string, number[]>();
  private readonly wanted = new Map<string, number>();
  /** The reserving take on its way, per key: concurrent takers wait for the bank it fills. */
  private readonly reserving = new Map<string, Promise<unknown>>();
  /** Floods, pauses, auth failures and resets heard per key: a taker that waited through one stops. */
  private readonly stops = new Map<string, number>();

  constructor(
    /** The pacer whose slots are reserved (the shared DynamoDB pacer in the functions). */
    readonly inner: Pacer,
    private readonly clock: Pick<Clock, 'now' | 'sleep'>,
  ) {}

  /** The next take for `keyId` reserves `n` slots (this one and `n - 1` more), in one write. */
  reserveNext(keyId: string, n: number): void {
    if (n > 1) this.wanted.set(keyId, Math.floor(n));
  }

  /** Drops what is left of `keyId`'s reservation (its slots are not given back). */
  release(keyId: string): void {
    this.banked.delete(keyId);
    this.wanted.delete(keyId);
  }

  /** Drops the reservation and stops the takers waiting for its slots. */
  private stop(keyId: string): void {
    this.stops.set(keyId, (this.stops.get(keyId) ?? 0) + 1);
    this.release(keyId);
  }

  /** Reserved slots not used yet. */
  banks(keyId: string): number {
    return this.banked.get(keyId)?.length ?? 0;
  }

  async take(keyId: string, opts: TakeOptions = {}): Promise<SlotDecision> {
    const filling = this.reserving.get(keyId);
    if (filling) await filling;
    const bank = this.banked.get(keyId);
    if (bank?.length && !opts.ignoreCircuit) {
      for (;;) {
        // A slot is used at its own time or not at all: a late caller using a passed slot at once would
        // put two calls closer than the spacing (the next slot follows right after). Passed slots are lost.
        while (bank.length && (bank[0] as number) < this.clock.now() - LATE_SLOT_MS) bank.shift();
        const slot = bank.shift();
        if (slot === undefined) break;
        const wait = slot - this.clock.now();
        if (wait > (opts.maxWaitMs ?? Number.POSITIVE_INFINITY)) break;
        const stopsBefore = this.stops.get(keyId) ?? 0;
        const waited = await waitForSlot(slot, () => this.inner.state(keyId), this.clock, this.readAheadMs());
        // A flood or a pause heard meanwhile by another taker of this process: the shared state read
        // before the slot may predate it, so the slot is not used.
        if ((this.stops.get(keyId) ?? 0) !== stopsBefore) break;
        if (waited === 'go') return { granted: true };
        if (waited === 'stopped') break;
        // Woken up too late for this slot (a busy process): it is lost, the next banked one is still ahead.
      }
      if (this.banked.get(keyId) === bank) this.release(keyId);
    }
    const n = this.wanted.get(keyId);
    this.wanted.delete(keyId);
    if (!n) return this.inner.take(keyId, opts);
    const reservation = this.inner.take(keyId, { ...opts, slots: n }).then((decision) => {
      if (decision.granted && decision.slots && decision.slots.length > 1) {
        this.banked.set(keyId, decision.slots.slice(1));
      }
      return decision;
    });
    const settled = reservation.then(
      () => undefined,
      () => undefined,
    );
    this.reserving.set(keyId, settled);
    try {
      return await reservation;
    } finally {
      if (this.reserving.get(keyId) === settled) this.reserving.delete(keyId);
    }
  }

  recordFlood(keyId: string, hint?: FloodHint): Promise<void> {
    this.stop(keyId);
    return this.inner.recordFlood(keyId, hint);
  }

  pauseUntil(keyId: string, untilMs: number): Promise<void> {
    this.stop(keyId);
    return this.inner.pauseUntil(keyId, untilMs);
  }

  recordSuccess(keyId: string): Promise<void> {
    return this.inner.recordSuccess(keyId);
  }

  recordAuthFailure(keyId: string, reason: string, opts?: { manual?: boolean }): Promise<void> {
    this.stop(keyId);
    return this.inner.recordAuthFailure(keyId, reason, opts);
  }

  claimProbe(keyId: string, nowMs: number, minIntervalMs: number): Promise<boolean> {
    return this.inner.claimProbe(keyId, nowMs, minIntervalMs);
  }

  noteWaiting(keyId: string, note: WaitingNote): Promise<void> {
    return this.inner.noteWaiting(keyId, note);
  }

  reset(keyId: string): Promise<void> {
    this.stop(keyId);
    return this.inner.reset(keyId);
  }

  state(keyId: string): Promise<PacerState> {
    return this.inner.state(keyId);
  }

  readAheadMs(): number {
    return this.inner.readAheadMs?.() ?? PRE_SLOT_CHECK_MS;
  }
}
