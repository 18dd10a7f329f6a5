/**
 * Cold start: each Lambda entry bundled with esbuild exactly as the CDK does (`infra/cdk/tools/bundle.ts`:
 * ESM, minify, platform node, target and banner from `infra/cdk/lambda-defaults.ts`, the AWS SDK bundled
 * in), then its size, what each package weighs in it (esbuild's metafile), and its module-init time (a fresh
 * `node` importing it; median of several runs) against its own baseline: a bundle that imports only the
 * SDK clients that function's bundle contains. Function and baseline are timed in alternation, so a change
 * in machine load affects both alike.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_ON_DEMAND, FEEDS_ON_DEMAND, type OnDemandModule } from '../infra/cdk/on-demand.js';
import { type BundleResult, bundleLikeCdk, bytesByGroup } from '../infra/cdk/tools/bundle.js';
import { median, type Row } from './lib/report.js';

/** The Lambda entries. */
export const ENTRIES = [
  'functions/api.ts',
  'functions/worker.ts',
  'functions/poller.ts',
  'functions/feeds.ts',
] as const;

/** Modules an entry loads on first use, bundled beside it (not parsed at init, so not timed). */
const ON_DEMAND: Record<string, readonly OnDemandModule[]> = {
  'functions/api.ts': API_ON_DEMAND,
  'functions/feeds.ts': FEEDS_ON_DEMAND,
};

/** The module-init goal: at most this many times the baseline's (issue "Cheaper, quicker, leaner"). */
export const INIT_GOAL_RATIO = 1.5;

/** SDK packages a function may bundle, and the client each one stands for in the baseline. */
const SDK_CLIENTS: Record<string, { name: string; client: string }> = {
  '@aws-sdk/client-dynamodb': { name: 'DynamoDB', client: 'DynamoDBClient' },
  '@aws-sdk/lib-dynamodb': { name: 'lib-dynamodb', client: 'DynamoDBDocumentClient' },
  '@aws-sdk/client-sqs': { name: 'SQS', client: 'SQSClient' },
  '@aws-sdk/client-secrets-manager': { name: 'Secrets Manager', client: 'SecretsManagerClient' },
};

/** The SDK clients a bundle contains; throws on a client this file does not know yet. */
function sdkClientsOf(bundle: BundleResult): string[] {
  const found = [...bundle.bytesByPackage.keys()].filter((p) => /^@aws-sdk\/(client|lib)-/.test(p)).sort();
  const unknown = found.filter((p) => !SDK_CLIENTS[p]);
  if (unknown.length) throw new Error(`cold-start: add ${unknown.join(', ')} to SDK_CLIENTS`);
  return found;
}

function timeImport(file: string): number {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t0));`;
  const out = execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-3', NODE_ENV: 'production' },
    encoding: 'utf8',
  });
  return Number(out);
}

const kib = (bytes: number) => bytes / 1024;

/** One bundle's figures. */
export interface BundleFigure {
  bytes: number;
  gzipBytes: number;
  initMs: number;
  initRunsMs: number[];
}

/** One function's figures and its baseline's. */
export interface ColdStartFigure extends BundleFigure {
  entry: string;
  /** KiB of minified output per group (AWS SDK, zod, undici, hono, Powertools, ours, other). */
  kibByGroup: Record<string, number>;
  /** KiB per package, largest first. */
  kibByPackage: Record<string, number>;
  baseline: BundleFigure & { clients: string[] };
  /** KiB of each module bundled beside it and loaded on first use (`feed-tools.mjs`). */
  onDemandKib: Record<string, number>;
}

/** Bundles and times every entry against a baseline of its own SDK clients. */
export async function runColdStart(runs: number, log: (line: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  try {
    const figures: ColdStartFigure[] = [];
    for (const entry of ENTRIES) {
      const name = entry.replace(/^functions\/|\.ts$/g, '');
      const fnFile = join(dir, `${name}.mjs`);
      const fn = await bundleLikeCdk(entry, { outfile: fnFile });
      const packages = sdkClientsOf(fn);
      const baseFile = join(dir, `${name}-sdk-only.mjs`);
      const base = await bundleLikeCdk(
        {
          contents: packages.map((p) => `export { ${SDK_CLIENTS[p]!.client} } from '${p}';`).join('\n'),
        },
        { outfile: baseFile },
      );
      timeImport(fnFile); // warms the OS file cache; not counted
      timeImport(baseFile);
      const fnRuns: number[] = [];
      const baseRuns: number[] = [];
      for (let i = 0; i < runs; i++) {
        fnRuns.push(timeImport(fnFile));
        baseRuns.push(timeImport(baseFile));
      }
      const onDemandKib: Record<string, number> = {};
      for (const m of ON_DEMAND[entry] ?? []) onDemandKib[m.file] = kib((await bundleLikeCdk(m.entry)).bytes);
      const groups = bytesByGroup(fn);
      const figure: ColdStartFigure = {
        entry: name,
        bytes: fn.bytes,
        gzipBytes: fn.gzipBytes,
        initMs: median(fnRuns),
        initRunsMs: fnRuns,
        kibByGroup: Object.fromEntries([...groups].sort((a, b) => b[1] - a[1]).map(([g, b]) => [g, kib(b)])),
        kibByPackage: Object.fromEntries(
          [...fn.bytesByPackage].sort((a, b) => b[1] - a[1]).map(([p, b]) => [p, kib(b)]),
        ),
        baseline: {
          clients: packages.map((p) => SDK_CLIENTS[p]!.name),
          bytes: base.bytes,
          gzipBytes: base.gzipBytes,
          initMs: median(baseRuns),
          initRunsMs: baseRuns,
        },
        onDemandKib,
      };
      log(
        `  ${name}: ${kib(fn.bytes).toFixed(0)} KiB, init median ${figure.initMs.toFixed(1)} ms; ` +
          `its SDK clients alone ${kib(base.bytes).toFixed(0)} KiB, ${figure.baseline.initMs.toFixed(1)} ms`,
      );
      figures.push(figure);
    }
    const rows: Row[] = figures.flatMap((f) => {
      const label = `bundle of its SDK clients only (${f.baseline.clients.join(', ')})`;
      const weights = Object.entries(f.kibByGroup)
        .filter(([, k]) => k >= 1)
        .map(([g, k]) => `${g} ${k.toFixed(0)}`)
        .join(', ');
      const ratio = f.initMs / f.baseline.initMs;
      const onDemand = Object.entries(f.onDemandKib)
        .map(([file, k]) => `; beside it, loaded on first use: ${file} ${k.toFixed(0)} KiB`)
        .join('');
      return [
        {
          section: 'cold-start',
          metric: `${f.entry} bundle size (minified)`,
          unit: 'KiB',
          value: kib(f.bytes),
          baseline: kib(f.baseline.bytes),
          baselineLabel: label,
          better: 'lower' as const,
          note: `gzip ${kib(f.gzipBytes).toFixed(0)} KiB; KiB by package: ${weights}${onDemand}`,
        },
        {
          section: 'cold-start',
          metric: `${f.entry} module init (median of ${runs})`,
          unit: 'ms',
          value: f.initMs,
          baseline: f.baseline.initMs,
          baselineLabel: label,
          better: 'lower' as const,
          note: `${ratio.toFixed(2)}x the baseline (goal <= ${INIT_GOAL_RATIO}x: ${ratio <= INIT_GOAL_RATIO ? 'met' : 'not met'})`,
        },
      ];
    });
    return { rows, details: { runs, goalRatio: INIT_GOAL_RATIO, figures } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
