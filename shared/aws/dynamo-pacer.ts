/**
 * {@link Pacer} shared by every worker and the poller: one DynamoDB item per key id. A slot is reserved
 * by a conditional update of `lastCallAt` from the value just read, so N concurrent takers on any number
 * of machines never get two slots closer than `minIntervalMs`; a loser re-reads and takes the next slot.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  DEFAULT_PACING,
  decideSlot,
  type FloodHint,
  floodPauseAfter,
  type PacingPolicy,
} from '../fichier/backoff.js';
import { type Clock, systemClock } from '../fichier/clock.js';
import {
  type Pacer,
  type PacerState,
  PRE_SLOT_CHECK_MS,
  type SlotDecision,
  type TakeOptions,
  type WaitingNote,
  waitForSlot,
} from '../fichier/pacer.js';
import { QUEUE_AGE_NOTE_MS } from '../jobs/queue-age.js';
import { isConditionFailure } from './dynamo-errors.js';
import { pacerItemKey as key, PacerItem } from './pacer-item.js';

/**
 * Most a reservation is placed ahead of now, and a waiting taker reads the item before its slot, to
 * cover the instance's own DynamoDB round trip (`roundTripMs`).
 */
export const MAX_LEAD_MS = 250;

/** Longest a taker waits for the reservation of another taker of the same instance (`inTurn`). */
export const TURN_WAIT_MS = 5_000;

/**
 * `SET` clauses that give an item this write may create the attributes every reader expects (`:k` the key
 * id, `:zero`, `:false`), except the one the write sets itself.
 */
function newItemDefaults(except?: 'lastCallAt' | 'pausedUntil' | 'floodCount' | 'circuitOpen'): string {
  const defaults = ['lastCallAt', 'pausedUntil', 'floodCount']
    .filter((a) => a !== except)
    .map((a) => `${a} = if_not_exists(${a}, :zero)`);
  const circuit = except === 'circuitOpen' ? [] : ['circuitOpen = if_not_exists(circuitOpen, :false)'];
  return ['keyId = :k', ...defaults, ...circuit].join(', ');
}

/** A granted slot also says when it starts (epoch ms), so tests can check the spacing without timing. */
export type DynamoSlotDecision = SlotDecision & { slotAt?: number };

/** Options of {@link DynamoPacer}. */
export interface DynamoPacerOptions {
  /** @default DEFAULT_PACING */
  policy?: PacingPolicy;
  /** @default systemClock */
  clock?: Clock;
  /** Conditional-write races lost before giving up with `busy`. @default 50 */
  maxRaceRetries?: number;
  /** Longest wait for another reservation of this instance (`TURN_WAIT_MS`). @default 5000 */
  turnWaitMs?: number;
}

