import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPacer, MAX_LEAD_MS } from '../../shared/aws/dynamo-pacer.js';
import { DEFAULT_PACING, floodPauseFor } from '../../shared/fichier/backoff.js';
import { LATE_TAKE_MS, PRE_SLOT_CHECK_MS } from '../../shared/fichier/pacer.js';
import { SlotBank } from '../../shared/fichier/slot-bank.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { ManualClock } from '../unit/jobs/fakes.js';

let aws: TestAws;
let tableName: string;
const policy = { ...DEFAULT_PACING, minIntervalMs: 1000, floodPauseMs: 60_000 };

beforeAll(async () => {
  aws = await startTestAws();
  tableName = (await aws.fresh()).tableName;
});
afterAll(async () => {
  await aws?.close();
});

/** A SlotBank over the DynamoPacer on a manual clock whose next sleep can be made to end late (a busy process). */
function bankOnOversleepingClock() {
  const clock = new ManualClock();
  let oversleepMs = 0;
  const late: typeof clock = Object.assign(Object.create(clock) as typeof clock, {
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.advance(ms + oversleepMs);
      oversleepMs = 0;
    },
  });
  const bank = new SlotBank(new DynamoPacer(aws.doc, tableName, { policy, clock: late }), late);
  return { clock, bank, oversleepOnce: (ms: number) => (oversleepMs = ms) };
}

