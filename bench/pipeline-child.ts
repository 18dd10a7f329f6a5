/**
 * The process that runs the local runtime for the pipeline benchmark (forked by `pipeline.ts`), so its
 * peak RSS (`VmHWM`) is the runtime's alone: the sandbox, the source files and the load generator live
 * in the parent. Talks to the parent over IPC: `ready` → (jobs flow) → `progress` → `report` → `close`.
 *
 * The handlers log through real Powertools Loggers, one per level in `logLevels`, and publish metrics
 * through the Lambda metrics class as well; their output is counted, not printed (`lib/log-meter.ts`).
 *
 * `BENCH_MEMORY_TRACE=<file>` appends a line of memory figures every 250 ms to that file (`memoryLine`).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startRuntime } from '../infra/local/runtime.js';
import { startAwsCounter } from './lib/aws-counter.js';
import { meterCapacity } from './lib/dynamo-capacity.js';
import { type InvocationTimes, invocationTimer } from './lib/invocations.js';
import {
  apiScope,
  LineMeter,
  loggerLineKind,
  type MeterTotals,
  meteredLogger,
  metricsLineKind,
  teeLogger,
  teeMetrics,
} from './lib/log-meter.js';
import { type LoadSample, startLoadSampler } from './lib/loop-load.js';

/** Options the parent passes as JSON in argv[2]. */
export interface PipelineChildOptions {
  fichierApiUrl: string;
  fichierApiKey: string;
  token: string;
  minIntervalMs: number;
  batchMaxUrls: number;
  pollIntervalMs: number;
  expected: number;
  /** Powertools log levels to count the handlers' lines at (each one a Logger of its own). */
  logLevels: string[];
  /**
   * Count what the runtime does: DynamoDB capacity, AWS requests, EMF lines, the API's share of each.
   * Off, the runtime carries none of the bench's meters (only `logLevels`' Loggers, whose lines are
   * counted, not printed), so its timing and memory are the product's.
   */
  metered: boolean;
}

/**
 * The `_X_AMZN_TRACE_ID` Lambda gives every invocation, traced or not (`Root=…` alone when not sampled):
 * Powertools Logger adds its root to each line as `xray_trace_id`, so the counted lines carry it too.
 */
export const BENCH_TRACE_HEADER =
  'Root=1-6747a1b2-3c4d5e6f7a8b9c0d1e2f3a4b;Parent=5f6e7d8c9b0a1f2e;Sampled=0';

/** Messages the child sends. */
export type ChildMessage =
  | { type: 'ready'; baseUrl: string; startMs: number; idleRssBytes: number }
  | { type: 'progress'; submitted: number; terminal: number; done: number; failed: number; at: number }
  | { type: 'report'; report: ChildReport };

/** What the child measured. */
export interface ChildReport {
  awsOps: Record<string, number>;
  capacity: ReturnType<ReturnType<typeof meterCapacity>['totals']> | null;
  invocations: InvocationTimes;
  workerStats: unknown;
  polls: number;
  /** Poll triggers the runtime's poll timer sent (delayed SQS messages on the poll queue in AWS). */
  pollTimerMessages: number;
  peakRssBytes: number;
  vmHwmBytes: number | null;
  firstSubmittedAt: number | null;
  allSubmittedAt: number | null;
  allTerminalAt: number | null;
  metrics: Record<string, number>;
  /** Epoch ms each job was seen `done`, with the remote request that held it. */
  doneAt: { remoteId: number; at: number }[];
  /** Handler lines per level (`levels[level]`) and EMF lines, counted per side and kind. */
  logs: { levels: Record<string, MeterTotals>; emf: MeterTotals };
  /** Main-thread event-loop and process CPU samples from `ready` on (`lib/loop-load.ts`). */
  load: LoadSample[];
}

function vmHwm(): number | null {
  try {
    const m = readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)\s+kB/);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const MIB = 2 ** 20;

/**
 * One `BENCH_MEMORY_TRACE` line (MiB): the kernel's view (`/proc/self/status`: RSS split into anonymous
 * and file-backed pages), `process.memoryUsage()`, each V8 heap space's size, and CPU time in ms.
 */
function memoryLine(): string {
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // Not Linux: the process's own figures only.
  }
  const kernel = Object.fromEntries(
    ['VmRSS', 'VmHWM', 'RssAnon', 'RssFile'].map((k) => {
      const m = status.match(new RegExp(`${k}:\\s+(\\d+) kB`));
      return [k, m ? Math.round(Number(m[1]) / 1024) : null];
    }),
  );
  const mu = process.memoryUsage();
  const cpu = process.cpuUsage();
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [s.space_name, Math.round(s.space_size / MIB)]),
  );
  return JSON.stringify({
    at: Date.now(),
    ...kernel,
    heapTotal: Math.round(mu.heapTotal / MIB),
    heapUsed: Math.round(mu.heapUsed / MIB),
    external: Math.round(mu.external / MIB),
    arrayBuffers: Math.round(mu.arrayBuffers / MIB),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    spaces,
  });
}

const opts = JSON.parse(process.argv[2] ?? '{}') as PipelineChildOptions;
process.env._X_AMZN_TRACE_ID = BENCH_TRACE_HEADER;
const logMeters = new Map(opts.logLevels.map((level) => [level, new LineMeter(loggerLineKind)]));
const emfMeter = new LineMeter(metricsLineKind);
const send = (m: ChildMessage) => process.send?.(m);
const dataDir = mkdtempSync(join(tmpdir(), 'bench-runtime-'));
const counter = opts.metered ? startAwsCounter() : undefined;
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
const traceFile = process.env.BENCH_MEMORY_TRACE?.trim();
const tracer = traceFile ? setInterval(() => appendFileSync(traceFile, `${memoryLine()}\n`), 250) : undefined;
tracer?.unref();

