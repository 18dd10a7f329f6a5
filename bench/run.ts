/**
 * `npm run bench [-- --quick] [-- --only pipeline,ingest,cold-start] [-- --save]`: runs the benchmarks
 * and prints one table in which every figure sits next to a baseline measured in the same run.
 * Benchmarks report; they never fail on a figure.
 *
 * The pipeline runs twice at R: once with the bench's meters in the runtime (DynamoDB capacity, AWS
 * requests, EMF and INFO lines), which the counts and the cost come from, and once without them, which the
 * timing and memory rows come from (the meters share the runtime's one thread; `pipeline.ts`,
 * `isTimingRow`).
 *
 * Results: a plain run writes `bench/out/<start time>.json` and `bench/out/latest.json` (`bench/out/` is
 * git-ignored, so a run leaves the working tree clean); `BENCH_OUT=<file>` writes that file instead.
 * `bench/results.json` holds the figures the docs quote and is tracked: it is rewritten only with
 * `--save` or `BENCH_SAVE=1` (in addition to the above).
 *
 * Environment overrides: BENCH_N (URLs through the pipeline, default 2000; quick 200), BENCH_RATE
 * (sandbox requests/s, default 20), BENCH_BATCH (URLs per remote/request.cgi, default 10),
 * BENCH_NAIVE_N (URLs through the naive loop, default 200; quick 30), BENCH_POLL_MS (POLL_INTERVAL_S of the runtime, the poll plan's longest wait,
 * default 30000), BENCH_INGEST_S (autocannon seconds per side, default 10; quick 3),
 * BENCH_CONNECTIONS (default 10), BENCH_INGEST_ROUNDS (alternating rounds per side, best kept; default 2,
 * quick 1), BENCH_COLD_RUNS (imports per bundle, default 15; quick 5),
 * BENCH_INTERVAL_MS (the relay's FICHIER_MIN_INTERVAL_MS, default ⌈1000 / (0.95 R)⌉),
 * BENCH_DEADLINE_S (pipeline give-up, default 480), BENCH_OUT (results file instead of bench/out/),
 * BENCH_SAVE=1 (also refresh bench/results.json, like --save).
 */
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUNCTION_SIZING } from '../infra/cdk/relay-stack.js';
import { runColdStart } from './cold-start.js';
import { costModel } from './cost.js';
import { type IngestSide, runIngest } from './ingest.js';
import { formatTable, type Results, type Row, writeResults } from './lib/report.js';
import { CHOSEN, METERED_LOG_LEVELS, observabilityCost } from './observability.js';
import { runPipeline, withMeteredNotes } from './pipeline.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const save = args.includes('--save') || ['1', 'true'].includes(process.env.BENCH_SAVE?.trim() ?? '');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg
  ? new Set(
      (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1])?.split(',') ?? [],
    )
  : undefined;
const wants = (s: string) => !only || only.has(s);