describe('SlotBank over the DynamoPacer', () => {
  it('takes a cycle of slots in one write, spaced like single takes, and other takers wait after them', async () => {
    const clock = new ManualClock();
    const shared = new DynamoPacer(aws.doc, tableName, { policy, clock });
    const writes: number[] = [];
    const counting = new Proxy(shared, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop !== 'take' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return (...args: unknown[]) => {
          writes.push(1);
          return v.apply(target, args);
        };
      },
    });
    const bank = new SlotBank(counting, clock);
    bank.reserveNext('k-bank', 3);
    const t0 = clock.now();
    for (let i = 0; i < 3; i++) expect((await bank.take('k-bank')).granted).toBe(true);
    expect(writes).toHaveLength(1);
    // The manual clock does not move: each banked slot is waited for from t0, 1 s apart, first until 10 ms
    // before it (the shared state's read), then until the slot itself.
    expect(clock.sleeps).toEqual([1000 - PRE_SLOT_CHECK_MS, 1000, 2000 - PRE_SLOT_CHECK_MS, 2000]);
    // Another instance's take comes after the whole reservation.
    const other = await new DynamoPacer(aws.doc, tableName, { policy, clock }).take('k-bank');
    expect(other.slotAt).toBe(t0 + 3000);
  });

  it('lets takers that come at once share one reserving write, each waiting for a slot of its own', async () => {
    const clock = new ManualClock();
    const shared = new DynamoPacer(aws.doc, tableName, { policy, clock });
    const slotsAsked: (number | undefined)[] = [];
    const counting = new Proxy(shared, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop !== 'take' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return (...args: unknown[]) => {
          slotsAsked.push((args[1] as { slots?: number } | undefined)?.slots);
          return v.apply(target, args);
        };
      },
    });
    const bank = new SlotBank(counting, clock);
    bank.reserveNext('k-bank-together', 3);
    const t0 = clock.now();
    const decisions = await Promise.all([0, 1, 2].map(() => bank.take('k-bank-together')));
    expect(decisions.map((d) => d.granted)).toEqual([true, true, true]);
    // One write reserved the three slots; the other two takers waited for it instead of writing their own.
    expect(slotsAsked).toEqual([3]);
    // Each banked slot was slept to by one taker: 1 s and 2 s after the first.
    expect(clock.sleeps.filter((ms) => ms === 1000 || ms === 2000).sort()).toEqual([1000, 2000]);
    const other = await new DynamoPacer(aws.doc, tableName, { policy, clock }).take('k-bank-together');
    expect(other.slotAt).toBe(t0 + 3000);
  });

  it('does not use a banked slot dropped while its taker waited, though its read came before the flood', async () => {
    const clock = new ManualClock();
    let wake: (() => void) | undefined;
    const gated: typeof clock = Object.assign(Object.create(clock) as typeof clock, {
      // The sleep from the pre-slot read to the slot itself (1 s) ends only when the test says so.
      sleep: async (ms: number) => {
        clock.sleeps.push(ms);
        if (ms === 1000) await new Promise<void>((r) => (wake = r));
      },
    });
    const bank = new SlotBank(new DynamoPacer(aws.doc, tableName, { policy, clock: gated }), gated);
    bank.reserveNext('k-bank-dropped', 3);
    expect((await bank.take('k-bank-dropped')).granted).toBe(true);
    const second = bank.take('k-bank-dropped', { maxWaitMs: 1000 });
    while (!wake) await new Promise((r) => setTimeout(r, 5));
    // Another taker of the bank heard a flood after this one read the shared state.
    await bank.recordFlood('k-bank-dropped');
    wake();
    expect(await second).toMatchObject({ granted: false, reason: 'paused' });
  });

  it('never uses a reserved slot late: a caller that fell behind takes a fresh, spaced slot', async () => {
    const clock = new ManualClock();
    const bank = new SlotBank(new DynamoPacer(aws.doc, tableName, { policy, clock }), clock);
    bank.reserveNext('k-bank-late', 3);
    expect((await bank.take('k-bank-late')).granted).toBe(true);
    // The caller is 2.5 s late: its slots at t0 + 1 s and t0 + 2 s have passed; using one now would bunch
    // it with the next taker's. Both are dropped, and the shared pacer gives a slot spaced after them.
    clock.advance(2500);
    const fresh = await bank.take('k-bank-late');
    expect(fresh).toMatchObject({ granted: true });
    expect(bank.banks('k-bank-late')).toBe(0);
    expect((fresh as { slotAt?: number }).slotAt).toBe(clock.now() + 500);
  });

  it('gives up a banked slot it woke up too late for and uses the next banked one, not the rest lost', async () => {
    // A busy process: the sleep before the second banked slot ends 60 ms past it.
    const { clock, bank, oversleepOnce } = bankOnOversleepingClock();
    bank.reserveNext('k-bank-woke-late', 3);
    const t0 = clock.now();
    expect((await bank.take('k-bank-woke-late')).granted).toBe(true);
    oversleepOnce(PRE_SLOT_CHECK_MS + LATE_TAKE_MS + 10);
    // Not the banked slot at t0 + 1 s (used 50 ms late it would crowd the next call): the one at t0 + 2 s.
    expect(await bank.take('k-bank-woke-late')).toEqual({ granted: true });
    expect(clock.now()).toBe(t0 + 2000);
    expect(bank.banks('k-bank-woke-late')).toBe(0);
    // The reservation is used up: the next take is the shared pacer's, after all of it.
    const next = await bank.take('k-bank-woke-late');
    expect((next as { slotAt?: number }).slotAt).toBe(t0 + 3000);
  });

  it('loses only the first slot of a reservation its reserving taker woke up too late for', async () => {
    // A busy process: the reserving take's wait for its first slot (a spacing away, after the previous
    // call) ends 60 ms past it. Before, the whole reservation was given up and taken again after its last
    // slot: one late wake-up cost all ten of a poll chunk's slots.
    const { clock, bank, oversleepOnce } = bankOnOversleepingClock();
    expect((await bank.take('k-bank-first-late')).granted).toBe(true);
    const t0 = clock.now();
    bank.reserveNext('k-bank-first-late', 4);
    oversleepOnce(PRE_SLOT_CHECK_MS + LATE_TAKE_MS + 10);
    const first = await bank.take('k-bank-first-late');
    expect(first.granted).toBe(true);
    // The second slot of the reservation, not one after its fourth (t0 + 5 s).
    expect(clock.now()).toBe(t0 + 2000);
    expect((first as { slotAt?: number }).slotAt).toBe(t0 + 2000);
    expect(bank.banks('k-bank-first-late')).toBe(2);
    expect(await bank.take('k-bank-first-late')).toEqual({ granted: true });
    expect(clock.now()).toBe(t0 + 3000);
    expect(await bank.take('k-bank-first-late')).toEqual({ granted: true });
    expect(clock.now()).toBe(t0 + 4000);
    // Then the shared pacer's next slot, right after the reservation.
    const next = await bank.take('k-bank-first-late');
    expect((next as { slotAt?: number }).slotAt).toBe(t0 + 5000);
  });

  it('drops the rest of a reservation after a flood: the next take waits out the pause', async () => {
    const clock = new ManualClock();
    const bank = new SlotBank(new DynamoPacer(aws.doc, tableName, { policy, clock }), clock);
    bank.reserveNext('k-bank-flood', 4);
    expect((await bank.take('k-bank-flood')).granted).toBe(true);
    expect(bank.banks('k-bank-flood')).toBe(3);
    await bank.recordFlood('k-bank-flood');
    expect(bank.banks('k-bank-flood')).toBe(0);
    const refused = await bank.take('k-bank-flood', { maxWaitMs: 1000 });
    expect(refused).toMatchObject({ granted: false, reason: 'paused' });
  });
});