const submittedIds = new Set<string>();
const doneAt: { remoteId: number; at: number }[] = [];
const terminal = new Map<string, 'done' | 'failed'>();
let firstSubmittedAt: number | null = null;
let allSubmittedAt: number | null = null;
let allTerminalAt: number | null = null;
let lastProgress = 0;
const progress = (force = false) => {
  const now = Date.now();
  if (!force && now - lastProgress < 500) return;
  lastProgress = now;
  const done = [...terminal.values()].filter((s) => s === 'done').length;
  send({
    type: 'progress',
    submitted: submittedIds.size,
    terminal: terminal.size,
    done,
    failed: terminal.size - done,
    at: now,
  });
};

const startMs = Date.now();
const invocations = invocationTimer();
const rt = await startRuntime({
  port: 0,
  dataDir,
  token: opts.token,
  fichierApiKey: opts.fichierApiKey,
  fichierApiUrl: opts.fichierApiUrl,
  minIntervalMs: opts.minIntervalMs,
  batchMaxUrls: opts.batchMaxUrls,
  pollIntervalMs: opts.pollIntervalMs,
  firstPollDelayMs: opts.pollIntervalMs,
  // As the stack's worker event source (relay:workerMaxConcurrency, default 2): one lane alone spends
  // ~150 ms of DynamoDB work per request and cannot fill a 53 ms spacing.
  workerConcurrency: 2,
  onInvocation: (fn) => invocations.onInvocation(fn),
  // Load, not a person: the per-token limit stays on (its counter writes count) but never refuses.
  config: { tokenRatePerMin: 100_000 },
  logger: teeLogger([
    ...[...logMeters].map(([level, meter]) => meteredLogger(level, meter)),
    { debug: () => {}, info: () => {}, warn: () => {}, error: (m, ...e) => console.error(m, ...e) },
  ]),
  onJobChange: (c) => {
    const at = Date.now();
    if (c.status === 'submitted') {
      firstSubmittedAt ??= at;
      submittedIds.add(c.id);
      if (submittedIds.size >= opts.expected) allSubmittedAt ??= at;
    }
    if (c.status === 'done' && c.remoteId !== undefined) doneAt.push({ remoteId: c.remoteId, at });
    if (c.status === 'done' || c.status === 'failed') {
      // A job that fails at submit never passes through `submitted`.
      submittedIds.add(c.id);
      terminal.set(c.id, c.status);
      if (submittedIds.size >= opts.expected) allSubmittedAt ??= at;
      if (terminal.size >= opts.expected) allTerminalAt ??= at;
    }
    progress(terminal.size >= opts.expected || submittedIds.size === opts.expected);
  },
});
// The runtime's store and pacer share one DynamoDB document client; metering it counts every unit.
const pacer = rt.deps.pacer as unknown as {
  doc?: DynamoDBDocumentClient;
  inner?: { doc?: DynamoDBDocumentClient };
};
const doc = pacer.doc ?? pacer.inner?.doc;
const capacity = opts.metered && doc?.middlewareStack ? meterCapacity(doc) : undefined;
const memoryMetrics = rt.deps.metrics as unknown as { counts?: Map<string, number> };
if (opts.metered) {
  rt.deps.metrics = teeMetrics(rt.deps.metrics, emfMeter);
  // Everything an API request runs (its logs, its metrics flush) inherits this mark; requests to the
  // in-process engines (dynalite, fauxqs) are not the API and are not marked.
  diagnosticsChannel.subscribe('http.server.request.start', (message) => {
    const { server } = message as { server: Server };
    if ((server.address() as AddressInfo | null)?.port === rt.port) apiScope.enterWith(true);
  });
  invocations.countApiFlushes(rt.deps, () => apiScope.getStore() === true);
}
counter?.reset();
const load = startLoadSampler();
send({
  type: 'ready',
  baseUrl: rt.baseUrl,
  startMs: Date.now() - startMs,
  idleRssBytes: process.memoryUsage().rss,
});

process.on('message', async (m: { type: string }) => {
  if (m.type === 'report') {
    // Let the poll cycle that finished the last jobs write its report, so it is counted whole.
    await invocations.settled(10_000);
    const stats = rt.stats();
    const metrics = memoryMetrics.counts;
    send({
      type: 'report',
      report: {
        awsOps: counter?.counts() ?? {},
        capacity: capacity?.totals() ?? null,
        invocations: invocations.times(),
        workerStats: stats.worker,
        polls: stats.polls,
        pollTimerMessages: stats.pollTimerMessages,
        peakRssBytes: Math.max(peakRss, process.memoryUsage().rss),
        vmHwmBytes: vmHwm(),
        firstSubmittedAt,
        allSubmittedAt,
        allTerminalAt,
        metrics: metrics ? Object.fromEntries(metrics) : {},
        doneAt,
        load: load.samples(),
        logs: {
          levels: Object.fromEntries([...logMeters].map(([level, meter]) => [level, meter.read()])),
          emf: emfMeter.read(),
        },
      },
    });
  }
  if (m.type === 'close') {
    clearInterval(sampler);
    load.stop();
    if (tracer) clearInterval(tracer);
    await rt.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  }
});
