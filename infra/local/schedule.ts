/**
 * The local stand-in for an EventBridge rate schedule: runs a task every `intervalMs`, measured from the
 * end of the previous run, so two runs never overlap (EventBridge can overlap; our poller must not race
 * itself on one machine). `runNow()` queues one extra run behind the current one.
 */

export interface ScheduleLogger {
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface ScheduleOptions<T> {
  /** Name used in log lines. */
  name: string;
  task: () => Promise<T>;
  intervalMs: number;
  /** Delay before the first scheduled run. @default intervalMs */
  firstDelayMs?: number;
  logger?: ScheduleLogger;
  /** Called with each successful run's result (e.g. to print a report). */
  onResult?: (result: T) => void;
}

export interface Schedule<T> {
  /** Runs the task once, after any run in progress; resolves with its result (rejects with its error). */
  runNow(): Promise<T>;
  /** Brings the next scheduled run forward to within `delayMs` (never later than already planned). */
  nudge(delayMs: number): void;
  /** Cancels future runs and waits for the one in progress. */
  stop(): Promise<void>;
  /** Completed runs, successful or not. */
  runs(): number;
}

/** Starts the schedule. */
export function startSchedule<T>(opts: ScheduleOptions<T>): Schedule<T> {
  const logger = opts.logger ?? {
    error: (message, extra) => console.error(JSON.stringify({ level: 'ERROR', message, ...extra })),
  };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let nextAt = 0;
  let runs = 0;
  // Every run chains on this promise: that is what makes runs strictly sequential.
  let tail: Promise<unknown> = Promise.resolve();

  const run = (): Promise<T> => {
    const p = tail.then(async () => {
      try {
        const result = await opts.task();
        opts.onResult?.(result);
        return result;
      } finally {
        runs += 1;
      }
    });
    tail = p.catch(() => undefined);
    return p;
  };

  const plan = (delayMs: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    nextAt = Date.now() + delayMs;
    timer = setTimeout(tick, delayMs);
  };

  /** The soonest nudge heard while a run was executing (it had no timer to bring forward). */
  let nudgedDuringRun: number | undefined;

  const tick = () => {
    timer = undefined;
    nudgedDuringRun = undefined;
    run()
      .catch((err: unknown) => {
        logger.error(`${opts.name} run failed; next run on schedule`, {
          error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        });
      })
      .finally(() => plan(Math.min(opts.intervalMs, nudgedDuringRun ?? Number.POSITIVE_INFINITY)));
  };

  plan(opts.firstDelayMs ?? opts.intervalMs);

  return {
    runNow: () => run(),
    nudge(delayMs) {
      if (stopped) return;
      // While a scheduled run is executing there is no timer: it plans from the soonest nudge when it ends.
      if (!timer) {
        nudgedDuringRun = Math.min(nudgedDuringRun ?? Number.POSITIVE_INFINITY, delayMs);
        return;
      }
      if (Date.now() + delayMs < nextAt) plan(delayMs);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await tail;
    },
    runs: () => runs,
  };
}