describe('DynamoPacer', () => {
  it('never grants two slots closer than minInterval to concurrent takers on separate pacers', async () => {
    const clock = new ManualClock();
    // Eight pacer objects stand for eight Lambda instances sharing the table.
    const pacers = Array.from({ length: 8 }, () => new DynamoPacer(aws.doc, tableName, { policy, clock }));
    const decisions = await Promise.all(
      pacers.flatMap((p) => [p.take('k-concurrent'), p.take('k-concurrent')]),
    );
    expect(decisions.every((d) => d.granted)).toBe(true);
    const slots = decisions.map((d) => d.slotAt ?? Number.NaN).sort((a, b) => a - b);
    expect(new Set(slots).size).toBe(16);
    for (let i = 1; i < slots.length; i++) {
      expect((slots[i] ?? 0) - (slots[i - 1] ?? 0)).toBeGreaterThanOrEqual(policy.minIntervalMs);
    }
    expect(slots[0]).toBe(clock.now());
  });

  it('lets the concurrent takers of one instance reserve in turn: spaced slots and no failed conditional write', async () => {
    const clock = new ManualClock();
    const failedConditions: string[] = [];
    // The same client, with every failed conditional write noted (each one is billed as a write unit).
    const doc = new Proxy(aws.doc, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop !== 'send' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          try {
            return await v.apply(target, args);
          } catch (err) {
            if ((err as Error).name === 'ConditionalCheckFailedException') failedConditions.push('x');
            throw err;
          }
        };
      },
    });
    // Six lanes and a poller of one process share one pacer object, as the local runtime's do.
    const pacer = new DynamoPacer(doc, tableName, { policy, clock });
    const decisions = await Promise.all(Array.from({ length: 7 }, () => pacer.take('k-one-process')));
    expect(decisions.every((d) => d.granted)).toBe(true);
    const slots = decisions.map((d) => d.slotAt ?? Number.NaN).sort((a, b) => a - b);
    expect(slots).toEqual(Array.from({ length: 7 }, (_, i) => clock.now() + i * policy.minIntervalMs));
    expect(failedConditions).toEqual([]);
  });

  it('does not let a reservation that never gets an answer hold the other takers of the instance back', async () => {
    const clock = new ManualClock();
    let hung = false;
    // The first conditional write never answers (a request lost on its way); the others reach the table.
    const doc = new Proxy(aws.doc, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop !== 'send' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return (command: { constructor: { name: string } }, ...rest: unknown[]) => {
          if (!hung && command.constructor.name === 'UpdateCommand') {
            hung = true;
            return new Promise(() => undefined);
          }
          return v.apply(target, [command, ...rest]);
        };
      },
    });
    const pacer = new DynamoPacer(doc, tableName, { policy, clock, turnWaitMs: 50 });
    void pacer.take('k-hung-turn');
    const second = await pacer.take('k-hung-turn');
    expect(hung).toBe(true);
    expect(second).toMatchObject({ granted: true, slotAt: clock.now() });
  });

  it('holds the slot after a cold call unused: the next taker, of any instance, comes two spacings later', async () => {
    const clock = new ManualClock();
    const first = await new DynamoPacer(aws.doc, tableName, { policy, clock }).take('k-cold', {
      coldCall: true,
    });
    expect(first).toMatchObject({ granted: true, slotAt: clock.now() });
    const t0 = first.slotAt ?? 0;
    const next = await new DynamoPacer(aws.doc, tableName, { policy, clock }).take('k-cold');
    expect(next.slotAt).toBe(t0 + 2000);
    // A warm call holds only its own slot.
    const after = await new DynamoPacer(aws.doc, tableName, { policy, clock }).take('k-cold');
    expect(after.slotAt).toBe(t0 + 3000);
  });

  it('places a free slot one round trip ahead on a slow store, so its taker is not late for it', async () => {
    // A busy process: every request to the pacer item takes 80 ms, more than the 40 ms a slot may be late.
    const clock = new ManualClock();
    let sends = 0;
    const slow = new Proxy(aws.doc, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop !== 'send' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          sends += 1;
          clock.advance(80);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const pacer = new DynamoPacer(slow, tableName, { policy, clock, maxRaceRetries: 3 });
    // The pacer learns its round trip from its requests.
    for (let i = 0; i < 4; i++) await pacer.state('k-slow');
    expect(pacer.readAheadMs()).toBeGreaterThanOrEqual(70);
    const readAt = clock.now() + 80;
    sends = 0;
    const granted = await pacer.take('k-slow');
    // Without the lead the slot would be the read's time, already 80 ms past when the write came back:
    // given up as late, and a second reservation (two more requests) would take the slot a spacing later.
    expect(granted).toMatchObject({ granted: true });
    expect(sends).toBe(2);
    expect(granted.slotAt).toBeGreaterThanOrEqual(readAt + 70);
    expect((granted.slotAt ?? 0) - readAt).toBeLessThanOrEqual(MAX_LEAD_MS);
    expect(clock.now() - (granted.slotAt ?? 0)).toBeLessThanOrEqual(LATE_TAKE_MS);
  });

  it('refuses with busy and the wait when the next slot is further than maxWaitMs', async () => {
    const clock = new ManualClock();
    const pacer = new DynamoPacer(aws.doc, tableName, { policy, clock });
    expect((await pacer.take('k-busy', { maxWaitMs: 1000 })).granted).toBe(true);
    expect((await pacer.take('k-busy', { maxWaitMs: 1000 })).granted).toBe(true);
    const third = await pacer.take('k-busy', { maxWaitMs: 1000 });
    expect(third).toMatchObject({ granted: false, reason: 'busy', retryAfterMs: 2000 });
    expect((await pacer.state('k-busy')).lastCallAt).toBe(clock.now() + 1000);
  });

  it('pauses every call after a flood, growing the pause on repeated floods, and resets on success', async () => {
    const clock = new ManualClock();
    const pacer = new DynamoPacer(aws.doc, tableName, { policy, clock });
    await pacer.recordFlood('k-flood');
    let s = await pacer.state('k-flood');
    expect(s).toMatchObject({ floodCount: 1, pausedUntil: clock.now() + floodPauseFor(1, policy) });
    const refused = await pacer.take('k-flood', { maxWaitMs: 1000 });
    expect(refused).toMatchObject({ granted: false, reason: 'paused', retryAfterMs: 60_000 });
    await pacer.recordFlood('k-flood');
    s = await pacer.state('k-flood');
    expect(s).toMatchObject({ floodCount: 2, pausedUntil: clock.now() + 120_000 });
    clock.advance(120_000);
    const granted = await pacer.take('k-flood', { maxWaitMs: 1000 });
    expect(granted).toMatchObject({ granted: true, slotAt: clock.now() });
    await pacer.recordSuccess('k-flood');
    expect((await pacer.state('k-flood')).floodCount).toBe(0);
  });

  it('opens the circuit on an auth failure for every pacer of that key until reset', async () => {
    const clock = new ManualClock();
    const a = new DynamoPacer(aws.doc, tableName, { policy, clock });
    const b = new DynamoPacer(aws.doc, tableName, { policy, clock });
    await a.recordAuthFailure('k-auth', 'Not authenticated #247');
    const refused = await b.take('k-auth', { maxWaitMs: 1000 });
    expect(refused).toMatchObject({
      granted: false,
      reason: 'circuitOpen',
      detail: 'Not authenticated #247',
    });
    expect((await b.take('k-other', { maxWaitMs: 1000 })).granted).toBe(true);
    await b.reset('k-auth');
    expect(await a.state('k-auth')).toMatchObject({ circuitOpen: false, pausedUntil: 0, floodCount: 0 });
    expect((await a.take('k-auth', { maxWaitMs: 1000 })).granted).toBe(true);
  });
});

