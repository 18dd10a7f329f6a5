/**
 * The process that runs the local runtime for the pipeline benchmark (forked by `pipeline.ts`), so its
 * peak RSS (`VmHWM`) is the runtime's alone: the sandbox, the source files and the load generator live
 * in the parent. Talks to the parent over IPC: `ready` → (jobs flow) → `progress` → `report` → `close`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startRuntime } from '../infra/local/runtime.js';
import { startAwsCounter } from './lib/aws-counter.js';
import { meterCapacity } from './lib/dynamo-capacity.js';
import { timeInvocations } from './lib/invocations.js';

/** Options the parent passes as JSON in argv[2]. */
export interface PipelineChildOptions {
  fichierApiUrl: string;
  fichierApiKey: string;
  token: string;
  minIntervalMs: number;
  batchMaxUrls: number;
  pollIntervalMs: number;
  expected: number;
}

/** Messages the child sends. */
export type ChildMessage =
  | { type: 'ready'; baseUrl: string; startMs: number; idleRssBytes: number }
  | { type: 'progress'; submitted: number; terminal: number; done: number; failed: number; at: number }
  | { type: 'report'; report: ChildReport };

/** What the child measured. */
export interface ChildReport {
  awsOps: Record<string, number>;
  capacity: ReturnType<ReturnType<typeof meterCapacity>['totals']> | null;
  invocations: { worker: number[]; poller: number[] };
  workerStats: unknown;
  polls: number;
  peakRssBytes: number;
  vmHwmBytes: number | null;
  firstSubmittedAt: number | null;
  allSubmittedAt: number | null;
  allTerminalAt: number | null;
  metrics: Record<string, number>;
}

function vmHwm(): number | null {
  try {
    const m = readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)\s+kB/);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const opts = JSON.parse(process.argv[2] ?? '{}') as PipelineChildOptions;
const send = (m: ChildMessage) => process.send?.(m);
const dataDir = mkdtempSync(join(tmpdir(), 'bench-runtime-'));
const counter = startAwsCounter();
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

const submittedIds = new Set<string>();
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
  logger: {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (m: string, e?: unknown) => console.error(m, e),
  } as never,
  onJobChange: (c) => {
    const at = Date.now();
    if (c.status === 'submitted') {
      firstSubmittedAt ??= at;
      submittedIds.add(c.id);
      if (submittedIds.size >= opts.expected) allSubmittedAt ??= at;
    }
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
const doc = (rt.deps.pacer as unknown as { doc?: DynamoDBDocumentClient }).doc;
const capacity = doc?.middlewareStack ? meterCapacity(doc) : undefined;
const memoryMetrics = rt.deps.metrics as unknown as { counts?: Map<string, number> };
const invocations = timeInvocations(rt.deps);
counter.reset();
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
        awsOps: counter.counts(),
        capacity: capacity?.totals() ?? null,
        invocations: invocations.times(),
        workerStats: stats.worker,
        polls: stats.polls,
        peakRssBytes: Math.max(peakRss, process.memoryUsage().rss),
        vmHwmBytes: vmHwm(),
        firstSubmittedAt,
        allSubmittedAt,
        allTerminalAt,
        metrics: metrics ? Object.fromEntries(metrics) : {},
      },
    });
  }
  if (m.type === 'close') {
    clearInterval(sampler);
    await rt.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  }
});
