/**
 * Pipeline under a rate limit: N URLs through the local runtime (forked child) against the 1fichier
 * sandbox at R requests/s, and the naive baseline — one URL per remote/request.cgi at rclone's fixed
 * 400 ms spacing, then remote/info.cgi per job until done — against an identical sandbox.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_NODE_FLAGS } from '../infra/local/node-flags.js';
import { startSandbox } from '../infra/sandbox/server.js';
import { DEFAULT_PACING } from '../shared/fichier/backoff.js';
import { createFichierClient } from '../shared/fichier/client.js';
import { staticKeyProvider } from '../shared/fichier/key-providers.js';
import { MemoryPacer } from '../shared/fichier/memory-pacer.js';
import { isRemotePending } from '../shared/fichier/types.js';
import { loadBetween } from './lib/loop-load.js';
import type { Row } from './lib/report.js';
import { startSourceServer } from './lib/source-server.js';
import type { ChildMessage, ChildReport, PipelineChildOptions } from './pipeline-child.js';

/** rclone's fichier pacer: MinSleep 400 ms (docs/1fichier-api.md, "Rate limits"). */
export const RCLONE_MIN_SLEEP_MS = 400;

/** Parameters of the pipeline benchmark. */
export interface PipelineParams {
  /** URLs through the relay. */
  n: number;
  /** Sandbox rate limit, requests/s per key and IP. */
  rate: number;
  /** URLs per remote/request.cgi. */
  batch: number;
  /** Poller schedule of the runtime. */
  pollIntervalMs: number;
  /** URLs through the naive loop (extrapolated linearly to n). */
  naiveN: number;
  /** URLs per POST /jobs while loading the relay. */
  urlsPerPost: number;
  /** Give up waiting after this long. */
  deadlineMs: number;
  /** The relay's FICHIER_MIN_INTERVAL_MS. */
  minIntervalMs: number;
  /** Powertools log levels at which the handlers' lines are counted (a Logger per level, same calls). */
  logLevels: string[];
  /** Run the bench's meters in the runtime child (capacity, AWS requests, EMF; `PipelineChildOptions`). */
  metered: boolean;
  /** A naive baseline measured earlier in this run, reused instead of running it again. */
  naive?: NaiveOutcome;
}

/** What the pipeline run measured, for the cost model. */
export interface PipelineOutcome {
  rows: Row[];
  details: Record<string, unknown>;
  child: ChildReport;
  naive: NaiveOutcome;
  params: PipelineParams;
  sandboxRequests: Record<string, number>;
  apiRequests: number;
}