describe('DynamoPacer queue-age note', () => {
  it('keeps the oldest job noted, refreshes at most every 5 minutes, and leaves the slots alone', async () => {
    const clock = new ManualClock();
    const a = new DynamoPacer(aws.doc, tableName, { policy, clock });
    const b = new DynamoPacer(aws.doc, tableName, { policy, clock });
    const t0 = clock.now();
    await a.take('k-note');
    const first = { createdAt: t0 - 3_600_000, seenAt: t0 };
    await a.noteWaiting('k-note', first);
    // A younger job a minute later does not replace it; an older one does.
    await b.noteWaiting('k-note', { createdAt: t0 - 600_000, seenAt: t0 + 60_000 });
    expect((await b.state('k-note')).oldestWaiting).toEqual(first);
    const older = { createdAt: t0 - 7_200_000, seenAt: t0 + 60_000 };
    await b.noteWaiting('k-note', older);
    expect((await a.state('k-note')).oldestWaiting).toEqual(older);
    // Five minutes on, any sighting refreshes it.
    const refresh = { createdAt: t0 - 600_000, seenAt: t0 + 360_000 };
    await a.noteWaiting('k-note', refresh);
    const s = await a.state('k-note');
    expect(s.oldestWaiting).toEqual(refresh);
    expect(s.lastCallAt).toBe(t0);
  });
});

