/** The time source of the pacers, the client and the use-cases, apart from any pacer. */
import { setTimeout as delay } from 'node:timers/promises';

/** Time source for pacers and the client; tests pass a fake one so nothing sleeps for real. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Wall clock: `Date.now()` and a real timer. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => (ms > 0 ? delay(ms) : Promise.resolve()),
};