/** What the naive loop measured. */
export interface NaiveOutcome {
  n: number;
  submittedMs: number;
  doneMs: number;
  calls: Record<string, number>;
  floodLocks: number;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The runtime child's Node flags: the product's, or `BENCH_RUNTIME_FLAGS` when set. */
function runtimeFlags(): string[] {
  const given = process.env.BENCH_RUNTIME_FLAGS?.trim();
  return given === undefined ? [...RUNTIME_NODE_FLAGS] : given.split(/\s+/).filter(Boolean);
}

/**
 * Rows that time the runtime or weigh it (the allowance, the thread's load, time to `done`, floods,
 * peak RSS...). The bench's meters run on the runtime's thread, so `run.ts` takes these from a run without
 * them (`metered: false`) and the counts (write units, calls, log lines) from a metered one.
 */
const TIMING_METRICS = [
  'wall time until all',
  'submit efficiency',
  '1fichier allowance used',
  'runtime main thread busy',
  'time from 1fichier finishing',
  'flood locks',
  'URLs submitted more than once',
  'runtime peak RSS',
];

/** Whether a pipeline row is one of {@link TIMING_METRICS}. */
export function isTimingRow(row: Row): boolean {
  return TIMING_METRICS.some((prefix) => row.metric.startsWith(prefix));
}

/**
 * The pipeline's rows: timing rows from the run without meters, each noting what the metered run read;
 * every other row from the metered run.
 */
export function withMeteredNotes(metered: Row[], timed: Row[]): Row[] {
  return metered.map((m) => {
    if (!isTimingRow(m)) return m;
    const t = timed.find((r) => r.metric === m.metric);
    if (!t) return m;
    const also = `with the bench's meters on (the run the counts come from): ${m.value.toFixed(3)}`;
    return { ...t, note: t.note ? `${t.note}; ${also}` : also };
  });
}

/** The naive strategy with the plain client: submit one URL per call, then poll each job's info. */
export async function runNaive(
  params: Pick<PipelineParams, 'rate' | 'naiveN' | 'deadlineMs'>,
): Promise<NaiveOutcome> {
  const sandbox = await startSandbox({ port: 0, rate: params.rate, floodLockMs: 30_000 });
  const source = await startSourceServer();
  const client = createFichierClient({
    baseUrl: sandbox.baseUrl,
    keyProvider: staticKeyProvider(sandbox.keys.premium),
    pacer: new MemoryPacer({ policy: { ...DEFAULT_PACING, minIntervalMs: RCLONE_MIN_SLEEP_MS } }),
    policy: { ...DEFAULT_PACING, minIntervalMs: RCLONE_MIN_SLEEP_MS },
  });
  try {
    const t0 = performance.now();
    const ids: number[] = [];
    for (let i = 0; i < params.naiveN; i++) {
      ids.push((await client.remoteRequest({ urls: [source.fileUrl(`naive-${i}`)] })).id);
    }
    const submittedMs = performance.now() - t0;
    const pending = new Set(ids);
    const deadline = Date.now() + params.deadlineMs;
    while (pending.size > 0 && Date.now() < deadline) {
      for (const id of [...pending]) {
        const info = await client.remoteInfo(id);
        if (!isRemotePending(info.execution_date)) pending.delete(id);
      }
    }
    const doneMs = performance.now() - t0;
    const stats = sandbox.stats();
    return { n: params.naiveN, submittedMs, doneMs, calls: stats.requests, floodLocks: stats.floodLocks };
  } finally {
    await client.close();
    await source.close();
    await sandbox.close();
  }
}

/** Runs the relay through the local runtime in a child process. */
export async function runPipeline(
  params: PipelineParams,
  log: (line: string) => void,
): Promise<PipelineOutcome> {
  const sandbox = await startSandbox({ port: 0, rate: params.rate, floodLockMs: 30_000 });
  const source = await startSourceServer();
  const token = `bench-${randomBytes(12).toString('hex')}`;
  const childOpts: PipelineChildOptions = {
    fichierApiUrl: sandbox.baseUrl,
    fichierApiKey: sandbox.keys.premium,
    token,
    minIntervalMs: params.minIntervalMs,
    batchMaxUrls: params.batch,
    pollIntervalMs: params.pollIntervalMs,
    expected: params.n,
    logLevels: params.logLevels,
    metered: params.metered,
  };
  const child = fork(join(here, 'pipeline-child.ts'), [JSON.stringify(childOpts)], {
    // The flags `npm start` runs the runtime with (package.json), so the peak measured is the product's;
    // BENCH_RUNTIME_FLAGS replaces them to compare others (space-separated).
    execArgv: [...runtimeFlags(), '--import', 'tsx', '--no-warnings'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: ChildMessage[] = [];
  const waiters: Array<() => void> = [];
  child.on('message', (m: ChildMessage) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const next = async <T extends ChildMessage['type']>(
    type: T,
    until: number,
    accept: (m: Extract<ChildMessage, { type: T }>) => boolean = () => true,
  ): Promise<Extract<ChildMessage, { type: T }> | undefined> => {
    for (;;) {
      const found = messages.find((m) => m.type === type && accept(m as Extract<ChildMessage, { type: T }>));
      if (found) {
        messages.splice(messages.indexOf(found), 1);
        return found as Extract<ChildMessage, { type: T }>;
      }
      if (Date.now() > until || child.exitCode !== null) return undefined;
      await Promise.race([
        new Promise<void>((r) => waiters.push(r)),
        new Promise<void>((r) => setTimeout(r, 500)),
      ]);
    }
  };

  try {
    const ready = await next('ready', Date.now() + 60_000);
    if (!ready) throw new Error('the runtime child did not start');
    log(`  runtime up in ${ready.startMs} ms at ${ready.baseUrl}; posting ${params.n} URLs`);
    const t0 = Date.now();
    let apiRequests = 0;
    const posts: Promise<void>[] = [];
    for (let i = 0; i < params.n; i += params.urlsPerPost) {
      const urls = Array.from({ length: Math.min(params.urlsPerPost, params.n - i) }, (_, k) =>
        source.fileUrl(`p-${i + k}`),
      );
      apiRequests++;
      posts.push(
        fetch(`${ready.baseUrl}/jobs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ urls }),
        }).then(async (r) => {
          if (r.status !== 202) throw new Error(`POST /jobs answered ${r.status}: ${await r.text()}`);
          await r.arrayBuffer();
        }),
      );
      if (posts.length >= 4) await posts.shift();
    }
    await Promise.all(posts);
    const ingestMs = Date.now() - t0;
    log(`  ${params.n} URLs accepted in ${ingestMs} ms; waiting for done`);
    const deadline = t0 + params.deadlineMs;
    let lastLog = 0;
    let final: Extract<ChildMessage, { type: 'progress' }> | undefined;
    for (;;) {
      const p = await next('progress', Math.min(deadline, Date.now() + 5_000));
      if (p) final = p;
      if (final && Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(
          `  ${((Date.now() - t0) / 1000).toFixed(0)} s: submitted ${final.submitted}, done ${final.done}, failed ${final.failed}`,
        );
      }
      if ((final && final.terminal >= params.n) || Date.now() > deadline || child.exitCode !== null) break;
    }
    child.send({ type: 'report' });
    const rep = await next('report', Date.now() + 60_000);
    if (!rep) throw new Error('the runtime child sent no report');
    const c = rep.report;
    const stats = sandbox.stats();
    const perUrlMax = Math.max(0, ...Object.values(stats.submissions));
    const duplicates = Object.values(stats.submissions).filter((v) => v > 1).length;
    const totalCalls = Object.values(stats.requests).reduce((a, b) => a + b, 0);
    const submittedMs = c.allSubmittedAt === null ? Number.NaN : c.allSubmittedAt - t0;
    const doneMs = c.allTerminalAt === null ? Number.NaN : c.allTerminalAt - t0;
    const idealS = Math.ceil(params.n / params.batch) / params.rate;
    // From 1fichier finishing a request (the sandbox's execution time) to each of its jobs shown `done`.
    const lagsMs = c.doneAt
      .map((d) => d.at - (stats.executedAt[String(d.remoteId)] ?? Number.NaN))
      .filter((v) => Number.isFinite(v))
      .sort((a, b) => a - b);
    const pct = (p: number) =>
      lagsMs.length
        ? (lagsMs[Math.min(lagsMs.length - 1, Math.floor(p * lagsMs.length))] as number)
        : Number.NaN;
    // The allowance used while work waited for slots: from the first call until every job was submitted,
    // the calls made over the slots the spacing allowed (calls ÷ (elapsed ÷ spacing)). After that, the
    // relay only waits for 1fichier to finish, which no pacing can use.
    const first = stats.firstRequestAt ?? 0;
    const waitEnd = c.allSubmittedAt ?? stats.lastRequestAt ?? first;
    const spanMs = Math.max(0, waitEnd - first);
    const callsWhileWaiting = stats.requestTimes.filter((t) => t <= waitEnd).length;
    const allowance = spanMs > 0 ? callsWhileWaiting / (spanMs / params.minIntervalMs + 1) : Number.NaN;
    // How busy the runtime's one thread was in that window: near 1, it (not the pacer) set the pace.
    const windowLoad = loadBetween(c.load, first, waitEnd);

    if (!params.naive) log('  naive baseline: one URL per call at 400 ms');
    const naive =
      params.naive ??
      (await runNaive({ rate: params.rate, naiveN: params.naiveN, deadlineMs: params.deadlineMs }));
    const scale = params.n / naive.n;
    const naiveCalls = Object.values(naive.calls).reduce((a, b) => a + b, 0);
    const naiveLabel = `naive: 1 URL/call at ${RCLONE_MIN_SLEEP_MS} ms (${naive.n} URLs, x${scale.toFixed(1)} linear)`;
    const rows: Row[] = [
      {
        section: 'pipeline',
        metric: `wall time until all ${params.n} submitted`,
        unit: 's',
        value: submittedMs / 1000,
        baseline: (naive.submittedMs * scale) / 1000,
        baselineLabel: naiveLabel,
        better: 'lower',
      },
      {
        section: 'pipeline',
        metric: `wall time until all ${params.n} done/failed`,
        unit: 's',
        value: doneMs / 1000,
        baseline: (naive.doneMs * scale) / 1000,
        baselineLabel: naiveLabel,
        better: 'lower',
      },
      {
        section: 'pipeline',
        metric: '1fichier calls per URL (all endpoints)',
        unit: 'calls',
        value: totalCalls / params.n,
        baseline: naiveCalls / naive.n,
        baselineLabel: naiveLabel,
        better: 'lower',
      },
      {
        section: 'pipeline',
        metric: 'remote/request.cgi calls per URL',
        unit: 'calls',
        value: (stats.requests['remote/request.cgi'] ?? 0) / params.n,
        baseline: (naive.calls['remote/request.cgi'] ?? 0) / naive.n,
        baselineLabel: naiveLabel,
        better: 'lower',
      },
      {
        section: 'pipeline',
        metric: `submit efficiency (ideal ${idealS.toFixed(1)} s / actual)`,
        unit: 'ratio',
        value: idealS / (submittedMs / 1000),
        baseline: idealS / ((naive.submittedMs * scale) / 1000),
        baselineLabel: naiveLabel,
        better: 'higher',
        note: 'ideal = ceil(N / batch) / R',
      },
      {
        section: 'pipeline',
        metric: `1fichier allowance used (calls ÷ slots at ${params.minIntervalMs} ms, R = ${params.rate})`,
        unit: 'ratio',
        value: allowance,
        baseline: (naiveCalls / Math.max(1, naive.doneMs / RCLONE_MIN_SLEEP_MS)) as number,
        baselineLabel: naiveLabel,
        better: 'higher',
        note: `${callsWhileWaiting} calls in ${(spanMs / 1000).toFixed(1)} s, from the first call until every job was submitted; goal >= 0.95`,
      },
      {
        section: 'pipeline',
        metric: 'runtime main thread busy in that window (event-loop utilisation)',
        unit: 'ratio',
        value: windowLoad?.utilisation ?? Number.NaN,
        better: 'none',
        note: windowLoad
          ? `${(windowLoad.busyMs / 1000).toFixed(1)} s busy of ${(windowLoad.spanMs / 1000).toFixed(1)} s (${(windowLoad.busyMs / params.n).toFixed(1)} ms per URL); the process used ${windowLoad.cores.toFixed(2)} cores with GC and I/O threads. The API, both lanes, the poller and dynalite share this thread: near 1, the thread, not the pacer, sets the pace`
          : 'too short a window to sample',
      },
      {
        section: 'pipeline',
        metric: 'time from 1fichier finishing to done, p50',
        unit: 's',
        value: pct(0.5) / 1000,
        baseline: (0.5 * params.pollIntervalMs) / 1000,
        baselineLabel: `a fixed ${params.pollIntervalMs / 1000} s poll schedule (the previous design), in expectation`,
        better: 'lower',
        note: `${lagsMs.length} jobs; goal p50 <= 10 s, p95 <= 30 s`,
      },
      {
        section: 'pipeline',
        metric: 'time from 1fichier finishing to done, p95',
        unit: 's',
        value: pct(0.95) / 1000,
        baseline: (0.95 * params.pollIntervalMs) / 1000,
        baselineLabel: `a fixed ${params.pollIntervalMs / 1000} s poll schedule (the previous design), in expectation`,
        better: 'lower',
      },
      {
        section: 'pipeline',
        metric: 'flood locks (must be 0)',
        unit: 'locks',
        value: stats.floodLocks,
        baseline: naive.floodLocks,
        baselineLabel: naiveLabel,
        better: 'none',
      },
      {
        section: 'pipeline',
        metric: 'URLs submitted more than once',
        unit: 'URLs',
        value: duplicates,
        better: 'none',
      },
      { section: 'pipeline', metric: 'jobs failed', unit: 'jobs', value: final?.failed ?? 0, better: 'none' },
      {
        section: 'pipeline',
        metric: 'worker invocation duration, mean',
        unit: 'ms',
        value: c.invocations.worker.reduce((a, b) => a + b, 0) / Math.max(1, c.invocations.worker.length),
        baseline: 1000 / params.rate,
        baselineLabel: 'pacer spacing at R (for scale: the handler waits for its slot)',
        better: 'lower',
        note: 'each batch from the handler start to its end, as Lambda bills it: its claims, its wait for a pacer slot (the lanes and the poller share the slots), the remote/request.cgi and the request item',
      },
      {
        section: 'pipeline',
        metric: 'DynamoDB write units per URL: per-token rate limit and lastUsedAt',
        unit: 'WRU',
        value: ((c.capacity?.writeUnitsByKind as Record<string, number> | undefined)?.TOKEN ?? 0) / params.n,
        baseline: 1 / params.urlsPerPost,
        baselineLabel: 'one counter write per request',
        better: 'lower',
        note: 'counted per instance, flushed at most once per token every 5 s; included in the write units below',
      },
      {
        section: 'memory',
        metric: 'runtime peak RSS during the pipeline (VmHWM)',
        unit: 'MiB',
        value: (c.vmHwmBytes ?? c.peakRssBytes) / 2 ** 20,
        baseline: ready.idleRssBytes / 2 ** 20,
        baselineLabel: 'the same runtime started, idle (RSS)',
        better: 'lower',
        note: 'child process running only the runtime (API, engines, worker, poller)',
      },
    ];
    return {
      rows,
      child: c,
      naive,
      params,
      apiRequests,
      sandboxRequests: stats.requests,
      details: {
        params: { ...params, naive: undefined },
        ingestMs,
        submittedMs,
        doneMs,
        idealSubmitS: idealS,
        allowanceWindow: { fromMs: first, toMs: waitEnd, calls: callsWhileWaiting, load: windowLoad ?? null },
        maxSubmissionsPerUrl: perUrlMax,
        sandbox: {
          requests: stats.requests,
          floodLocks: stats.floodLocks,
          floodAnswers: stats.floodAnswers,
          remoteRequests: stats.remoteRequests,
        },
        progress: final,
        runtime: {
          ...c,
          invocations: { workerCount: c.invocations.worker.length, pollerCount: c.invocations.poller.length },
          load: undefined,
        },
        naive,
      },
    };
  } finally {
    if (child.exitCode === null) {
      child.send({ type: 'close' });
      const code = await Promise.race([
        exited,
        new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000)),
      ]);
      if (code === 'timeout') child.kill('SIGKILL');
    }
    await source.close();
    await sandbox.close();
  }
}