describe('DynamoPacer waiting for a slot', () => {
  it('takes a later slot when a flood is recorded while a taker waits for its reserved one', async () => {
    const clock = new ManualClock();
    const pacer = new DynamoPacer(aws.doc, tableName, { policy, clock });
    const other = new DynamoPacer(aws.doc, tableName, { policy, clock });
    expect((await pacer.take('k-wait')).granted).toBe(true);
    // The next slot is 1 s away; while "sleeping" for it, another instance records a flood.
    clock.sleep = async (ms: number) => {
      clock.sleeps.push(ms);
      if (clock.sleeps.length === 1) await other.recordFlood('k-wait');
      clock.advance(ms);
    };
    const second = await pacer.take('k-wait');
    expect(second.granted).toBe(true);
    expect(second.slotAt).toBe((await pacer.state('k-wait')).pausedUntil);
    expect(clock.sleeps[0]).toBe(1000 - PRE_SLOT_CHECK_MS);
  });

  it('gives up a slot it woke up too late for and takes a fresh one, spaced after it', async () => {
    const clock = new ManualClock();
    const pacer = new DynamoPacer(aws.doc, tableName, { policy, clock });
    expect((await pacer.take('k-late')).granted).toBe(true);
    const t0 = clock.now();
    // The first wait for the next slot (1 s away) wakes 200 ms late, as a busy process does.
    let late = true;
    clock.sleep = async (ms: number) => {
      clock.sleeps.push(ms);
      clock.advance(ms + (late ? 200 : 0));
      late = false;
    };
    const second = await pacer.take('k-late');
    expect(second.granted).toBe(true);
    // Not the slot at t0 + 1 s (used late it would crowd the next one), but the one after it.
    expect(second.slotAt).toBe(t0 + 2000);
    expect(clock.now() - (second.slotAt ?? 0)).toBeLessThanOrEqual(LATE_TAKE_MS);
  });
});
