/**
 * Observability cost: what a deployment pays per URL besides the pipeline itself, CloudWatch Logs
 * ingestion and X-Ray traces, at the stack's defaults (`relay:logLevel`, `relay:tracing` in
 * infra/cdk/config.ts) against the previous defaults (X-Ray active on every invocation, INFO logs).
 *
 * Log bytes per URL, by source:
 * - handler lines: what real Powertools Loggers wrote during the pipeline run, one Logger per level fed the
 *   same calls (`lib/log-meter.ts`), divided by the URLs;
 * - EMF metric lines: what the handlers' Powertools Metrics wrote; the API's per request (one webhook is
 *   one URL), the worker's and poller's per URL of the run;
 * - Lambda START/END/REPORT: rendered per invocation in Lambda's format (`lib/log-lines.ts`) with each
 *   measured duration, ×1 for the API (one invocation per webhook) and the measured worker and poller
 *   invocations per URL;
 * - the API Gateway access-log line (the stack enables access logs, infra/cdk/api.ts), one per request;
 * - 26 bytes per event (`EVENT_OVERHEAD_BYTES`).
 * X-Ray: traces per URL = traced Lambda invocations per URL (HTTP APIs do not trace; each Lambda
 * invocation outside an upstream trace starts one), 0 with tracing off.
 */
import { DEFAULT_CONFIG, type LogLevel, type TracingMode } from '../infra/cdk/config.js';
import type { FunctionMemory } from './cost.js';
import type { IngestSide } from './ingest.js';
import { accessLogLine, EVENT_OVERHEAD_BYTES, lambdaPlatformLines } from './lib/log-lines.js';
import type { LineCount, MeterTotals } from './lib/log-meter.js';
import { PRICES } from './lib/prices.js';
import { lowerIsBetterRows, type Row } from './lib/report.js';
import type { PipelineOutcome } from './pipeline.js';

/** One observability setting: the Powertools log level and the X-Ray tracing mode. */
export interface ObservabilityChoice {
  logLevel: LogLevel;
  tracing: TracingMode;
}

/** The stack's defaults (what `cdk deploy` ships). */
export const CHOSEN: ObservabilityChoice = {
  logLevel: DEFAULT_CONFIG.logLevel,
  tracing: DEFAULT_CONFIG.tracing,
};
/** The defaults before this choice: INFO logs, X-Ray active on every function. */
export const BASELINE: ObservabilityChoice = { logLevel: 'INFO', tracing: 'active' };

/** Log levels the pipeline child must count lines at. */
export const METERED_LOG_LEVELS: string[] = [...new Set([CHOSEN.logLevel, BASELINE.logLevel, 'WARN'])];

/** Bytes and events per URL of one source of log lines. */
interface Part {
  bytes: number;
  events: number;
}

/** Per-URL figures of one choice. */
export interface ObservabilityPerUrl {
  handler: Part;
  emf: Part;
  platform: Part;
  accessLog: Part;
  /** Every byte above plus `EVENT_OVERHEAD_BYTES` per event. */
  totalBytes: number;
  traces: number;
  usdPerMillion: { logs: number; xray: number; total: number };
}

const sumCounts = (kinds: Record<string, LineCount> | undefined): Part =>
  Object.values(kinds ?? {}).reduce((a, c) => ({ bytes: a.bytes + c.bytes, events: a.events + c.lines }), {
    bytes: 0,
    events: 0,
  });
const per = (p: Part, divisor: number): Part => ({
  bytes: p.bytes / Math.max(1, divisor),
  events: p.events / Math.max(1, divisor),
});
const add = (...parts: Part[]): Part =>
  parts.reduce((a, p) => ({ bytes: a.bytes + p.bytes, events: a.events + p.events }), {
    bytes: 0,
    events: 0,
  });
const linesPart = (lines: string[]): Part => ({
  bytes: lines.reduce((a, l) => a + Buffer.byteLength(l, 'utf8'), 0),
  events: lines.length,
});

