/**
 * How busy the runtime child was over a span of the run: its main thread's event-loop utilisation (the
 * share of the time the one thread that runs the API, the lanes, the poller and the engines was running
 * code rather than waiting) and the process's CPU time (that thread plus V8's GC and libuv helpers).
 * The child samples both every `LOAD_SAMPLE_MS`; the parent cuts the span it cares about out of them
 * (the allowance's window: from the first 1fichier call until every job was submitted).
 */
import { performance } from 'node:perf_hooks';

/** How often the child samples its load, ms. */
export const LOAD_SAMPLE_MS = 250;

/** One sample: cumulative figures since the process started, ms. */
export interface LoadSample {
  /** Epoch ms. */
  at: number;
  /** Main-thread event-loop time spent running code. */
  activeMs: number;
  /** Main-thread event-loop time spent waiting. */
  idleMs: number;
  /** Process CPU time, user + system, every thread. */
  cpuMs: number;
}

/** What one span of the run cost. */
export interface SpanLoad {
  /** The span actually covered by samples, ms (a little shorter than asked). */
  spanMs: number;
  /** Main thread busy ÷ the span, 0–1. */
  utilisation: number;
  /** Main thread busy, ms. */
  busyMs: number;
  /** Process CPU ÷ the span: how many cores' worth the process used. */
  cores: number;
}

/** Takes a sample now. */
export function loadSample(): LoadSample {
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  return { at: Date.now(), activeMs: elu.active, idleMs: elu.idle, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Samples every `LOAD_SAMPLE_MS` (at most `max` samples, the oldest dropped) until `stop`. */
export function startLoadSampler(max = 4_000): { samples(): LoadSample[]; stop(): void } {
  const samples: LoadSample[] = [loadSample()];
  const timer = setInterval(() => {
    samples.push(loadSample());
    if (samples.length > max) samples.shift();
  }, LOAD_SAMPLE_MS);
  timer.unref();
  return { samples: () => [...samples], stop: () => clearInterval(timer) };
}

/**
 * The load between `from` and `to` (epoch ms), from the first sample at or after `from` to the last at
 * or before `to`; undefined when fewer than two samples fall inside.
 */
export function loadBetween(samples: readonly LoadSample[], from: number, to: number): SpanLoad | undefined {
  const inside = samples.filter((s) => s.at >= from && s.at <= to);
  const first = inside[0];
  const last = inside[inside.length - 1];
  if (!first || !last || last.at <= first.at) return undefined;
  const spanMs = last.at - first.at;
  const busyMs = last.activeMs - first.activeMs;
  const loopMs = busyMs + (last.idleMs - first.idleMs);
  return {
    spanMs,
    busyMs,
    utilisation: loopMs > 0 ? busyMs / loopMs : 0,
    cores: (last.cpuMs - first.cpuMs) / spanMs,
  };
}
