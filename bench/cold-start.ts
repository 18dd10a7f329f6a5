/**
 * Cold start: each Lambda entry bundled with esbuild exactly as the CDK does (ESM, minify, platform
 * node, target and banner from `infra/cdk/lambda-defaults.ts`, the AWS SDK bundled in), then the bundle
 * size and the module-init time (a fresh `node` importing it; median of several runs) against a bundle
 * that only imports the SDK clients the handlers use.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { BUNDLE_BANNER, BUNDLE_TARGET } from '../infra/cdk/lambda-defaults.js';
import { median, type Row } from './lib/report.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The three Lambda entries. */
export const ENTRIES = ['functions/api.ts', 'functions/worker.ts', 'functions/poller.ts'] as const;

/** What every handler's composition root (`shared/app/deps.ts`) imports from the AWS SDK. */
const SDK_ONLY = `
export { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
export { SQSClient } from '@aws-sdk/client-sqs';
export { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
`;

async function bundle(
  entry: string | { contents: string },
  outfile: string,
): Promise<{ bytes: number; gzipBytes: number }> {
  await build({
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, resolveDir: repoRoot, loader: 'ts' as const } }),
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: BUNDLE_TARGET,
    minify: true,
    banner: { js: BUNDLE_BANNER },
    mainFields: ['module', 'main'],
    logLevel: 'silent',
    absWorkingDir: repoRoot,
  });
  const bytes = statSync(outfile).size;
  return { bytes, gzipBytes: gzipSync(readFileSync(outfile)).length };
}

function timeImport(file: string): number {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t0));`;
  const out = execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-3', NODE_ENV: 'production' },
    encoding: 'utf8',
  });
  return Number(out);
}

/** One entry's figures. */
export interface ColdStartFigure {
  entry: string;
  bytes: number;
  gzipBytes: number;
  initMs: number;
  initRunsMs: number[];
}

/** Bundles and times every entry and the SDK-only baseline. */
export async function runColdStart(runs: number, log: (line: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  try {
    const measureOne = async (
      entry: string | { contents: string },
      name: string,
    ): Promise<ColdStartFigure> => {
      const out = join(dir, `${name}.mjs`);
      const size = await bundle(entry, out);
      const initRunsMs = Array.from({ length: runs }, () => timeImport(out));
      log(
        `  ${name}: ${(size.bytes / 1024).toFixed(0)} KiB, init median ${median(initRunsMs).toFixed(1)} ms`,
      );
      return {
        entry: typeof entry === 'string' ? name : 'sdk-only',
        ...size,
        initMs: median(initRunsMs),
        initRunsMs,
      };
    };
    const sdkOnly = await measureOne({ contents: SDK_ONLY }, 'sdk-only');
    const figures: ColdStartFigure[] = [];
    for (const e of ENTRIES)
      figures.push(await measureOne(join(repoRoot, e), e.replace(/^functions\/|\.ts$/g, '')));
    const label = 'bundle of the SDK clients only';
    const rows: Row[] = figures.flatMap((f) => [
      {
        section: 'cold-start',
        metric: `${f.entry} bundle size (minified)`,
        unit: 'KiB',
        value: f.bytes / 1024,
        baseline: sdkOnly.bytes / 1024,
        baselineLabel: label,
        better: 'lower' as const,
        note: `gzip ${(f.gzipBytes / 1024).toFixed(0)} KiB`,
      },
      {
        section: 'cold-start',
        metric: `${f.entry} module init (median of ${runs})`,
        unit: 'ms',
        value: f.initMs,
        baseline: sdkOnly.initMs,
        baselineLabel: label,
        better: 'lower' as const,
      },
    ]);
    return { rows, details: { runs, sdkOnly, figures } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
