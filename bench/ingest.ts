/**
 * Ingest: autocannon against `POST /jobs` (a unique URL per request) for a fixed time, the relay's API
 * against a bare `node:http` server doing the same PutItem + SendMessage on the same embedded engines.
 */
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Row } from './lib/report.js';

/** Parameters of the ingest benchmark. */
export interface IngestParams {
  durationS: number;
  connections: number;
  /** Alternating rounds per side; the best round of each side is kept (the machine is shared). */
  rounds: number;
}

/** One side's figures. */
export interface IngestSide {
  reqPerS: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  non2xx: number;
  errors: number;
  awsOps: Record<string, number>;
}

const here = dirname(fileURLToPath(import.meta.url));
const TOKEN = 'bench-ingest-token-0123456789';

async function measure(mode: 'relay' | 'bare', params: IngestParams): Promise<IngestSide> {
  const child = fork(join(here, 'ingest-child.ts'), [mode, TOKEN], {
    execArgv: ['--import', 'tsx', '--no-warnings'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ingest child: no ${type} in 60 s`)), 60_000);
      const on = (m: Record<string, unknown>) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
    });
  try {
    const ready = await next('ready');
    const url = String(ready.url);
    let i = 0;
    const load = (durationS: number) =>
      autocannon({
        url,
        connections: params.connections,
        duration: durationS,
        requests: [
          {
            method: 'POST',
            path: '/jobs',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            // A unique URL per request: duplicates would be answered without any write.
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({
                url: `https://files.example.com/${mode}/${process.pid}/${i++}.bin?sig=abc`,
              }),
            }),
          },
        ],
      });
    // One second of warm-up (JIT, connection pools, engines), not counted.
    await load(1);
    child.send({ type: 'reset' });
    const result = await load(params.durationS);
    child.send({ type: 'report' });
    const rep = await next('report');
    return {
      reqPerS: result.requests.average,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      total: result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors,
      awsOps: rep.awsOps as Record<string, number>,
    };
  } finally {
    child.send({ type: 'close' });
    await new Promise((r) => child.once('exit', r));
  }
}

function awsPerRequest(side: IngestSide): number {
  const total = Object.values(side.awsOps).reduce((a, b) => a + b, 0);
  return total / Math.max(1, side.total);
}

/** Runs both sides and returns the rows. */
export async function runIngest(params: IngestParams, log: (line: string) => void) {
  const relayRounds: IngestSide[] = [];
  const bareRounds: IngestSide[] = [];
  for (let round = 1; round <= params.rounds; round++) {
    log(`  round ${round}: relay API, ${params.durationS} s, ${params.connections} connections`);
    relayRounds.push(await measure('relay', params));
    log(
      `  round ${round}: bare node:http baseline, ${params.durationS} s, ${params.connections} connections`,
    );
    bareRounds.push(await measure('bare', params));
  }
  const best = (rounds: IngestSide[]) => rounds.reduce((a, b) => (b.reqPerS > a.reqPerS ? b : a));
  const relay = best(relayRounds);
  const bare = best(bareRounds);
  const label = 'bare node:http: PutItem + SendMessage';
  const rows: Row[] = [
    {
      section: 'ingest',
      metric: 'POST /jobs throughput',
      unit: 'req/s',
      value: relay.reqPerS,
      baseline: bare.reqPerS,
      baselineLabel: label,
      better: 'higher',
    },
    {
      section: 'ingest',
      metric: 'POST /jobs latency p50',
      unit: 'ms',
      value: relay.p50Ms,
      baseline: bare.p50Ms,
      baselineLabel: label,
      better: 'lower',
    },
    {
      section: 'ingest',
      metric: 'POST /jobs latency p99',
      unit: 'ms',
      value: relay.p99Ms,
      baseline: bare.p99Ms,
      baselineLabel: label,
      better: 'lower',
    },
    {
      section: 'ingest',
      metric: 'non-2xx answers + errors',
      unit: 'answers',
      value: relay.non2xx + relay.errors,
      baseline: bare.non2xx + bare.errors,
      baselineLabel: label,
      better: 'none',
    },
    {
      section: 'ingest',
      metric: 'AWS requests per POST /jobs',
      unit: 'requests',
      value: awsPerRequest(relay),
      baseline: awsPerRequest(bare),
      baselineLabel: label,
      better: 'lower',
      note: 'counted from the X-Amz-Target of every SDK request (the API caches token lookups)',
    },
  ];
  return { rows, relay, bare, details: { params, relay, bare, relayRounds, bareRounds } };
}
