/**
 * Times the worker and poller invocations of a local runtime from the outside, to bill them like
 * Lambda (duration × memory). The handlers read `deps.store`, `deps.reports` and `deps.metrics` when they
 * run, so wrapping those fields is enough: a worker invocation starts with `store.getJobs` and ends with
 * its `metrics.flush()`; a poller cycle starts with `reports.latestReport` and ends with its `putReport`.
 * The HTTP API flushes the same metrics after every request: `isApi` tells those flushes apart (the
 * child marks each API request's async context), so they neither count as worker invocations nor cut
 * a worker invocation's timing short.
 * (The runtime offers no per-invocation hook; see the report of issue 4.)
 */
import type { Deps } from '../../shared/app/deps.js';

/** Durations in ms, one per invocation; `apiFlushes`: HTTP API requests that flushed metrics. */
export interface InvocationTimes {
  worker: number[];
  poller: number[];
  apiFlushes: number;
}

/** Wraps `deps` in place; returns a reader of the durations so far. */
export function timeInvocations(
  deps: Deps,
  isApi: () => boolean = () => false,
): {
  times(): InvocationTimes;
  settled(timeoutMs: number): Promise<void>;
} {
  const times: InvocationTimes = { worker: [], poller: [], apiFlushes: 0 };
  let workerStart: number | undefined;
  let pollerStart: number | undefined;
  let pollerFlushPending = false;
  const store = deps.store;
  deps.store = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'getJobs') {
        return (...args: unknown[]) => {
          workerStart ??= performance.now();
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  const reports = deps.reports;
  deps.reports = new Proxy(reports, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      // The relay-wide report opens and closes a cycle; the per-user ones are written in between.
      if (prop === 'latestReport') {
        return (...args: unknown[]) => {
          if (args[0] === undefined) pollerStart ??= performance.now();
          return value.apply(target, args);
        };
      }
      if (prop === 'putReport') {
        return async (...args: unknown[]) => {
          if (args[1] !== undefined) return value.apply(target, args);
          try {
            return await value.apply(target, args);
          } finally {
            if (pollerStart !== undefined) times.poller.push(performance.now() - pollerStart);
            pollerStart = undefined;
            pollerFlushPending = true;
          }
        };
      }
      return value.bind(target);
    },
  });
  const metrics = deps.metrics;
  deps.metrics = {
    count: (name, value) => metrics.count(name, value),
    flush: () => {
      metrics.flush();
      if (isApi()) {
        times.apiFlushes++;
        return;
      }
      if (pollerFlushPending) {
        pollerFlushPending = false;
        return;
      }
      // A worker invocation that stopped before reading jobs (circuit open, flood pause) still ran.
      times.worker.push(workerStart === undefined ? 1 : performance.now() - workerStart);
      workerStart = undefined;
    },
  };
  return {
    times: () => structuredClone(times),
    /** Resolves once no worker invocation or poll cycle is in flight (or after `timeoutMs`). */
    settled: async (timeoutMs) => {
      const until = Date.now() + timeoutMs;
      while ((workerStart !== undefined || pollerStart !== undefined) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
