/**
 * Times the worker and poller invocations of a local runtime, to bill them like Lambda (duration ×
 * memory): the runtime's `onInvocation` hears each worker batch and poller cycle from the handler's start
 * to its end, as Lambda bills them. The HTTP API flushes its metrics after every request; those flushes
 * are counted apart (`apiFlushes`, the child marks each API request's async context).
 */
import type { Deps } from '../../shared/app/deps.js';

/** Durations in ms, one per invocation; `apiFlushes`: HTTP API requests that flushed metrics. */
export interface InvocationTimes {
  worker: number[];
  poller: number[];
  apiFlushes: number;
}

/** The timer's hook for `startRuntime({ onInvocation })`, and what it heard. */
export interface InvocationTimer {
  onInvocation(fn: 'worker' | 'poller'): () => void;
  /** Counts the API's metrics flushes of `deps` (wraps `deps.metrics` in place). */
  countApiFlushes(deps: Pick<Deps, 'metrics'>, isApi: () => boolean): void;
  times(): InvocationTimes;
  /** Resolves once no invocation is in flight (or after `timeoutMs`). */
  settled(timeoutMs: number): Promise<void>;
}

export function invocationTimer(now: () => number = () => performance.now()): InvocationTimer {
  const times: InvocationTimes = { worker: [], poller: [], apiFlushes: 0 };
  let inFlight = 0;
  return {
    onInvocation(fn) {
      const start = now();
      inFlight += 1;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        inFlight -= 1;
        times[fn].push(now() - start);
      };
    },
    countApiFlushes(deps, isApi) {
      const metrics = deps.metrics;
      deps.metrics = {
        count: (name, value) => metrics.count(name, value),
        flush: () => {
          metrics.flush();
          if (isApi()) times.apiFlushes += 1;
        },
      };
    },
    times: () => structuredClone(times),
    settled: async (timeoutMs) => {
      const until = Date.now() + timeoutMs;
      while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    },
  };
}