function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${raw}`);
  return n;
}

const log = (line: string) => console.log(line);
const params = {
  n: envInt('BENCH_N', quick ? 200 : 2000),
  rate: envInt('BENCH_RATE', 20),
  // 95% of R (the design's target): spacing grants at exactly 1000/R lets loopback jitter put R + 1
  // arrivals in one sliding second, which the sandbox answers with a flood lock.
  intervalMs: 0,
  batch: envInt('BENCH_BATCH', 10),
  naiveN: envInt('BENCH_NAIVE_N', quick ? 30 : 200),
  pollIntervalMs: envInt('BENCH_POLL_MS', 30_000),
  urlsPerPost: 100,
  deadlineMs: envInt('BENCH_DEADLINE_S', 480) * 1000,
  ingestS: envInt('BENCH_INGEST_S', quick ? 3 : 10),
  connections: envInt('BENCH_CONNECTIONS', 10),
  ingestRounds: envInt('BENCH_INGEST_ROUNDS', quick ? 1 : 2),
  coldRuns: envInt('BENCH_COLD_RUNS', quick ? 5 : 15, 5),
};

params.intervalMs = envInt('BENCH_INTERVAL_MS', Math.ceil(1000 / (0.95 * params.rate)));

const startedAt = new Date().toISOString();
const rows: Row[] = [];
const details: Record<string, unknown> = {};
/** Extra lines printed after the table (log lines by kind). */
const breakdown: string[] = [];
log(`fichier-relay benchmarks (${quick ? 'quick' : 'full'}): ${JSON.stringify(params)}`);

let ingestRelay: IngestSide | undefined;
if (wants('ingest')) {
  log('ingest: autocannon POST /jobs');
  const r = await runIngest(
    { durationS: params.ingestS, connections: params.connections, rounds: params.ingestRounds },
    log,
  );
  rows.push(...r.rows);
  details.ingest = r.details;
  ingestRelay = r.relay;
}
if (wants('pipeline')) {
  log(`pipeline: ${params.n} URLs at ${params.rate} req/s, batches of ${params.batch}`);
  const p = await runPipeline(
    {
      n: params.n,
      rate: params.rate,
      batch: params.batch,
      pollIntervalMs: params.pollIntervalMs,
      naiveN: Math.min(params.naiveN, params.n),
      urlsPerPost: params.urlsPerPost,
      deadlineMs: params.deadlineMs,
      minIntervalMs: params.intervalMs,
      logLevels: METERED_LOG_LEVELS,
      metered: true,
    },
    log,
  );
  // The same load again without the bench's meters, which share the runtime's one thread: its allowance,
  // time to `done` and memory are the product's. The counts (write units, calls, log lines) stay the
  // metered run's; its timing figures are kept in the notes.
  log(`pipeline without the bench's meters: ${params.n} URLs at ${params.rate} req/s`);
  const timed = await runPipeline(
    {
      ...p.params,
      logLevels: [CHOSEN.logLevel],
      metered: false,
      naive: p.naive,
    },
    log,
  );
  rows.push(...withMeteredNotes(p.rows, timed.rows));
  details.pipeline = p.details;
  details.pipelineTimed = timed.details;
  const c = costModel(p, ingestRelay, {
    api: FUNCTION_SIZING.api.memorySize,
    worker: FUNCTION_SIZING.worker.memorySize,
    poller: FUNCTION_SIZING.poller.memorySize,
  });
  rows.push(...c.rows);
  details.cost = c.details;
  const o = observabilityCost(p, ingestRelay, {
    api: FUNCTION_SIZING.api.memorySize,
    worker: FUNCTION_SIZING.worker.memorySize,
    poller: FUNCTION_SIZING.poller.memorySize,
  });
  rows.push(...o.rows);
  details.observability = o.details;
  breakdown.push(...o.breakdown);

  // The allowance at a low rate too (R = 3, 300 URLs; quick: 60): long spacings show waste that a
  // fast sandbox hides.
  const slowRate = 3;
  const slowN = envInt('BENCH_SLOW_N', quick ? 60 : 300);
  log(`pipeline at a low rate: ${slowN} URLs at ${slowRate} req/s`);
  const slow = await runPipeline(
    {
      n: slowN,
      rate: slowRate,
      batch: params.batch,
      pollIntervalMs: params.pollIntervalMs,
      naiveN: 5,
      urlsPerPost: params.urlsPerPost,
      deadlineMs: params.deadlineMs,
      minIntervalMs: Math.ceil(1000 / (0.95 * slowRate)),
      logLevels: [CHOSEN.logLevel],
      metered: false,
    },
    log,
  );
  rows.push(
    ...slow.rows
      .filter((r) => r.metric.startsWith('1fichier allowance used') || r.metric.startsWith('flood locks'))
      .map((r) =>
        r.metric.startsWith('flood locks')
          ? { ...r, metric: `flood locks at R = ${slowRate} (must be 0)` }
          : r,
      ),
  );
  details.pipelineSlow = slow.details;
}
if (wants('cold-start')) {
  log('cold start: esbuild bundles like the CDK, fresh node imports');
  const c = await runColdStart(params.coldRuns, log);
  rows.push(...c.rows);
  details.coldStart = c.details;
}

const results: Results = {
  startedAt,
  finishedAt: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  machine: {
    node: process.version,
    cpus: cpus().length,
    platform: process.platform,
    totalMemGiB: Math.round(totalmem() / 2 ** 30),
  },
  params,
  rows,
  details,
};
const named = process.env.BENCH_OUT?.trim();
const outDir = join(here, 'out');
const outs = named
  ? [named]
  : [join(outDir, `${startedAt.replace(/[:.]/g, '-')}.json`), join(outDir, 'latest.json')];
if (save) outs.push(join(here, 'results.json'));
// bench/out/ is git-ignored and left out of biome.json's files.
if (!named) mkdirSync(outDir, { recursive: true });
for (const out of outs) writeResults(out, results);
log('');
log(formatTable(rows));
log('');
for (const r of rows.filter((x) => x.note)) log(`note: ${r.section} / ${r.metric}: ${r.note}`);
if (breakdown.length) log(['', ...breakdown].join('\n'));
log(`results written to ${outs.join(', ')}`);
if (!save && !named)
  log('bench/results.json (the figures the docs quote) unchanged: add --save to refresh it');