/** The DynamoDB-backed pacer. */
export class DynamoPacer implements Pacer {
  readonly policy: PacingPolicy;
  private readonly clock: Clock;
  private readonly maxRaceRetries: number;
  private readonly turnWaitMs: number;
  private readonly item: PacerItem;
  /** Flood streak seen at the last read: lets `recordSuccess` skip a write in the common case. */
  private readonly floodSeen = new Map<string, number>();
  /** The last reservation of this instance per key id, which the next one waits for (`inTurn`). */
  private readonly turns = new Map<string, Promise<void>>();
  /**
   * This instance's recent round trip to the pacer item, ms: up at once with a slow answer, down slowly.
   * A slot reserved at the time of the read would already have passed when the write's answer comes back
   * on a busy process (the local runtime's one thread while the API creates jobs: 50–100 ms), and the
   * taker would give it up as late, again and again; so a free slot is placed this far ahead, and a
   * waiting taker reads the item this long before its slot. A few ms in AWS.
   */
  private roundTripMs = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    opts: DynamoPacerOptions = {},
  ) {
    this.policy = opts.policy ?? DEFAULT_PACING;
    this.clock = opts.clock ?? systemClock;
    this.maxRaceRetries = opts.maxRaceRetries ?? 50;
    this.turnWaitMs = opts.turnWaitMs ?? TURN_WAIT_MS;
    this.item = new PacerItem(doc, tableName);
  }

  /** Runs one request to the pacer item and folds its time into `roundTripMs`. */
  private async timed<T>(request: () => Promise<T>): Promise<T> {
    const started = this.clock.now();
    try {
      return await request();
    } finally {
      const took = this.clock.now() - started;
      this.roundTripMs =
        took > this.roundTripMs ? (this.roundTripMs + took) / 2 : this.roundTripMs * 0.9 + took * 0.1;
    }
  }

  /** How far ahead of now a free slot is placed, and how long before its slot a taker reads the item. */
  private leadMs(): number {
    return Math.min(MAX_LEAD_MS, Math.ceil(this.roundTripMs));
  }

  readAheadMs(): number {
    return Math.max(PRE_SLOT_CHECK_MS, this.leadMs());
  }

  async state(keyId: string): Promise<PacerState> {
    const s = await this.timed(() => this.item.state(keyId));
    this.floodSeen.set(keyId, s.floodCount);
    return s;
  }

  /**
   * Runs `fn` after every earlier reservation of this instance for `keyId` has finished: takers in one
   * process (the local runtime's lanes and poller, a Lambda instance's concurrent calls) then read the item
   * after each other's writes instead of racing each other (a lost race is a failed conditional write,
   * billed as one write unit, and a slot taken later). Takers in other processes still race; the
   * condition settles those.
   */
  private inTurn<T>(keyId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(keyId);
    // A reservation stuck on a request that never answers holds the others back at most `turnWaitMs`:
    // then they race it, which the conditional write makes safe.
    let timer: NodeJS.Timeout | undefined;
    const before = previous
      ? Promise.race([
          previous,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, this.turnWaitMs);
            timer.unref();
          }),
        ]).finally(() => clearTimeout(timer))
      : Promise.resolve();
    const run = before.then(fn);
    const after = run.then(
      () => undefined,
      () => undefined,
    );
    this.turns.set(keyId, after);
    void after.then(() => {
      if (this.turns.get(keyId) === after) this.turns.delete(keyId);
    });
    return run;
  }

  /** One read-then-write reservation: the slot reserved, a refusal, or `race` (someone wrote first). */
  private async reserve(
    keyId: string,
    opts: TakeOptions,
    maxWait: number,
    n: number,
  ): Promise<{ slot: number } | { refusal: SlotDecision } | 'race'> {
    const s = await this.state(keyId);
    const now = this.clock.now();
    // A free slot is placed one round trip ahead, so the write's answer comes back before it.
    const decision = decideSlot(s, now + this.leadMs(), now + maxWait, this.policy, opts);
    if ('refusal' in decision) return { refusal: decision.refusal };
    const { slot } = decision;
    // Several slots at once: the last of them is what the next taker must wait after. A cold call also
    // holds the slot after its own, unused (`TakeOptions.coldCall`).
    const last = slot + (n - 1 + (opts.coldCall ? 1 : 0)) * this.policy.minIntervalMs;
    try {
      await this.timed(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key(keyId),
            UpdateExpression: `SET lastCallAt = :slot, ${newItemDefaults('lastCallAt')}`,
            // Reserve only if nobody took a slot, paused or opened the circuit since our read.
            ConditionExpression:
              'attribute_not_exists(pk) OR (lastCallAt = :old AND pausedUntil = :oldPaused AND circuitOpen = :circuit)',
            ExpressionAttributeValues: {
              ':slot': last,
              ':k': keyId,
              ':zero': 0,
              ':false': false,
              ':circuit': s.circuitOpen,
              ':old': s.lastCallAt,
              ':oldPaused': s.pausedUntil,
            },
          }),
        ),
      );
    } catch (err) {
      if (isConditionFailure(err)) return 'race';
      throw err;
    }
    return { slot };
  }

  async take(keyId: string, opts: TakeOptions = {}): Promise<DynamoSlotDecision> {
    const maxWait = opts.maxWaitMs ?? Number.POSITIVE_INFINITY;
    const n = Math.max(1, Math.floor(opts.slots ?? 1));
    for (let race = 0; race < this.maxRaceRetries; race++) {
      const reserved = await this.inTurn(keyId, () => this.reserve(keyId, opts, maxWait, n));
      if (reserved === 'race') continue;
      if ('refusal' in reserved) return reserved.refusal;
      const slots = Array.from({ length: n }, (_, i) => reserved.slot + i * this.policy.minIntervalMs);
      // A flood or auth failure recorded while we waited invalidates the reservation: a fresh one is taken.
      // A call that would start late runs closer to the calls after it than the spacing allows (a busy
      // process woke us late): that slot is given up, and the next one of the reservation is waited for,
      // since the item already holds them all (re-reserving would place the next call after the last).
      for (const [i, slot] of slots.entries()) {
        if (slot - this.clock.now() > maxWait) break;
        const waited = await waitForSlot(slot, () => this.state(keyId), this.clock, this.readAheadMs(), opts);
        if (waited === 'stopped') break;
        if (waited === 'go')
          return { granted: true, slotAt: slot, ...(n > 1 ? { slots: slots.slice(i) } : {}) };
      }
    }
    return {
      granted: false,
      reason: 'busy',
      retryAfterMs: this.policy.minIntervalMs,
      detail: 'lost too many races for a slot',
    };
  }

  async recordFlood(keyId: string, hint: FloodHint = {}): Promise<void> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(keyId),
        UpdateExpression: `ADD floodCount :one SET ${newItemDefaults('floodCount')}`,
        ExpressionAttributeValues: { ':one': 1, ':k': keyId, ':zero': 0, ':false': false },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const count = Number(out.Attributes?.floodCount ?? 1);
    this.floodSeen.set(keyId, count);
    await this.pauseUntil(keyId, this.clock.now() + floodPauseAfter(count, this.policy, hint));
  }

  async pauseUntil(keyId: string, untilMs: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(keyId),
          UpdateExpression: `SET pausedUntil = :until, ${newItemDefaults('pausedUntil')}`,
          ConditionExpression: 'attribute_not_exists(pausedUntil) OR pausedUntil < :until',
          ExpressionAttributeValues: { ':until': untilMs, ':k': keyId, ':zero': 0, ':false': false },
        }),
      );
    } catch (err) {
      // A concurrent flood already set a longer pause.
      if (!isConditionFailure(err)) throw err;
    }
  }

  async claimProbe(keyId: string, nowMs: number, minIntervalMs: number): Promise<boolean> {
    const s = await this.state(keyId);
    if (!s.circuitOpen || s.circuitManual) return false;
    const last = s.circuitProbedAt ?? s.circuitOpenedAt ?? 0;
    if (nowMs - last < minIntervalMs) return false;
    try {
      // One prober per interval across every process: the write is conditional on the value just read.
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(keyId),
          UpdateExpression: 'SET circuitProbedAt = :now',
          ConditionExpression:
            'circuitOpen = :true AND (attribute_not_exists(circuitProbedAt) OR circuitProbedAt = :last)',
          ExpressionAttributeValues: { ':now': nowMs, ':true': true, ':last': s.circuitProbedAt ?? -1 },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async recordSuccess(keyId: string): Promise<void> {
    if (this.floodSeen.get(keyId) === 0) return;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(keyId),
          UpdateExpression: 'SET floodCount = :zero',
          ConditionExpression: 'floodCount > :zero',
          ExpressionAttributeValues: { ':zero': 0 },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    this.floodSeen.set(keyId, 0);
  }

  async recordAuthFailure(keyId: string, reason: string, opts: { manual?: boolean } = {}): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(keyId),
        // A failed probe keeps the time the circuit first opened.
        UpdateExpression:
          'SET circuitOpen = :true, circuitReason = :reason, circuitManual = :manual, ' +
          `circuitOpenedAt = if_not_exists(circuitOpenedAt, :now), ${newItemDefaults('circuitOpen')}`,
        ExpressionAttributeValues: {
          ':true': true,
          ':reason': reason.slice(0, 300),
          ':manual': opts.manual === true,
          ':now': this.clock.now(),
          ':k': keyId,
          ':zero': 0,
        },
      }),
    );
  }

  async noteWaiting(keyId: string, note: WaitingNote): Promise<void> {
    try {
      // The same rule as `replacesNote`, so concurrent workers keep the oldest job and refresh it once.
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(keyId),
          UpdateExpression: `SET waitingCreatedAt = :created, waitingSeenAt = :seen, ${newItemDefaults()}`,
          ConditionExpression:
            'attribute_not_exists(waitingSeenAt) OR waitingSeenAt <= :refreshBefore OR waitingCreatedAt > :created',
          ExpressionAttributeValues: {
            ':created': note.createdAt,
            ':seen': note.seenAt,
            ':refreshBefore': note.seenAt - QUEUE_AGE_NOTE_MS,
            ':k': keyId,
            ':zero': 0,
            ':false': false,
          },
        }),
      );
    } catch (err) {
      // Another worker noted as old a job, or as recent a sighting.
      if (!isConditionFailure(err)) throw err;
    }
  }

  async reset(keyId: string): Promise<void> {
    await this.item.reset(keyId);
    this.floodSeen.set(keyId, 0);
  }
}