/** Builds the rows, the per-kind breakdown and the details. */
export function observabilityCost(
  pipeline: PipelineOutcome,
  ingest: IngestSide | undefined,
  memory: FunctionMemory,
) {
  const n = pipeline.params.n;
  const child = pipeline.child;
  const logs = child.logs;
  const apiRequests = Math.max(1, pipeline.apiRequests);
  const apiLatencyMs = ingest?.p50Ms ?? 20;
  const workerPerUrl = child.invocations.worker.length / n;
  // Each poll trigger is a poller invocation in AWS (a stale one ends without a cycle): START/END/REPORT.
  const pollerPerUrl = Math.max(child.invocations.poller.length, child.pollTimerMessages ?? 0) / n;

  // EMF: the API writes one blob per request that counted something; the pipeline posts 100 URLs per
  // request, a webhook posts one, so the API's share is per request.
  const emf = add(per(sumCounts(logs.emf.api), apiRequests), per(sumCounts(logs.emf.back), n));
  const access = linesPart([accessLogLine({ latencyMs: apiLatencyMs, responseLength: 140 })]);

  const platformFor = (traced: boolean): Part => {
    const api = linesPart(lambdaPlatformLines({ durationMs: apiLatencyMs, memoryMb: memory.api, traced }));
    const back = [
      ...child.invocations.worker.map((d) => ({ durationMs: d, memoryMb: memory.worker })),
      ...child.invocations.poller.map((d) => ({ durationMs: d, memoryMb: memory.poller })),
    ].map((inv) => linesPart(lambdaPlatformLines({ ...inv, traced })));
    return add(api, per(add(...back), n));
  };

  const handlerFor = (level: string): Part => {
    const totals = logs.levels[level];
    if (!totals) throw new Error(`the pipeline child counted no lines at log level ${level}`);
    // Handler lines are per job (`job queued`, `job submitted`…), the API's as well: divided by URLs.
    return per(add(sumCounts(totals.api), sumCounts(totals.back)), n);
  };

  const figures = (choice: ObservabilityChoice): ObservabilityPerUrl => {
    const traced = choice.tracing === 'active';
    const handler = handlerFor(choice.logLevel);
    const platform = platformFor(traced);
    const all = add(handler, emf, platform, access);
    const totalBytes = all.bytes + all.events * EVENT_OVERHEAD_BYTES;
    const traces = traced ? 1 + workerPerUrl + pollerPerUrl : 0;
    const logsUsd = totalBytes * PRICES.logsIngestByte * 1e6;
    const xrayUsd = traces * PRICES.xrayTraceRecorded * 1e6;
    return {
      handler,
      emf,
      platform,
      accessLog: access,
      totalBytes,
      traces,
      usdPerMillion: { logs: logsUsd, xray: xrayUsd, total: logsUsd + xrayUsd },
    };
  };

  const ours = figures(CHOSEN);
  const base = figures(BASELINE);
  const label = `previous defaults: X-Ray active on every invocation, ${BASELINE.logLevel} logs`;
  const row = lowerIsBetterRows('observability', label);
  const invocationsPerUrl = 1 + workerPerUrl + pollerPerUrl;
  const rows: Row[] = [
    row(
      `log bytes per URL: handler lines (Powertools, ${CHOSEN.logLevel})`,
      'B',
      ours.handler.bytes,
      base.handler.bytes,
      `measured: ${ours.handler.events.toFixed(2)} lines per URL at ${CHOSEN.logLevel} (${fmtBytesPerLine(ours.handler)} each)`,
    ),
    row('log bytes per URL: EMF metric lines', 'B', ours.emf.bytes, base.emf.bytes),
    row(
      'log bytes per URL: Lambda START/END/REPORT',
      'B',
      ours.platform.bytes,
      base.platform.bytes,
      `${invocationsPerUrl.toFixed(3)} invocations per URL x 3 lines in Lambda's Text format (Lambda Developer Guide, "Log and monitor Node.js Lambda functions"): ~${Math.round(ours.platform.bytes / invocationsPerUrl)} B per invocation, ~${Math.round(base.platform.bytes / invocationsPerUrl)} B with the XRAY line of a traced one`,
    ),
    row(
      'log bytes per URL: API Gateway access log',
      'B',
      ours.accessLog.bytes,
      base.accessLog.bytes,
      "one line per request in the stack's format (infra/cdk/api.ts)",
    ),
    row(
      'log bytes per URL: total, with 26 B per event',
      'B',
      ours.totalBytes,
      base.totalBytes,
      `${(ours.handler.events + ours.emf.events + ours.platform.events + ours.accessLog.events).toFixed(2)} events per URL`,
    ),
    row(
      'X-Ray traces per URL',
      'traces',
      ours.traces,
      base.traces,
      `relay:tracing=${CHOSEN.tracing}; active tracing samples at Lambda's fixed 1 req/s + 5 % (no sampling rule applies), so every invocation below 1 req/s per function`,
    ),
    row(
      'USD per 1M URLs: CloudWatch Logs ingestion',
      'USD',
      ours.usdPerMillion.logs,
      base.usdPerMillion.logs,
    ),
    row('USD per 1M URLs: X-Ray traces', 'USD', ours.usdPerMillion.xray, base.usdPerMillion.xray),
    row(
      'USD per 1M URLs for everything else (goal <= 1.00)',
      'USD',
      ours.usdPerMillion.total,
      base.usdPerMillion.total,
      `logs $${(PRICES.logsIngestByte * 1e9).toFixed(2)}/GB ingested, X-Ray $${(PRICES.xrayTraceRecorded * 1e6).toFixed(2)}/M traces, list prices ${PRICES.region} of ${PRICES.checkedOn}`,
    ),
  ];

  // Per line kind, per level: lines and bytes per URL (API kinds are per job like the rest).
  const byKind = Object.fromEntries(
    Object.entries(logs.levels).map(([level, totals]) => [level, kindsPerUrl(totals, n)]),
  );
  const breakdown = [
    `log lines per URL by kind at ${CHOSEN.logLevel} (handler lines, Powertools Logger output):`,
    ...Object.entries(byKind[CHOSEN.logLevel] ?? {}).map(
      ([kind, k]) =>
        `  ${kind.padEnd(60)} ${k.linesPerUrl.toFixed(3).padStart(7)} lines/URL  ${Math.round(k.bytesPerLine).toString().padStart(4)} B/line  ${k.bytesPerUrl.toFixed(1).padStart(6)} B/URL`,
    ),
    `  EMF ${fmtBytesPerLine(sumCounts(logs.emf.api))}/blob per API request, ${per(sumCounts(logs.emf.back), n).bytes.toFixed(1)} B/URL from the worker and poller`,
  ];
  return {
    rows,
    breakdown,
    details: {
      chosen: CHOSEN,
      baseline: BASELINE,
      ours,
      base,
      invocationsPerUrl: { api: 1, worker: workerPerUrl, poller: pollerPerUrl },
      apiRequestsInRun: pipeline.apiRequests,
      apiFlushesInRun: child.invocations.apiFlushes,
      handlerLinesByKind: byKind,
      emf: { api: logs.emf.api, back: logs.emf.back },
      sampleLines: {
        accessLog: accessLogLine({ latencyMs: apiLatencyMs, responseLength: 140 }),
        platform: lambdaPlatformLines({ durationMs: apiLatencyMs, memoryMb: memory.api, traced: true }),
      },
      eventOverheadBytes: EVENT_OVERHEAD_BYTES,
      prices: {
        logsIngestPerGb: PRICES.logsIngestByte * 1e9,
        xrayPerMillion: PRICES.xrayTraceRecorded * 1e6,
      },
    },
  };
}

function fmtBytesPerLine(p: Part): string {
  return `${p.events ? Math.round(p.bytes / p.events) : 0} B`;
}

/** Lines and bytes per URL of each kind, both sides together, largest first. */
function kindsPerUrl(totals: MeterTotals, n: number) {
  const merged: Record<string, LineCount> = {};
  for (const side of Object.values(totals)) {
    for (const [kind, c] of Object.entries(side)) {
      const m = merged[kind] ?? { lines: 0, bytes: 0 };
      merged[kind] = { lines: m.lines + c.lines, bytes: m.bytes + c.bytes };
    }
  }
  return Object.fromEntries(
    Object.entries(merged)
      .sort(([, a], [, b]) => b.bytes - a.bytes)
      .map(([kind, c]) => [
        kind,
        {
          lines: c.lines,
          linesPerUrl: c.lines / n,
          bytesPerLine: c.bytes / c.lines,
          bytesPerUrl: c.bytes / n,
        },
      ]),
  );
}
