/**
 * Counts what the handlers really log: real Powertools Logger and Metrics instances, configured like the
 * Lambda functions (service `fichier-relay`, namespace `FichierRelay`), whose console writes to a
 * counting stream instead of stdout. The pipeline child feeds them the runtime's logger and metrics
 * calls, so the bytes are the lines a deployment would ingest, line by line, without printing them.
 *
 * Lines are counted per kind (`INFO job queued`, `EMF`) and per side: `api` for what the HTTP API
 * writes (its requests carry 100 URLs in the bench, one in production: the cost model scales per request),
 * `back` for the worker and the poller.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import type { RelayLogger } from '../../shared/app/deps.js';
import { METRICS_SERVICE } from '../../shared/app/metric-names.js';
import { PowertoolsMetrics, type RelayMetrics } from '../../shared/app/metrics.js';

/** Which function a line belongs to. */
export type Side = 'api' | 'back';

/** Lines and bytes of one kind on one side. */
export interface LineCount {
  lines: number;
  bytes: number;
}

/** What one meter saw: `kinds[side][kind]`. */
export type MeterTotals = Record<Side, Record<string, LineCount>>;

/** Marks the asynchronous work of one HTTP API request (set by the child on `http.server.request.start`). */
export const apiScope = new AsyncLocalStorage<true>();
const sideNow = (): Side => (apiScope.getStore() ? 'api' : 'back');

/** A stream that counts each line written to it by kind and side, and keeps none of it. */
export class LineMeter {
  private readonly totals: MeterTotals = { api: {}, back: {} };
  /** Writable for `new Console({ stdout, stderr })`. */
  readonly stream = new Writable({
    // Console writes synchronously from the caller, so the side is the caller's.
    write: (chunk: Buffer | string, _encoding, done) => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      for (const line of text.split('\n')) if (line !== '') this.add(line);
      done();
    },
  });

  constructor(private readonly kindOf: (line: string) => string) {}

  private add(line: string): void {
    const kinds = this.totals[sideNow()];
    const kind = this.kindOf(line);
    const c = kinds[kind] ?? { lines: 0, bytes: 0 };
    // One CloudWatch event per line; its newline is not part of the event.
    kinds[kind] = { lines: c.lines + 1, bytes: c.bytes + Buffer.byteLength(line, 'utf8') };
  }

  /** A copy of the counts so far. */
  read(): MeterTotals {
    return structuredClone(this.totals);
  }
}

/** Kind of a Powertools Logger line: its level and message (`INFO job queued`). */
export function loggerLineKind(line: string): string {
  try {
    const o = JSON.parse(line) as { level?: string; message?: string };
    return `${o.level ?? '?'} ${o.message ?? ''}`;
  } catch {
    return 'unparsed';
  }
}

/** Powertools' Console field (Logger and Metrics print through it). */
type WithConsole = { console: Console };
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/**
 * Points a Powertools utility's Console at `meter`. The Console object is changed in place rather than
 * replaced: Metrics also keeps it as the logger of its own warnings (e.g. "No application metrics to
 * publish", printed when an invocation's metrics were already flushed at 100 values), and in Lambda those
 * lines are ingested too.
 */
function redirectConsole(utility: WithConsole, meter: LineMeter): void {
  const metered = new Console({ stdout: meter.stream, stderr: meter.stream });
  for (const method of CONSOLE_METHODS) utility.console[method] = metered[method];
}

/** A real Powertools Logger at `level` whose output is counted by `meter` (not printed). */
export function meteredLogger(level: string, meter: LineMeter): Logger {
  const logger = new Logger({ serviceName: METRICS_SERVICE, logLevel: level as 'INFO' });
  redirectConsole(logger as unknown as WithConsole, meter);
  return logger;
}

/** Kind of a Powertools Metrics line: `EMF` for a metrics blob, else the start of the warning. */
export function metricsLineKind(line: string): string {
  return line.startsWith('{') && line.includes('"_aws"') ? 'EMF' : `WARN ${line.slice(0, 40)}…`;
}

/** One logger that writes every call to each of `loggers` (a meter per level, an error printer...). */
export function teeLogger(loggers: readonly RelayLogger[]): RelayLogger {
  const fan =
    (method: keyof RelayLogger): RelayLogger['info'] =>
    (input, ...extra) => {
      for (const l of loggers) l[method](input, ...extra);
    };
  return { debug: fan('debug'), info: fan('info'), warn: fan('warn'), error: fan('error') };
}

/**
 * The handlers' own Lambda metrics class (`PowertoolsMetrics`: one EMF blob per flush with something to
 * publish), its output counted by `meter`, behind the runtime's in-memory metrics.
 */
export function teeMetrics(inner: RelayMetrics, meter: LineMeter): RelayMetrics {
  const emf = new PowertoolsMetrics(METRICS_SERVICE);
  redirectConsole((emf as unknown as { metrics: WithConsole }).metrics, meter);
  return {
    count: (name, value) => {
      inner.count(name, value);
      emf.count(name, value);
    },
    flush: () => {
      inner.flush();
      emf.flush();
    },
  };
}
