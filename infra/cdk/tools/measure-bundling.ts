/**
 * Measures the two ways of packaging the AWS SDK v3 in our Lambda bundles, so the choice in
 * `lambda-defaults.ts` rests on figures (written up in docs/deploy.md):
 *   - `bundled`: esbuild inlines `@aws-sdk/*` (and `@smithy/*`) into the one output file;
 *   - `external`: they are left out and resolved at run time (on Lambda, from the SDK that the
 *     nodejs runtime ships in /var/runtime/node_modules; here, from the project's node_modules).
 *
 * For each entry and variant it reports the bundle size (raw and gzip, which is what the Lambda
 * deployment package is), what each package weighs in it (esbuild's metafile: AWS SDK, zod, undici,
 * hono, Powertools, our code), and the module-init time: a fresh `node` process imports the bundle and
 * prints how long `import()` took; the median of several runs is kept.
 *
 * Usage: `npx tsx infra/cdk/tools/measure-bundling.ts [entry.ts ...] [--runs 11]`
 * (entries default to the three handlers in functions/).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleLikeCdk, bytesByGroup, type PackageGroup, repoRoot } from './bundle.js';

interface Variant {
  name: 'bundled' | 'external';
  external: string[];
}

const VARIANTS: Variant[] = [
  { name: 'bundled', external: [] },
  // What NodejsFunction externalises for `@aws-sdk/*` with the sdkV3ExcludeSmithyPackages flag on.
  { name: 'external', external: ['@aws-sdk/*', '@smithy/*'] },
];

interface Row {
  entry: string;
  variant: Variant['name'];
  bytes: number;
  gzipBytes: number;
  initMsMedian: number;
  initMsMin: number;
  initMsMax: number;
  /** Bytes of minified output per package group. */
  bytesByGroup: Partial<Record<PackageGroup, number>>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Time one `import()` of the bundle in a brand-new process (no module cache, no JIT warm-up). */
function timeImport(file: string): number {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t0));`;
  const out = execFileSync(
    process.execPath,
    ['--no-warnings', '--enable-source-maps', '--input-type=module', '-e', script],
    {
      // Same region/credential-free environment a Lambda module init sees before the first call.
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-3', NODE_ENV: 'production' },
      encoding: 'utf8',
    },
  );
  return Number(out);
}

interface Built {
  entry: string;
  variant: Variant['name'];
  outfile: string;
  bytes: number;
  gzipBytes: number;
  bytesByGroup: Partial<Record<PackageGroup, number>>;
  samples: number[];
}

async function bundle(entry: string, variant: Variant, workDir: string): Promise<Built> {
  const outDir = join(workDir, variant.name, entry.replace(/[^a-z0-9]+/gi, '_'));
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'index.mjs');
  const built = await bundleLikeCdk(entry, { outfile, external: variant.external, sourcemap: true });
  return {
    entry,
    variant: variant.name,
    outfile,
    bytes: built.bytes,
    gzipBytes: built.gzipBytes,
    bytesByGroup: Object.fromEntries(bytesByGroup(built)),
    samples: [],
  };
}

/**
 * Times the variants of one entry in alternation (A, B, A, B, ...), so a change in machine load
 * during the measurement affects both alike.
 */
function timeAlternating(builds: Built[], runs: number): Row[] {
  for (const b of builds) timeImport(b.outfile); // warms the OS file cache; not counted
  for (let i = 0; i < runs; i++) {
    for (const b of builds) b.samples.push(timeImport(b.outfile));
  }
  return builds.map((b) => ({
    entry: b.entry,
    variant: b.variant,
    bytes: b.bytes,
    gzipBytes: b.gzipBytes,
    initMsMedian: median(b.samples),
    initMsMin: Math.min(...b.samples),
    initMsMax: Math.max(...b.samples),
    bytesByGroup: b.bytesByGroup,
  }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runsFlag = args.indexOf('--runs');
  const runs = runsFlag >= 0 ? Number(args.splice(runsFlag, 2)[1]) : 11;
  const entries =
    args.length > 0 ? args : ['api', 'worker', 'poller', 'feeds'].map((n) => `functions/${n}.ts`);
  for (const entry of entries) {
    if (!existsSync(entry)) throw new Error(`measure-bundling: entry ${entry} does not exist`);
  }

  const workDir = mkdtempSync(join(tmpdir(), 'relay-bundling-'));
  // The `external` bundles resolve @aws-sdk/* from here, as Lambda resolves them from /var/runtime.
  symlinkSync(join(repoRoot, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  try {
    const rows: Row[] = [];
    for (const entry of entries) {
      const builds = await Promise.all(VARIANTS.map((v) => bundle(resolve(entry), v, workDir)));
      rows.push(...timeAlternating(builds, runs));
    }
    const table = rows.map((r) => ({
      entry: r.entry.replace(`${repoRoot}/`, ''),
      variant: r.variant,
      'size KiB': (r.bytes / 1024).toFixed(0),
      'gzip KiB': (r.gzipBytes / 1024).toFixed(0),
      'init ms (median)': r.initMsMedian.toFixed(1),
      'init ms (min-max)': `${r.initMsMin.toFixed(1)}-${r.initMsMax.toFixed(1)}`,
    }));
    console.table(table);
    const groups: PackageGroup[] = ['AWS SDK', 'zod', 'undici', 'hono', 'Powertools', 'ours', 'other'];
    console.log('KiB of minified output per package group (esbuild metafile):');
    console.table(
      rows.map((r) => ({
        entry: r.entry.replace(`${repoRoot}/`, ''),
        variant: r.variant,
        ...Object.fromEntries(groups.map((g) => [g, ((r.bytesByGroup[g] ?? 0) / 1024).toFixed(0)])),
      })),
    );
    writeFileSync(join(workDir, 'results.json'), JSON.stringify(rows, null, 2));
    console.log(`node ${process.version}, ${runs} runs per bundle; raw results in ${workDir}/results.json`);
  } finally {
    rmSync(join(workDir, 'node_modules'));
  }
}

await main();
